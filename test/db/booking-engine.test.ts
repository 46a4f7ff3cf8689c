/** The per-event booking engine on real PostgreSQL: batches decide as serial bookings would, across processes too. */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Logger, LogLevel, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { inject } from "vitest"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import { AppConfig } from "../../src/Config.ts"
import { Unauthorized } from "../../src/Domain/Errors.ts"
import type { EventId, IdempotencyId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Outbox } from "../../src/Jobs/Outbox.ts"
import { Transactions } from "../../src/Platform/Transactions.ts"
import { bookBatch, looseRules } from "../support/bookings.ts"
import { TestDatabaseLive } from "../support/database.ts"
import { createEvent, PostgresServer, request, signUp } from "../support/server.ts"

const ledger = (eventId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ available: number; booked: number; bookings: number; transactions: number }>`
      SELECT e.available_tickets AS available, COALESCE(SUM(b.tickets_count), 0)::int AS booked,
             COUNT(b.id)::int AS bookings, COUNT(DISTINCT b.created_at)::int AS transactions
      FROM events e LEFT JOIN bookings b ON b.event_id = e.id
      WHERE e.id = ${eventId} GROUP BY e.id`
    return row!
  })

// One customer books many tickets here: the per-customer limit is not the subject.
const settings = { maxTicketsPerCustomerPerEvent: 1_000_000 }

/** The booking service as the server runs it (outbox included), on a fresh database. */
const EngineTest = Bookings.layer.pipe(
  Layer.provideMerge(Inventory.layer),
  Layer.provideMerge(Layer.mergeAll(JobQueue.layer, Transactions.layer, BookingsRepo.layer, InventoryRepo.layer)),
  Layer.provide(Outbox.layer),
  Layer.provideMerge(AppConfig.layerTest(settings)),
  Layer.provideMerge(TestDatabaseLive),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

/** A customer and an event with `tickets` tickets, written directly. */
const aScene = (tickets: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [customer] = yield* sql<{ id: UserId }>`
      INSERT INTO users (email, password_hash, role)
      VALUES (${`engine-${Math.random().toString(36).slice(2)}@example.com`}, 'x', 'CUSTOMER') RETURNING id`
    const [event] = yield* sql<{ id: EventId }>`
      INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
      VALUES (${customer!.id}, 'Conf', 'Hall', now() + interval '1 day', ${tickets}, ${tickets}) RETURNING id`
    return { customer: customer!.id, event: event!.id }
  }).pipe(Effect.orDie)

/** A second API instance on the same database: its own pool, its own booking lines. */
const anotherInstance = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [{ url }] = yield* sql<{ url: string }>`SELECT current_database() AS url`
  const server = new URL(inject("databaseUrl"))
  server.pathname = `/${url}`
  const context = yield* Layer.build(
    Bookings.layer.pipe(
      Layer.provide(Inventory.layer),
      Layer.provide(JobQueue.layer),
      Layer.provide(Outbox.layer),
      Layer.provide(Layer.mergeAll(BookingsRepo.layer, InventoryRepo.layer)),
      Layer.provide(Transactions.layer),
      Layer.provide(AppConfig.layerTest(settings)),
      Layer.provide(PgClient.layer({ url: Redacted.make(server.toString()), maxConnections: 10 }))
    )
  )
  return Context.get(context, Bookings)
})

