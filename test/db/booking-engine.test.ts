/** The per-event booking engine on real PostgreSQL: batches decide as serial bookings would, across processes too. */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Effect, Either, Fiber, Layer, Logger, LogLevel, Redacted, Schedule } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { inject } from "vitest"
import { AuditLog } from "../../src/Audit/AuditLog.ts"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import { BookingFailed, Unauthorized } from "../../src/Domain/Errors.ts"
import type { EventId, IdempotencyId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { applyAll, InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems } from "../../src/Inventory/Operation.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Outbox } from "../../src/Jobs/Outbox.ts"
import { AppConfig, type SettingsMap } from "../../src/Platform/Config.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { inventoryBatchCount } from "../../src/Telemetry/Metrics.ts"
import { bookBatch, bookOne, looseRules } from "../support/bookings.ts"
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
const settings = { MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 1_000_000 }

/** The booking service as the server runs it (outbox included), on a fresh database. */
const EngineTest = (overrides: SettingsMap = {}) =>
  Bookings.layer.pipe(
    Layer.provideMerge(Inventory.layer),
    Layer.provideMerge(Layer.mergeAll(JobQueue.layer, Transactions.layer, BookingsRepo.layer, InventoryRepo.layer, AuditLog.layer)),
    Layer.provide(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
    Layer.provideMerge(AppConfig.layerTest({ ...settings, ...overrides })),
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
      Layer.provide(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
      Layer.provide(Layer.mergeAll(BookingsRepo.layer, InventoryRepo.layer, AuditLog.layer)),
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
  layer(EngineTest(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("one batch decides exactly as serial bookings in its order: a later, smaller request may still fit", () =>
      Effect.gen(function*() {
        const { customer: userId, event } = yield* aScene(6)
        const { plan } = yield* Effect.flatMap(
          Transactions,
          (transactions) =>
            transactions.run(
              applyAll(
                event,
                [3, 5, 2, 1, 1].map((ticketsCount) => ({ _tag: "Book", userId, items: defaultItems(ticketsCount) })),
                looseRules
              )
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

describe("the booking engine across events", () => {
  layer(EngineTest(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("bookings spread over 20 events through two instances: transactions shared by events, none oversold, no deadlock", () =>
      Effect.gen(function*() {
        const scenes = yield* Effect.forEach(Array.from({ length: 20 }), () => aScene(10))
        const instances = [yield* Bookings, yield* anotherInstance]
        const results = yield* Effect.all(
          Array.from(
            { length: 400 },
            (_, i) => Effect.either(instances[i % 2]!.book(scenes[0]!.customer, { eventId: scenes[(i * 7) % 20]!.event, ticketsCount: 1 }))
          ),
          { concurrency: "unbounded" }
        )
        expect(results.filter(Either.isRight)).toHaveLength(200)
        expect(results.filter(Either.isLeft).every((r) => r.left._tag === "NotEnoughTickets")).toBe(true)
        for (const { event } of scenes) expect(yield* ledger(event)).toMatchObject({ available: 0, booked: 10, bookings: 10 })
        const sql = yield* SqlClient.SqlClient
        const [{ transactions }] = yield* sql<{ transactions: number }>`
          SELECT COUNT(DISTINCT created_at)::int AS transactions FROM bookings WHERE event_id IN ${sql.in(scenes.map((s) => s.event))}`
        expect(transactions).toBeLessThan(100) // 200 bookings of 20 events: batches take several events at once
      }).pipe(Effect.scoped))
    it.effect("one statement writes several events' plans: an offer made to an entry created in the same batch names its own event's entry", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const scenes = yield* Effect.forEach([1, 2], () => aScene(1))
        // Each event sold out to its customer; in one batch, a newcomer joins each waiting list and the booking is cancelled.
        const booked = yield* Effect.forEach(
          scenes,
          ({ customer, event }) => bookOne({ userId: customer, eventId: event, ticketsCount: 1 })
        )
        const [newcomer] = yield* sql<{ id: UserId }>`
          INSERT INTO users (email, password_hash, role) VALUES (${`newcomer-${randomUUID()}@example.com`}, 'x', 'CUSTOMER') RETURNING id`
        const applied = yield* Effect.flatMap(
          Transactions,
          (transactions) =>
            transactions.run(Effect.flatMap(InventoryRepo, (repo) =>
              repo.applyEach(
                scenes.map(({ customer, event }, i) => ({
                  eventId: event,
                  operations: [
                    { _tag: "Join", userId: newcomer!.id, items: defaultItems(1) },
                    { _tag: "Cancel", userId: customer, bookingId: booked[i]!.id }
                  ]
                })),
                looseRules
              )))
        )
        expect(applied.map(({ plan }) => plan.holds.inserts.length)).toEqual([1, 1])
        const offers = yield* sql<{ holdEvent: number; entryEvent: number; entryId: number }>`
          SELECT h.event_id AS "holdEvent", w.event_id AS "entryEvent", w.id AS "entryId"
          FROM holds h JOIN waitlist_entries w ON w.id = h.waitlist_entry_id
          WHERE h.event_id IN ${sql.in(scenes.map((scene) => scene.event))} ORDER BY h.event_id`
        expect(offers.map(({ entryEvent, holdEvent }) => [holdEvent, entryEvent])).toEqual(scenes.map(({ event }) => [event, event]))
        expect(applied.map(({ plan }) => plan.holds.inserts[0]!.entryId)).toEqual(offers.map(({ entryId }) => entryId))
      }))
  })
})

describe("the booking engine with one transaction at a time", () => {
  layer(EngineTest({ BOOKING_COMMITS_MAX: 1 }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
    it.effect("a shared batch that fails is retried event by event: one event's failure does not fail the other's booking", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [blocked, broken, fine] = yield* Effect.forEach([1, 2, 3], () => aScene(10))
        // Bookings of `broken` cannot be written; `blocked` is locked by another connection for now.
        yield* sql`
          CREATE FUNCTION refuse_booking() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'no bookings for this event'; END $$`
        yield* sql.unsafe(`
          CREATE TRIGGER refuse_booking BEFORE INSERT ON bookings FOR EACH ROW
          WHEN (NEW.event_id = ${broken!.event}) EXECUTE FUNCTION refuse_booking()`)
        const [{ database }] = yield* sql<{ database: string }>`SELECT current_database() AS database`
        const url = new URL(inject("databaseUrl"))
        url.pathname = `/${database}`
        const locker = new pg.Client({ connectionString: url.toString() })
        yield* Effect.promise(() => locker.connect())
        yield* Effect.promise(() => locker.query(`BEGIN; SELECT 1 FROM events WHERE id = ${blocked!.event} FOR UPDATE`))

        const bookings = yield* Bookings
        const book = (eventId: EventId) => Effect.either(bookings.book(blocked!.customer, { eventId, ticketsCount: 1 }))
        const first = yield* Effect.fork(book(blocked!.event)) // takes the only transaction, and waits for the lock
        yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.pipe(
          Effect.filterOrFail(([row]) => row!.n >= 1, () => "the first booking is not waiting for the lock yet"),
          Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds")))
        )
        const together = yield* Effect.fork(Effect.all([book(broken!.event), book(fine!.event)], { concurrency: "unbounded" }))
        // They wait inside the engine for its one transaction, where nothing outside can see them: a
        // moment lets both join the same batch (were they later, the test would still pass, but weaker).
        yield* Effect.sleep("200 millis")
        yield* Effect.promise(() => locker.query("COMMIT"))
        yield* Effect.promise(() => locker.end())

        expect(Either.isRight(yield* Fiber.join(first))).toBe(true)
        const [refused, booked] = yield* Fiber.join(together)
        expect(Either.isLeft(refused!) && refused.left).toEqual(BookingFailed.nothingBooked)
        expect(Either.isRight(booked!)).toBe(true)
        expect(yield* ledger(broken!.event)).toMatchObject({ available: 10, bookings: 0 })
        expect(yield* ledger(fine!.event)).toMatchObject({ available: 9, bookings: 1 })
      }).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.None)), Effect.orDie))
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
  layer(PostgresServer({ BOOKING_BATCH_MAX: 1, BOOKING_QUEUE_MAX: 1, BOOKING_COMMITS_MAX: 1, ...settings }), {
    excludeTestServices: true,
    timeout: 60_000
  })((it) => {
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

describe("the booking engine deciding on what it remembers", () => {
  layer(EngineTest({ HOLD_TTL_SECONDS: 3, MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 4 }), { excludeTestServices: true, timeout: 60_000 })(
    (it) => {
      /** How many engine transactions of each kind ran while `work` did. */
      const counted = <A, E, R>(work: Effect.Effect<A, E, R>) =>
        Effect.gen(function*() {
          const count = Effect.all({
            read: inventoryBatchCount("read"),
            remembered: inventoryBatchCount("remembered"),
            stale: inventoryBatchCount("stale")
          })
          const before = yield* count
          const result = yield* work
          const after = yield* count
          return [result, {
            read: after.read - before.read,
            remembered: after.remembered - before.remembered,
            stale: after.stale - before.stale
          }] as const
        })
      const tagOf = <A>(result: Either.Either<A, { readonly _tag: string }>) => Either.isRight(result) ? "booked" : result.left._tag
      const aCustomer = Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ id: UserId }>`
        INSERT INTO users (email, password_hash, role) VALUES (${`customer-${randomUUID()}@example.com`}, 'x', 'CUSTOMER')
        RETURNING id`).pipe(Effect.map(([row]) => row!.id), Effect.orDie)

      it.effect("a customer's next booking is one round trip, and sees what another instance, an organizer or a ticket type changed since", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const { customer, event } = yield* aScene(20)
          yield* sql`INSERT INTO ticket_types (event_id, name, price_cents, is_default) VALUES (${event}, 'General', 0, true)`
          const [here, there] = [yield* Bookings, yield* anotherInstance]
          const book = (instance: Bookings["Type"], ticketsCount: number) =>
            Effect.either(instance.book(customer, { eventId: event, ticketsCount }))

          // Another process sells 3 to a customer this one has not counted yet.
          const [other, gone] = [yield* aCustomer, yield* aCustomer]
          expect(Either.isRight(yield* Effect.either(there.book(other, { eventId: event, ticketsCount: 3 })))).toBe(true)
          expect(yield* counted(book(here, 1))).toMatchObject([{ _tag: "Right" }, { read: 1, remembered: 0 }])
          expect(yield* counted(book(here, 1))).toMatchObject([{ _tag: "Right" }, { read: 0, remembered: 1, stale: 0 }])
          // Taken to have no tickets, `other` is found to have 3 (a limit of 4 a customer).
          const [limited, checked] = yield* counted(Effect.either(here.book(other, { eventId: event, ticketsCount: 2 })))
          expect(tagOf(limited)).toBe("CustomerLimitReached")
          expect(checked).toEqual({ read: 1, remembered: 1, stale: 1 })
          // So is an account gone (a token can outlive it).
          yield* sql`DELETE FROM users WHERE id = ${gone}`
          expect(tagOf(yield* Effect.either(here.book(gone, { eventId: event, ticketsCount: 1 })))).toBe("Unauthorized")
          // A newcomer who has nothing is booked on what is remembered.
          expect(yield* counted(Effect.either(here.book(yield* aCustomer, { eventId: event, ticketsCount: 1 })))).toMatchObject([
            { _tag: "Right" },
            { read: 0, remembered: 1, stale: 0 }
          ])
          // An Idempotency-Key is taken to be new; its repeat is found made, and answered with what it made.
          const key = randomUUID() as IdempotencyId
          const [first, once] = yield* counted(here.book(customer, { eventId: event, ticketsCount: 1 }, key))
          expect(once).toMatchObject({ read: 0, remembered: 1, stale: 0 })
          const [again, twice] = yield* counted(here.book(customer, { eventId: event, ticketsCount: 1 }, key))
          expect(again.id).toBe(first.id)
          expect(twice).toEqual({ read: 1, remembered: 1, stale: 1 })
          // Another process sells 13: the remembered 13 left are none now.
          for (const ticketsCount of [4, 4, 4, 1]) yield* there.book(yield* aCustomer, { eventId: event, ticketsCount })
          const [stale, kinds] = yield* counted(book(here, 1))
          expect(Either.isLeft(stale) && stale.left).toMatchObject({ _tag: "NotEnoughTickets", available: 0 })
          expect(kinds).toEqual({ read: 1, remembered: 1, stale: 1 })
          // Another process writes the event: for a second, this one reads rather than try.
          expect((yield* counted(book(here, 1)))[1]).toEqual({ read: 1, remembered: 0, stale: 0 })
          expect(yield* ledger(event)).toMatchObject({ available: 0, booked: 20, bookings: 9 })

          // A ticket type allowing one ticket a booking now, then the event moved to have started.
          yield* sql`UPDATE ticket_types SET max_per_booking = 1 WHERE event_id = ${event}`
          expect(tagOf(yield* book(here, 2))).toBe("ValidationError")
          yield* sql`UPDATE events SET date = now() - interval '1 hour' WHERE id = ${event}`
          expect(tagOf(yield* book(here, 1))).toBe("EventAlreadyStarted")
          expect(yield* ledger(event)).toMatchObject({ available: 0, booked: 20, bookings: 9 })
        }).pipe(Effect.scoped))

      it.effect("a hold falling due is expired by the next booking, though nothing else changed", () =>
        Effect.gen(function*() {
          const { customer, event } = yield* aScene(2)
          const inventory = yield* Inventory
          const bookings = yield* Bookings
          yield* inventory.submit(event, { _tag: "Hold", userId: yield* aCustomer, items: defaultItems(2) })
          const book = Effect.either(bookings.book(customer, { eventId: event, ticketsCount: 1 }))
          expect(tagOf(yield* book)).toBe("NotEnoughTickets")
          // Its expiry is 3 s ahead, beyond the clocks' margin: decided on what is remembered.
          expect(yield* counted(book)).toMatchObject([{ _tag: "Left" }, { read: 0, remembered: 1 }])
          // Past it by more than the margin: a state remembered before must not be decided on now.
          yield* Effect.sleep("5500 millis")
          const [booked, kinds] = yield* counted(book)
          expect(Either.isRight(booked)).toBe(true)
          expect(kinds).toMatchObject({ read: 1, remembered: 0 })
          expect(yield* ledger(event)).toMatchObject({ available: 1, booked: 1 })
        }))
    }
  )
})
