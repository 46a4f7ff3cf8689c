/**
 * Baselines for `npm run bench`: a one-endpoint HttpApi server on our @effect packages, with no
 * database and no middleware (GET /ping: the roof for any endpoint of ours), and beside it POST
 * /book, a booking's shape with no engine and no database: the real `BookTickets` payload, the
 * real `Authentication` middleware with a constant caller, and a `Booking` (event included) as the
 * 201. It is the roof for a booking on this stack: what decoding, authenticating and encoding a
 * booking costs before any ticket is sold. PORT from argv.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"
import { Booking, BookTickets } from "../../src/Domain/Booking.ts"
import type { EventId, TicketTypeId, UserId } from "../../src/Domain/Ids.ts"
import { Authentication } from "../../src/Edge/Authentication.ts"

class Ceiling extends HttpApi.make("ceiling")
  .add(HttpApiGroup.make("ping").add(HttpApiEndpoint.get("ping", "/ping").addSuccess(Schema.Struct({ ok: Schema.Boolean }))))
  .add(
    HttpApiGroup.make("book")
      .add(HttpApiEndpoint.post("book", "/book").setPayload(BookTickets).addSuccess(Booking, { status: 201 }))
      .middleware(Authentication)
  )
{}

const PingLive = HttpApiBuilder.group(Ceiling, "ping", (handlers) => handlers.handle("ping", () => Effect.succeed({ ok: true })))

const when = new Date("2099-06-01T00:00:00Z")
const event = {
  id: 1 as EventId,
  title: "Event 1",
  description: "",
  date: when,
  location: "Arena",
  totalTickets: 1_000_000,
  availableTickets: 999_999,
  organizerId: 1 as UserId,
  status: "PUBLISHED" as const,
  salesStart: null,
  salesEnd: null,
  currency: "EUR",
  createdAt: when,
  updatedAt: when
}
let bookings = 0
const BookLive = HttpApiBuilder.group(Ceiling, "book", (handlers) =>
  handlers.handle("book", ({ payload }) =>
    Effect.succeed({
      id: ++bookings as Booking["id"],
      userId: 2 as UserId,
      eventId: payload.eventId,
      ticketsCount: payload.ticketsCount ?? 1,
      items: [{ ticketTypeId: 1 as TicketTypeId, name: "General admission", count: payload.ticketsCount ?? 1 }],
      status: "CONFIRMED" as const,
      cancelledAt: null,
      createdAt: new Date(),
      event
    })))

// Any bearer token will do: the caller is a constant customer.
const AuthenticationLive = Layer.succeed(Authentication, { bearer: () => Effect.succeed({ id: 2 as UserId, role: "CUSTOMER" as const }) })

// Request spans off, as our server has them with no tracer configured.
const ServerLive = HttpApiBuilder.serve().pipe(
  HttpMiddleware.withTracerDisabledWhen(() => true),
  Layer.provide(HttpApiBuilder.api(Ceiling).pipe(Layer.provide([PingLive, BookLive]), Layer.provide(AuthenticationLive))),
  HttpServer.withLogAddress,
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.argv[2]), host: "127.0.0.1" })),
  Layer.tap(() => Effect.sync(() => process.send?.("ready")))
)

Layer.launch(ServerLive).pipe(NodeRuntime.runMain)