// Each layer sits inside its own describe: @effect/vitest's `it` is one shared object that every
// layer(...) call rebinds, so tests must register right after their layer is made.
describe("the booking engine on PostgreSQL", () => {
  layer(EngineTest, { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("one batch decides exactly as serial bookings in its order: a later, smaller request may still fit", () =>
      Effect.gen(function*() {
        const { customer: userId, event } = yield* aScene(6)
        const { plan } = yield* Effect.flatMap(
          Transactions,
          (transactions) =>
            transactions.run(
              Effect.flatMap(InventoryRepo, (repo) =>
                repo.applyAll(event, [3, 5, 2, 1, 1].map((ticketsCount) => ({ _tag: "Book", userId, ticketsCount })), looseRules))
            )
        )

        expect(plan.outcomes.map(Either.match({
          onLeft: (error) => `${error._tag} ${"available" in error ? error.available : ""}`,
          onRight: (decision) =>
            decision._tag === "Booking" ? `booked ${decision.booking.ticketsCount}, ${decision.availableAfter} left` : ""
        }))).toEqual(["booked 3, 3 left", "NotEnoughTickets 3", "booked 2, 1 left", "booked 1, 0 left", "NotEnoughTickets 0"])
        const ids = plan.outcomes.filter(Either.isRight).map((o) => o.right._tag === "Booking" ? o.right.booking.id : 0)
        expect(ids).toEqual([...ids].sort((a, b) => a - b))
        expect(yield* ledger(event)).toMatchObject({ available: 0, booked: 6, bookings: 3, transactions: 1 })
      }))

    it.effect("200 bookings at once on 50 tickets: 50 booked in far fewer transactions than bookings", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(50)
        const bookings = yield* Bookings
        const results = yield* Effect.all(
          Array.from({ length: 200 }, () => Effect.either(bookings.book(customer, { eventId: event, ticketsCount: 1 }))),
          { concurrency: "unbounded" }
        )
        expect(results.filter(Either.isRight)).toHaveLength(50)
        expect(results.filter(Either.isLeft).every((r) => r.left._tag === "NotEnoughTickets")).toBe(true)
        const state = yield* ledger(event)
        expect(state).toMatchObject({ available: 0, booked: 50, bookings: 50 })
        expect(state.transactions).toBeLessThan(10) // one lone booking, then the line in batches
      }))

    it.effect("two API instances on one database never oversell: the event's row lock serializes their batches", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(50)
        const instances = [yield* Bookings, yield* anotherInstance]
        const results = yield* Effect.all(
          Array.from(
            { length: 300 },
            (_, i) => Effect.either(instances[i % 2]!.book(customer, { eventId: event, ticketsCount: (i % 3) + 1 }))
          ),
          { concurrency: "unbounded" }
        )
        const booked = results.filter(Either.isRight).reduce((sum, r) => sum + r.right.ticketsCount, 0)
        expect(yield* ledger(event)).toMatchObject({ available: 50 - booked, booked })
        expect(booked).toBeGreaterThan(45) // sizes 1..3 on 50 tickets: only a short tail can be left
        expect(results.filter(Either.isLeft).every((r) => r.left._tag === "NotEnoughTickets")).toBe(true)
      }).pipe(Effect.scoped))

    it.effect("one Idempotency id, 40 bookings at once through two instances (or thrice in one batch): one booking, and every call answers it", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(100)
        const instances = [yield* Bookings, yield* anotherInstance]
        const id = randomUUID() as IdempotencyId
        const results = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) => instances[i % 2]!.book(customer, { eventId: event, ticketsCount: 2 }, id)),
          { concurrency: "unbounded" }
        )
        expect(new Set(results.map((booking) => booking.id)).size).toBe(1)
        // Within one batch too.
        const again = randomUUID() as IdempotencyId
        const batch = yield* Effect.flatMap(
          Transactions,
          (transactions) =>
            transactions.run(
              bookBatch(event, [id, again, again].map((idempotencyId) => ({ userId: customer, ticketsCount: 1, idempotencyId })))
            )
        )
        const [repeat, made, sameAgain] = batch.map(Either.getOrThrow)
        expect(repeat).toBe(results[0]!.id)
        expect(sameAgain).toBe(made)
        expect(made).not.toBe(repeat)
        expect(yield* ledger(event)).toMatchObject({ available: 97, bookings: 2 })
        // Another id books again.
        yield* instances[0]!.book(customer, { eventId: event, ticketsCount: 2 }, randomUUID() as IdempotencyId)
        expect(yield* ledger(event)).toMatchObject({ available: 95, bookings: 3 })
      }).pipe(Effect.scoped))
  })
})

describe("the booking engine over HTTP", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("a token whose account no longer exists (database reset): 401, nothing booked", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 5 })
        yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM users WHERE id = ${customer.user.id}`)

        const response = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 } })
        expect(response.status).toBe(401)
        expect(response.body).toEqual({ message: Unauthorized.accountGone.message, status: 401, code: "Unauthorized" })
        expect(yield* ledger(event.id)).toMatchObject({ available: 5, bookings: 0 })
      }))
  })
})

describe("the booking engine with a short line", () => {
  layer(PostgresServer({ booking: { maxBatch: 1, maxWaiting: 1 }, ...settings }), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("past the event's waiting line: 503 Overloaded with Retry-After, and nothing booked for it", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 1000 })
        const responses = yield* Effect.all(
          Array.from({ length: 200 }, () =>
            request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 } })),
          { concurrency: "unbounded" }
        )
        const overloaded = responses.filter((r) =>
          r.status === 503
        )
        expect(overloaded.length).toBeGreaterThan(0)
        for (const r of overloaded) {
          expect(r.body).toMatchObject({ status: 503, code: "Overloaded" })
          expect(r.headers["retry-after"]).toBe("1")
        }
        const created = responses.filter((r) => r.status === 201).length
        expect(created + overloaded.length).toBe(200)
        expect(yield* ledger(event.id)).toMatchObject({ available: 1000 - created, bookings: created })
      }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  })
})
