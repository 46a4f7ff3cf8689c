/** The HTTP application: handlers over services, the API's middleware, docs, and the server's wrapping. */
import {
  Etag,
  FileSystem,
  HttpApiBuilder,
  HttpIncomingMessage,
  HttpMiddleware,
  HttpPlatform,
  HttpServer,
  HttpServerResponse,
  Path
} from "@effect/platform"
import { Context, Effect, FiberRef, Layer, Option, Scope } from "effect"
import { Accounts } from "./Accounts/Accounts.ts"
import { AuthenticationLive, OptionalAuthenticationLive } from "./Accounts/Authentication.ts"
import { AccountsHttp } from "./Accounts/Http.ts"
import { Passwords } from "./Accounts/Passwords.ts"
import { Tokens } from "./Accounts/Tokens.ts"
import { AdminHttp, OperatorAuthenticationLive } from "./Admin/Http.ts"
import { Api } from "./Api.ts"
import { Bookings } from "./Bookings/Bookings.ts"
import { BookingsHttp } from "./Bookings/Http.ts"
import { DocsPageLive } from "./Edge/DocsPage.ts"
import { edge } from "./Edge/Edge.ts"
import { ApiFailures, errorResponses } from "./ErrorResponses.ts"
import { Events } from "./Events/Events.ts"
import { EventsHttp } from "./Events/Http.ts"
import { HealthHttp } from "./Health/Http.ts"
import { Holds } from "./Holds/Holds.ts"
import { HoldsHttp } from "./Holds/Http.ts"
import { Idempotency } from "./Idempotency/Idempotency.ts"
import { REPLAYED_HEADER } from "./Idempotency/IdempotencyKey.ts"
import { AppConfig } from "./Platform/Config.ts"
import { RequestLog } from "./Platform/Logging.ts"
import { requestMetrics } from "./Telemetry/Metrics.ts"
import { TicketsHttp } from "./Tickets/Http.ts"
import { Tickets } from "./Tickets/Tickets.ts"
import { TicketTypesHttp } from "./TicketTypes/Http.ts"
import { TicketTypes } from "./TicketTypes/TicketTypes.ts"
import { WaitlistHttp } from "./Waitlist/Http.ts"
import { Waitlist } from "./Waitlist/Waitlist.ts"
import { WebhooksHttp } from "./Webhooks/Http.ts"
import { Webhooks } from "./Webhooks/Webhooks.ts"

const ServicesLive = Layer.mergeAll(
  Accounts.layer,
  Events.layer,
  // Ticket types are seen as their event is: they ask Events.
  TicketTypes.layer.pipe(Layer.provide(Events.layer)),
  // The door asks Events who organizes an event.
  Tickets.layer.pipe(Layer.provide(Events.layer)),
  Bookings.layer,
  Holds.layer,
  Waitlist.layer,
  Webhooks.layer,
  Idempotency.layer,
  AuthenticationLive,
  OptionalAuthenticationLive,
  OperatorAuthenticationLive
).pipe(
  Layer.provide(Passwords.layer),
  Layer.provide(Tokens.layer)
)

const ApiLive = HttpApiBuilder.api(Api).pipe(
  Layer.provide([
    HealthHttp,
    AccountsHttp,
    EventsHttp,
    TicketTypesHttp,
    BookingsHttp,
    HoldsHttp,
    WaitlistHttp,
    TicketsHttp,
    WebhooksHttp,
    AdminHttp
  ]),
  Layer.provide(ServicesLive)
)

/** CORS only when CORS_ORIGINS lists origins: browsers elsewhere get no access by default. */
const CorsLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ corsOrigins }) =>
    corsOrigins.length === 0
      ? Layer.empty
      // Browsers hide other response headers from scripts: paging lives in two, replays are marked in one.
      : HttpApiBuilder.middlewareCors({ allowedOrigins: corsOrigins, exposedHeaders: [REPLAYED_HEADER, "X-Total-Count", "Link"] }))
)

/** The app with its outer layers; request metrics are labelled by the router's own routes. */
const ServeLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const app = yield* HttpApiBuilder.httpApp
    const { routes } = yield* HttpApiBuilder.Router.router
    const { maxBodyBytes, server } = yield* AppConfig
    const log = yield* RequestLog
    // Wrapping the app itself (not via serve's middleware, which only observes a response already
    // sent) lets the edge shape every response.
    const served = edge({ metrics: requestMetrics(routes), deadlineMs: server.deadlineMs, log })(errorResponses(maxBodyBytes)(app))
    // Requests run in the context the server is given here. The API's handlers and middleware carry
    // the services they were built with, so it holds only what the platform reads per request, and
    // the body limit. The platform copies a request's context five times or more (adding the
    // request, its scope, its route, then each handler's services): with all of the process's
    // services (35) in it, that was a tenth of a trivial request's cost.
    yield* HttpServer.serveEffect(served).pipe(
      Effect.mapInputContext((context: Context.Context<ServerServices>) =>
        Context.add(
          Context.pick(HttpServer.HttpServer, HttpPlatform.HttpPlatform, FileSystem.FileSystem, Path.Path, Etag.Generator, Scope.Scope)(
            context
          ),
          HttpIncomingMessage.MaxBodySize,
          Option.some(FileSystem.Size(maxBodyBytes))
        )
      )
    )
  })
)

type ServerServices = HttpServer.HttpServer | HttpPlatform.HttpPlatform | FileSystem.FileSystem | Path.Path | Etag.Generator | Scope.Scope

/**
 * `GET /` and `GET /api` lead to the docs. 302, not 308: a permanent redirect is cached by browsers
 * for good, and either path may one day serve something of its own.
 */
const ToDocs = HttpApiBuilder.Router.use((router) =>
  Effect.forEach(["/", "/api"] as const, (path) => router.get(path, Effect.succeed(HttpServerResponse.redirect("/docs", { status: 302 }))))
)

/**
 * Serves the API on whatever `HttpServer` is provided (a Node server in main, a test server in
 * tests). Needs persistence, a JobQueue, QueueHealth, AppConfig, the Inventory engine (one per
 * process, shared with the workers, so each event has one line) and CatalogueChanges (one per
 * process too: the services and the engine, workers included, say when the catalogue changed;
 * the listing's cache in EventsHttp listens).
 */
export const HttpLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ telemetry }) =>
    Option.isSome(telemetry.otlp)
      ? ServeLive
      // No tracer is configured: spans per request, handler and query would be built and thrown away.
      : ServeLive.pipe(
        HttpMiddleware.withTracerDisabledWhen(() => true),
        (layer) => Layer.locally(layer, FiberRef.currentTracerEnabled, false)
      ))
).pipe(
  Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]),
  Layer.provide(DocsPageLive),
  Layer.provide(ToDocs),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
  Layer.provide(ApiFailures),
  Layer.provide(CorsLive),
  Layer.provide(ApiLive)
)
