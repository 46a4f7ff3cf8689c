/**
 * Node's HTTP server, owned here rather than by `NodeHttpServer.layer`, for three reasons:
 * - it listens only once the app's handler is attached (NodeHttpServer listens when its layer is
 *   built, before `serve`: a connection accepted in between is parsed and never answered);
 * - its timeouts come from AppConfig instead of Node's minutes-long defaults;
 * - shutdown drains keep-alive connections: from then on every response says `Connection: close`,
 *   idle connections are closed at once, and whatever is left after SHUTDOWN_TIMEOUT_MS is cut.
 */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { AppConfig } from "../Platform/Config.ts"
import { shutdownStep } from "../Platform/Lifecycle.ts"
import { Refusal } from "../Platform/Refusal.ts"

const HttpServerLive = Layer.scoped(
  HttpServer.HttpServer,
  Effect.gen(function*() {
    const { port, server: settings } = yield* AppConfig
    const server = createServer({
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.receiveTimeoutMs,
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      // Node enforces the two timeouts above only when it sweeps its connections (every 30 s by default).
      connectionsCheckingInterval: Math.min(1000, settings.headersTimeoutMs)
    })
    // A malformed or too slow request gets an answer in the API's error shape, not Node's bare one.
    server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
      const started = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent === true
      if (error.code === "ECONNRESET" || !socket.writable || started) return void socket.destroy()
      const [status, code, message] = error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "ClientTimeout", "The request did not arrive in time"]
        : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "HeadersTooLarge", "The request headers are too large"]
        : [400, "BadRequest", "The request is not valid HTTP"]
      const body = JSON.stringify({ message, status, code })
      socket.end(
        `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${
          Buffer.byteLength(body)
        }\r\nConnection: close\r\n\r\n${body}`
      )
    })

    return HttpServer.make({
      address: { _tag: "TcpAddress", hostname: "0.0.0.0", port },
      serve: (app, middleware) =>
        Effect.gen(function*() {
          const handler = yield* NodeHttpServer.makeHandler(app, middleware!)
          const inFlight = new Set<ServerResponse>()
          let draining = false
          server.on("request", (request, response) => {
            inFlight.add(response)
            response.once("close", () => inFlight.delete(response))
            if (draining) response.setHeader("connection", "close")
            handler(request, response)
          })

          const drain = Effect.async<void>((resume) => {
            draining = true
            // Responses still to be written close their connection once sent.
            for (const response of inFlight) if (!response.headersSent) response.setHeader("connection", "close")
            server.close(() => resume(Effect.void))
            server.closeIdleConnections()
          }).pipe(
            // A finalizer is uninterruptible, and so would be this wait, timeout or not.
            Effect.interruptible,
            Effect.timeoutOption(`${settings.shutdownTimeoutMs} millis`),
            Effect.flatMap((drained) => {
              if (drained._tag === "Some") return Effect.void
              server.closeAllConnections()
              return Effect.logWarning(`${inFlight.size} requests still running after ${settings.shutdownTimeoutMs} ms: connections closed`)
            }),
            shutdownStep("the HTTP server", () => `requests in flight: ${inFlight.size}`)
          )

          yield* Effect.acquireRelease(
            Effect.async<void>((resume) => {
              server.once("error", (error) =>
                resume(Effect.die(
                  new Refusal({
                    message: `cannot listen on PORT ${port} (${error.message}): set PORT to a free port, or stop what uses it`
                  })
                )))
              server.listen(port, () => resume(Effect.void))
            }),
            () => drain
          )
        })
    })
  })
)

/** The HTTP server with Node's platform services (file responses, etags, the file system). */
export const NodeServerLive = Layer.mergeAll(HttpServerLive, NodeHttpServer.layerContext)
