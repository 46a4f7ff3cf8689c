/**
 * The server's edge: what every request gets on its way in and out, in one wrapper (each wrapper
 * would add its own steps and a copy of the response per request; on a trivial request four of
 * them cost more than the endpoint):
 *
 * - a request id: the caller's `x-request-id` when it is sane, else a new one; echoed back, and
 *   attached to every log line written while the request runs;
 * - a deadline: 503 RequestTimeout when the app has not answered within it, interrupting its work,
 *   so that a request stuck on a lock or a dead dependency cannot hold its connection for ever;
 * - security headers equivalent to helmet's defaults;
 * - `Retry-After` on a 503 (a full booking line, a failed batch, the database not ready): typed
 *   errors carry no headers in HttpApi, so it is added here;
 * - one log line (method, path, status, duration) and the request metrics.
 */
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Context, Effect, Exit, Fiber, FiberId, FiberRef, FiberRefs, HashSet, Option } from "effect"
import { randomUUID } from "node:crypto"
import { RequestTimeout } from "../Domain/Errors.ts"
import type { RequestMetrics } from "../Telemetry/Metrics.ts"
import { errorResponseOf } from "./ErrorResponse.ts"

export interface EdgeOptions {
  readonly metrics: RequestMetrics
  readonly deadlineMs: number
}

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/

// helmet's defaults (v8), written out: JSON responses need nothing looser.
const CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
  "upgrade-insecure-requests"
].join(";")

// The docs page (Scalar) inlines its script and the OpenAPI document, and compiles WebAssembly:
// it needs inline scripts and wasm, nothing remote.
const DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'")

const SECURITY_HEADERS: Record<string, string> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0"
}
const API_HEADERS = { ...SECURITY_HEADERS, "content-security-policy": CSP }
const DOCS_HEADERS = { ...SECURITY_HEADERS, "content-security-policy": DOCS_CSP }

const deadlineFiberId = FiberId.runtime(-503, 0)

/** The headers the edge adds to `response`, built in one object: the response is copied once. */
const edgeHeaders = (request: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse, requestId: string) => {
  const headers: Record<string, string> = { ...(request.url.startsWith("/docs") ? DOCS_HEADERS : API_HEADERS), "x-request-id": requestId }
  if (response.status === 503 && response.headers["retry-after"] === undefined) headers["retry-after"] = "1"
  return headers
}

/**
 * Runs `app` in a child fiber watched by a plain timer (`Effect.timeoutTo` races two forked fibers
 * and a sleep, which cost about as much as a whole trivial request); past the deadline the child
 * is interrupted and the answer is a 503.
 */
const withinDeadline = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>, deadlineMs: number) =>
  Effect.flatMap(Effect.forkDaemon(app), (work) => {
    const timer = setTimeout(() => work.unsafeInterruptAsFork(deadlineFiberId), deadlineMs)
    return Fiber.await(work).pipe(
      Effect.onInterrupt(() => Fiber.interrupt(work)), // the client went away: so does the work
      Effect.ensuring(Effect.sync(() => clearTimeout(timer))),
      // The pre-response handlers the work added (CORS, rate-limit headers) apply to the answer. Only
      // that one FiberRef is copied back: joining all of them (Fiber.inheritAll) costs a diff per request.
      Effect.zipLeft(Effect.suspend(() => {
        const handlers = FiberRefs.getOrDefault(work.getFiberRefs(), HttpApp.currentPreResponseHandlers)
        return Option.isNone(handlers) ? Effect.void : FiberRef.set(HttpApp.currentPreResponseHandlers, handlers)
      })),
      Effect.flatMap((exit) =>
        Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) && HashSet.has(Cause.interruptors(exit.cause), deadlineFiberId)
          ? Effect.succeed(
            errorResponseOf(RequestTimeout, new RequestTimeout({ message: `The request was not answered within ${deadlineMs} ms` }))
          )
          : exit
      )
    )
  })

export const edge = ({ deadlineMs, metrics }: EdgeOptions) => <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    const incoming = request.headers["x-request-id"]
    const requestId = incoming !== undefined && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    return withinDeadline(app, deadlineMs).pipe(
      Effect.flatMap((response) => {
        const elapsedMs = performance.now() - started
        metrics.record(request.method, request.url, response.status, elapsedMs / 1000)
        return Effect.as(
          Effect.annotateLogs(Effect.logInfo("request"), {
            method: request.method,
            path: request.url.split("?")[0],
            status: response.status,
            durationMs: Math.round(elapsedMs)
          }),
          HttpServerResponse.setHeaders(response, edgeHeaders(request, response, requestId))
        )
      }),
      Effect.annotateLogs("requestId", requestId)
    )
  })
