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
import { type HttpApp, HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Cause, Context, Effect, Exit, FiberId, HashSet } from "effect"
import { randomUUID } from "node:crypto"
import { nameRequest, type RequestLog } from "../Platform/Logging.ts"
import type { RequestMetrics } from "../Telemetry/Metrics.ts"
import { errorResponseOf } from "./ErrorResponse.ts"
import { RequestTimeout } from "./HttpErrors.ts"

export interface EdgeOptions {
  readonly metrics: RequestMetrics
  readonly deadlineMs: number
  readonly log: RequestLog["Type"]
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
const API_HEADERS = Object.entries({ ...SECURITY_HEADERS, "content-security-policy": CSP })
const DOCS_HEADERS = Object.entries({ ...SECURITY_HEADERS, "content-security-policy": DOCS_CSP })

const deadlineFiberId = FiberId.runtime(-503, 0)

/**
 * Sets the edge's headers on Node's response, to which the platform adds the app's own headers
 * when it writes it. Merged into the app's response instead, they cost a copy of it per header,
 * or more with `HttpServerResponse.setHeaders` (it merges with `{ ...a, ...b }`, which V8 runs
 * slowly, property by property, for a dozen); Node checks each header once either way.
 */
const setEdgeHeaders = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse,
  requestId: string
) => {
  const node = NodeHttpServerRequest.toServerResponse(request)
  for (const [name, value] of request.url.startsWith("/docs") ? DOCS_HEADERS : API_HEADERS) node.setHeader(name, value)
  node.setHeader("x-request-id", requestId)
  if (response.status === 503 && response.headers["retry-after"] === undefined) node.setHeader("retry-after", "1")
}

const pastDeadline = <E>(exit: Exit.Exit<unknown, E>) =>
  Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) && HashSet.has(Cause.interruptors(exit.cause), deadlineFiberId)

/**
 * Every response gets the edge's headers, log line and metrics. The app runs in the request's own
 * fiber: a plain timer interrupts that fiber at the deadline (the platform runs the request
 * uninterruptibly but its handler interruptibly, so the work stops and its transaction rolls back,
 * and the edge, outside the handler, answers 503). A child fiber per request (or
 * `Effect.timeoutTo`, which races two) cost about as much as a whole trivial request. The
 * platform interrupts the same fiber when the client goes away: its work stops too.
 */
export const edge =
  ({ deadlineMs, log, metrics }: EdgeOptions) => <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const started = performance.now()
      const incoming = request.headers["x-request-id"]
      const requestId = incoming !== undefined && VALID_REQUEST_ID.test(incoming) ? incoming : randomUUID()
      nameRequest(request, requestId)
      const timer = setTimeout(() => fiber.unsafeInterruptAsFork(deadlineFiberId), deadlineMs)
      return Effect.flatMap(Effect.exit(app), (exit) => {
        clearTimeout(timer)
        const response = Exit.isSuccess(exit)
          ? exit.value
          : pastDeadline(exit)
          ? errorResponseOf(RequestTimeout, new RequestTimeout({ message: `The request was not answered within ${deadlineMs} ms` }))
          : undefined
        // Unanswered, the client having gone away: logged and counted as the platform calls it, 499.
        const status = response?.status ?? 499
        const elapsedMs = performance.now() - started
        metrics.record(request.method, request.url, status, elapsedMs / 1000)
        const query = request.url.indexOf("?")
        const logged = log(fiber, {
          requestId,
          method: request.method,
          path: query === -1 ? request.url : request.url.slice(0, query),
          status,
          durationMs: Math.round(elapsedMs)
        })
        if (response === undefined) return Effect.zipRight(logged, exit)
        setEdgeHeaders(request, response, requestId)
        return Effect.as(logged, response)
      })
    })
