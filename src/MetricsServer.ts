/**
 * `GET /metrics` in Prometheus' text format, on a port of its own (METRICS_PORT), in the API
 * process and in `npm run worker` processes alike (emails are counted where the workers run).
 * Unset, no port is opened. Kept off the API's port and router: a scrape is not an API call, needs
 * no token, and never passes through the request path's middleware.
 */
import { Effect, Layer, Option, Runtime } from "effect"
import { createServer } from "node:http"
import { QueueHealth } from "./Jobs/QueueHealth.ts"
import { recordQueueHealth } from "./Jobs/QueueMetrics.ts"
import { AppConfig } from "./Platform/Config.ts"
import { Refusal } from "./Platform/Refusal.ts"
import { CONTENT_TYPE, scrape } from "./Telemetry/Prometheus.ts"

const notFound = JSON.stringify({ message: "Only GET /metrics is served on this port", status: 404, code: "RouteNotFound" })

export const MetricsServerLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { telemetry } = yield* AppConfig
    if (Option.isNone(telemetry.metricsPort)) return
    const port = telemetry.metricsPort.value
    const health = yield* QueueHealth

    // The outbox and queue gauges are read at scrape time; if the database is away the rest still answers.
    const exposition = health.report.pipe(
      Effect.flatMap(recordQueueHealth),
      Effect.catchAllCause((cause) => Effect.logWarning("metrics: reading the queue health failed", cause)),
      Effect.zipRight(scrape)
    )
    const run = Runtime.runPromise(yield* Effect.runtime<never>())

    const server = createServer((request, response) => {
      if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
        return void response.writeHead(404, { "content-type": "application/json" }).end(notFound)
      }
      run(exposition).then(
        (text) => response.writeHead(200, { "content-type": CONTENT_TYPE }).end(text),
        () => response.writeHead(500).end()
      )
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.once("error", (error) =>
          resume(Effect.die(
            new Refusal({
              message: `cannot listen on METRICS_PORT ${port} (${error.message}): set METRICS_PORT to a free port, or stop what uses it`
            })
          )))
        server.listen(port, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections() // a scraper's keep-alive connection must not hold shutdown
        })
    )
    yield* Effect.logInfo(`metrics on http://0.0.0.0:${port}/metrics`)
  })
)
