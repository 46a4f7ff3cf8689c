/** The HTTP application: handlers over services, the API's middleware, docs, and the server's wrapping. */
import { HttpApiBuilder, HttpApiScalar, HttpMiddleware, HttpServer, HttpServerResponse } from "@effect/platform"
import { Effect, FiberRef, Layer } from "effect"
import { Accounts } from "./Accounts/Accounts.ts"
import { AuthenticationLive } from "./Accounts/Authentication.ts"
import { AdminHttp, OperatorAuthenticationLive } from "./Admin/Http.ts"
import { AccountsHttp } from "./Accounts/Http.ts"
import { Passwords } from "./Accounts/Passwords.ts"
import { Tokens } from "./Accounts/Tokens.ts"
import { Api } from "./Api.ts"
import { Bookings } from "./Bookings/Bookings.ts"
import { BookingsHttp } from "./Bookings/Http.ts"
import { AppConfig } from "./Config.ts"
import { Events } from "./Events/Events.ts"
import { EventsHttp } from "./Events/Http.ts"
import { HealthHttp } from "./Health/Http.ts"
import { ApiFailures, errorResponses } from "./Platform/ErrorResponses.ts"
import { requestDeadline } from "./Platform/RequestDeadline.ts"
import { requestLog } from "./Platform/RequestLog.ts"
import { retryAfter } from "./Platform/RetryAfter.ts"
import { securityHeaders } from "./Platform/SecurityHeaders.ts"

const ServicesLive = Layer.mergeAll(Accounts.layer, Events.layer, Bookings.layer, AuthenticationLive, OperatorAuthenticationLive).pipe(
  Layer.provide(Passwords.layer),
  Layer.provide(Tokens.layer)
)

const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([HealthHttp, AccountsHttp, EventsHttp, BookingsHttp, AdminHttp]),
  Layer.provide(ServicesLive)
)

/** CORS only when CORS_ORIGINS lists origins: browsers elsewhere get no access by default. */
const CorsLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ corsOrigins }) =>
    corsOrigins.length === 0 ? Layer.empty : HttpApiBuilder.middlewareCors({ allowedOrigins: corsOrigins }))
)

/**
 * `GET /` and `GET /api` lead to the docs. 302, not 308: a permanent redirect is cached by browsers
 * for good, and either path may one day serve something of its own.
 */
const ToDocs = HttpApiBuilder.Router.use((router) =>
  Effect.forEach(["/", "/api"] as const, (path) => router.get(path, Effect.succeed(HttpServerResponse.redirect("/docs", { status: 302 }))))
)

/**
 * Serves the API on whatever `HttpServer` is provided (a Node server in main, a test server in
 * tests). Needs persistence, a JobQueue, QueueHealth and AppConfig.
 */
export const HttpLive = Layer.unwrapEffect(
  // Wrapping the app itself (not via serve's middleware, which only observes a response already
  // sent) lets the outer layers shape every response.
  Effect.map(HttpApiBuilder.httpApp, (app) => HttpServer.serve(requestLog(securityHeaders(retryAfter(requestDeadline(errorResponses(app)))))))
).pipe(
  // No tracer is configured: spans per request, handler and query would be built and thrown away.
  HttpMiddleware.withTracerDisabledWhen(() => true),
  (layer) => Layer.locally(layer, FiberRef.currentTracerEnabled, false),
  Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]),
  Layer.provide(HttpApiScalar.layer({ path: "/docs" })),
  Layer.provide(ToDocs),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
  Layer.provide(ApiFailures),
  Layer.provide(CorsLive),
  Layer.provide(ApiLive)
)
