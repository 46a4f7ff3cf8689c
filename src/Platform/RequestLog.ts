import { type HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect } from "effect"
import { randomUUID } from "node:crypto"
import type { RequestMetrics } from "../Telemetry/Metrics.ts"

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * One log line per request (method, path, status, duration) and a request id: taken from
 * `x-request-id` when the caller sends a sane one, echoed back, and attached to every log line
 * written while the request runs. The same figures go to the request metrics.
 */
export const requestLog = (metrics: RequestMetrics) => <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const incoming = request.headers["x-request-id"]
    const requestId = incoming !== undefined && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    const started = yield* Clock.currentTimeMillis
    return yield* app.pipe(
      Effect.tap((response) =>
        Effect.flatMap(Clock.currentTimeMillis, (finished) => {
          metrics.record(request.method, request.url, response.status, (finished - started) / 1000)
          return Effect.logInfo("request").pipe(
            Effect.annotateLogs({
              method: request.method,
              path: request.url.split("?")[0],
              status: response.status,
              durationMs: finished - started
            })
          )
        })
      ),
      Effect.map(HttpServerResponse.setHeader("x-request-id", requestId)),
      Effect.annotateLogs({ requestId })
    )
  })
