/**
 * The inventory engine on real PostgreSQL: random steps of concurrent bookings, cancellations,
 * holds, expiries and waiting-list moves against the serial model, with the ledger
 * total = available + held + booked watched from another connection all the while; two API
 * instances racing on one event; the sweep; the jobs each change leaves in the outbox.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Either, FastCheck as fc, Fiber, Layer, Redacted, Ref, Runtime, Schedule } from "effect"
import { inject } from "vitest"
import { AuditLog } from "../../src/Audit/AuditLog.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"
import { HoldSweepLive } from "../../src/Inventory/Sweep.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Outbox, type OutboxEntry } from "../../src/Jobs/Outbox.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { postgresEngine } from "../support/engines.ts"
import {
  CUSTOMERS,
  dueAfterRemembered,
  type Harness,
  LIMIT,
  lineStopper,
  play,
  scenario,
  TOTAL,
  typedLine,
  TYPES
} from "../support/inventoryModel.ts"

const settings = { MAX_TICKETS_PER_CUSTOMER_PER_EVENT: LIMIT }

/** The engine as the server runs it (outbox included), on a fresh database. */
const EngineTest = postgresEngine(LIMIT)

const query = <A>(run: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, run).pipe(Effect.orDie)

let scenes = 0
const postgres: Harness<SqlClient.SqlClient> = {
  scene: query((sql) =>
    Effect.gen(function*() {
      const scene = ++scenes
      const customers = yield* sql<{ id: UserId }>`
        INSERT INTO users (email, password_hash, role)
        SELECT 'scene' || ${scene} || '-' || n || '@example.com', 'x', 'CUSTOMER' FROM generate_series(1, ${CUSTOMERS}) n
        RETURNING id`
      const [event] = yield* sql<{ id: EventId }>`
        INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
        VALUES (${customers[0]!.id}, 'Model', 'Hall', now() + interval '1 day', ${TOTAL}, ${TOTAL}) RETURNING id`
      const types = yield* Effect.forEach(TYPES, ({ isDefault, maxPerBooking, name, quota }) =>
        sql<{ id: number }>`
          INSERT INTO ticket_types (event_id, name, price_cents, quota, max_per_booking, is_default)
          VALUES (${event!.id}, ${name}, 0, ${quota}, ${maxPerBooking}, ${isDefault}) RETURNING id`.pipe(Effect.map(([row]) => row!)))
      return {
        eventId: event!.id,
        customers: customers.map((c) => c.id).sort((a, b) => a - b),
        types: types.map((t) => t.id).sort((a, b) => a - b)
      }
    })
  ),
  makeDue: (holdIds) =>
    query((sql) => sql`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = ANY(${holdIds}::int[])`).pipe(Effect.asVoid),
  read: (eventId) =>
    query((sql) =>
      Effect.all({
        available: sql<{ n: number }>`SELECT available_tickets AS n FROM events WHERE id = ${eventId}`.pipe(Effect.map(([row]) => row!.n)),
        taken: sql<{ id: number; taken: number }>`SELECT id, taken FROM ticket_types WHERE event_id = ${eventId}`.pipe(
          Effect.map((rows) => new Map(rows.map((row) => [row.id, row.taken])))
        ),
        bookings: sql<{ id: number; userId: number; tickets: number; status: string; items: Array<Item>; issued: Array<Issued> }>`
          SELECT id, user_id AS "userId", tickets_count AS tickets, status, items,
                 (SELECT COALESCE(json_agg(json_build_object('ticketTypeId', k.ticket_type_id, 'status', k.status) ORDER BY k.id), '[]')
                  FROM tickets k WHERE k.booking_id = b.id) AS issued
          FROM bookings b WHERE event_id = ${eventId} ORDER BY id`,
        holds: sql<{ id: number; userId: number; tickets: number; status: string; entryId: number | null; items: Array<Item> }>`
          SELECT id, user_id AS "userId", tickets_count AS tickets, status, waitlist_entry_id AS "entryId", items
          FROM holds WHERE event_id = ${eventId} ORDER BY id`,
        entries: sql<{ id: number; userId: number; tickets: number; status: string; reserved: number; passed: number; items: Array<Item> }>`
          SELECT id, user_id AS "userId", tickets_count AS tickets, status, reserved, passed_over AS passed, items
          FROM waitlist_entries WHERE event_id = ${eventId} ORDER BY id`
      })
    )
}

type Item = { ticketTypeId: number; count: number; reserved?: number }
type Issued = { ticketTypeId: number; status: string }

/**
 * Events whose ledger does not balance, and ticket types whose `taken` is not what their rows hold
 * (booked, held, kept back) or is over their quota, in one consistent snapshot of every event.
 */
const unbalanced = query((sql) =>
  Effect.zipRight(
    sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`,
    Effect.all([
      sql<{ id: number; total: number; available: number; held: number; booked: number }>`
    SELECT e.id, e.total_tickets AS total, e.available_tickets AS available,
           (SELECT COALESCE(sum(b.tickets_count), 0) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED')::int AS booked,
           ((SELECT COALESCE(sum(h.tickets_count), 0) FROM holds h WHERE h.event_id = e.id AND h.status = 'HELD') +
            (SELECT COALESCE(sum(w.reserved), 0) FROM waitlist_entries w WHERE w.event_id = e.id AND w.status = 'WAITING'))::int AS held
    FROM events e`,
      sql<{ id: number; quota: number | null; taken: number; rows: number; valid: number; booked: number }>`
    SELECT t.id, t.quota, t.taken,
           (SELECT COALESCE(sum((i->>'count')::int), 0) FROM bookings b, jsonb_array_elements(b.items) i
            WHERE b.event_id = t.event_id AND b.status = 'CONFIRMED' AND (i->>'ticketTypeId')::int = t.id)::int AS booked,
           (SELECT count(*) FROM tickets k WHERE k.ticket_type_id = t.id AND k.status <> 'CANCELLED')::int AS valid,
           ((SELECT COALESCE(sum((i->>'count')::int), 0) FROM bookings b, jsonb_array_elements(b.items) i
             WHERE b.event_id = t.event_id AND b.status = 'CONFIRMED' AND (i->>'ticketTypeId')::int = t.id) +
            (SELECT COALESCE(sum((i->>'count')::int), 0) FROM holds h, jsonb_array_elements(h.items) i
             WHERE h.event_id = t.event_id AND h.status = 'HELD' AND (i->>'ticketTypeId')::int = t.id) +
            (SELECT COALESCE(sum((i->>'reserved')::int), 0) FROM waitlist_entries w, jsonb_array_elements(w.items) i
             WHERE w.event_id = t.event_id AND w.status = 'WAITING' AND (i->>'ticketTypeId')::int = t.id))::int AS rows
    FROM ticket_types t`
    ])
  ).pipe(sql.withTransaction)
).pipe(Effect.map(([events, types]) => [
  ...events.filter((row) => row.available < 0 || row.total !== row.available + row.held + row.booked),
  ...types.filter((row) => row.taken !== row.rows || (row.quota !== null && row.taken > row.quota) || row.valid !== row.booked)
]))

/** Runs `work` while another connection checks every event's ledger, again and again; none may ever be off. */
const ledgerWatched = <A, E, R>(work: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<unknown>>([])
    const checks = yield* Ref.make(0)
    const watcher = yield* unbalanced.pipe(
      Effect.flatMap((off) => Ref.update(seen, (all) => [...all, ...off])),
      Effect.zipRight(Ref.update(checks, (n) => n + 1)),
      Effect.forever,
      Effect.fork
    )
    const result = yield* work
    yield* Fiber.interrupt(watcher)
    expect(yield* Ref.get(seen)).toEqual([])
    expect(yield* Ref.get(checks)).toBeGreaterThan(0)
    expect(yield* unbalanced).toEqual([])
    return result
  })

/** A second API instance on the same database: its own pool, its own lines. */
const anotherInstance = Effect.gen(function*() {
  const [{ name }] = yield* query((sql) => sql<{ name: string }>`SELECT current_database() AS name`)
  const url = new URL(inject("databaseUrl"))
  url.pathname = `/${name}`
  const context = yield* Layer.build(
    Inventory.layer.pipe(
      Layer.provide(Layer.mergeAll(JobQueue.layer, Transactions.layer, InventoryRepo.layer, AuditLog.layer)),
      Layer.provide(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
      Layer.provide(AppConfig.layerTest(settings)),
      Layer.provide(PgClient.layer({ url: Redacted.make(url.toString()), maxConnections: 5 }))
    )
  )
  return Context.get(context, Inventory)
})

const outboxOf = (name: string) =>
  query((sql) =>
    sql<{ queue: string; payload: any; runAt: Date | null }>`
    SELECT queue, payload, run_at AS "runAt" FROM outbox WHERE name = ${name} ORDER BY id`
  )

describe("the inventory engine on PostgreSQL", () => {
  layer(EngineTest, { excludeTestServices: true, timeout: 180_000 })((it) => {
    it.effect(
      "random steps of concurrent operations answer and store as the serial model does; the ledger holds throughout",
      () =>
        Effect.gen(function*() {
          const run = Runtime.runPromise(yield* Effect.runtime<SqlClient.SqlClient | Inventory>())
          yield* ledgerWatched(
            Effect.promise(() =>
              fc.assert(fc.asyncProperty(scenario, (steps) => run(play(postgres, steps))), {
                numRuns: 25,
                examples: [[lineStopper], [typedLine], [dueAfterRemembered]]
              })
            )
          )
        }),
      180_000
    )

    it.effect("two instances cancel one booking while both wait for the event's lock: one cancels, the other hears it is already cancelled", () =>
      Effect.gen(function*() {
        const { customers, eventId } = yield* postgres.scene
        const here = yield* Inventory
        const there = yield* anotherInstance
        const booking = yield* here.submit(eventId, { _tag: "Book", userId: customers[0]!, items: defaultItems(3) })
        // Enough sold that giving the 3 back twice would still fit under the total: no CHECK to catch it.
        yield* here.submit(eventId, { _tag: "Book", userId: customers[1]!, items: defaultItems(5) })

        // A third connection holds the event's row, so both batches wait for it; the one that goes
        // second read its state before the first committed, and must not trust it.
        const release = yield* Deferred.make<void>()
        const locked = yield* Deferred.make<void>()
        const holding = yield* query((sql) =>
          sql.withTransaction(
            sql`SELECT id FROM events WHERE id = ${eventId} FOR UPDATE`.pipe(
              Effect.zipRight(Deferred.succeed(locked, undefined)),
              Effect.zipRight(Deferred.await(release))
            )
          )
        ).pipe(Effect.fork)
        // The row is held before either cancellation is submitted (else the quicker one may not wait).
        yield* Deferred.await(locked)
        const waiting = query((sql) =>
          sql<
            { n: number }
          >`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
        ).pipe(Effect.map(([row]) => row!.n))
        yield* Effect.yieldNow()
        const cancels = yield* Effect.forEach(
          [here, there],
          (instance) =>
            Effect.either(instance.submit(eventId, { _tag: "Cancel", userId: customers[0]!, bookingId: booking.id })).pipe(Effect.fork)
        )
        yield* waiting.pipe(
          Effect.filterOrFail((n) => n >= 2, () => "not both waiting yet"),
          Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds")))
        )
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(holding)

        const outcomes = yield* Effect.forEach(cancels, Fiber.join)
        expect(outcomes.map(Either.match({ onLeft: (error) => error._tag, onRight: (b) => b.status })).sort()).toEqual([
          "BookingAlreadyCancelled",
          "CANCELLED"
        ])
        const stored = yield* postgres.read(eventId)
        expect(stored.available).toBe(TOTAL - 5)
        expect(yield* outboxOf("BookingCancelled").pipe(Effect.map((rows) => rows.filter((r) => r.payload.bookingId === booking.id))))
          .toHaveLength(1)
      }).pipe(Effect.scoped))

    it.effect(
      "two instances, many customers, every kind of operation at once: nothing oversold or lost at any moment",
      () =>
        Effect.gen(function*() {
          const instances = [yield* Inventory, yield* anotherInstance]
          const { customers, eventId } = yield* postgres.scene
          const random = fc.sample(fc.tuple(fc.nat(CUSTOMERS - 1), fc.integer({ min: 1, max: 3 }), fc.nat(6), fc.nat(1000)), 400)
          const failed = yield* Ref.make<ReadonlyArray<string>>([])
          yield* ledgerWatched(Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7], (round) =>
            Effect.gen(function*() {
              const { bookings, holds } = yield* postgres.read(eventId)
              yield* Effect.forEach(random.slice(round * 50, round * 50 + 50), ([c, n, kind, pick], i) => {
                const userId = customers[c]!
                const booking = bookings[pick % Math.max(1, bookings.length)]
                const hold = holds[pick % Math.max(1, holds.length)]
                const operations: ReadonlyArray<Operation> = [
                  { _tag: "Book", userId, items: defaultItems(n) },
                  { _tag: "Hold", userId, items: defaultItems(n) },
                  { _tag: "Join", userId, items: defaultItems(n) },
                  { _tag: "Leave", userId },
                  booking === undefined ? { _tag: "Refresh" } : { _tag: "Cancel", userId: booking.userId, bookingId: booking.id },
                  hold === undefined ? { _tag: "Refresh" } : { _tag: "Confirm", userId: hold.userId, holdId: hold.id },
                  hold === undefined ? { _tag: "Refresh" } : { _tag: "Release", userId: hold.userId, holdId: hold.id }
                ]
                return instances[i % 2]!.submit(eventId, operations[kind]!).pipe(
                  Effect.catchTags({ BookingFailed: (error) => Ref.update(failed, (all) => [...all, error.message]) }),
                  Effect.either
                )
              }, { concurrency: "unbounded", discard: true })
              if (holds.length > 0) yield* postgres.makeDue([holds[round % holds.length]!.id])
            }), { discard: true }))
          expect(yield* Ref.get(failed)).toEqual([]) // no batch ever failed
          const stored = yield* postgres.read(eventId)
          const booked = stored.bookings.filter((b) => b.status === "CONFIRMED").reduce((sum, b) => sum + b.tickets, 0)
          expect(booked).toBeGreaterThan(0)
        }).pipe(Effect.scoped),
      120_000
    )

    it.effect("the sweep expires a hold whose delayed job never came, and offers its tickets to the waiting list", () =>
      Effect.gen(function*() {
        const inventory = yield* Inventory
        const { customers: [ann, bob], eventId } = yield* postgres.scene
        const held = yield* inventory.submit(eventId, { _tag: "Hold", userId: ann!, items: defaultItems(6) })
        yield* inventory.submit(eventId, { _tag: "Book", userId: bob!, items: defaultItems(4) })
        const entry = yield* inventory.submit(eventId, { _tag: "Join", userId: bob!, items: defaultItems(2) })
        expect(entry).toMatchObject({ position: 1, status: "WAITING", holdId: null })
        yield* postgres.makeDue([held.id])

        yield* Layer.build(HoldSweepLive.pipe(Layer.provide(AppConfig.layerTest({ ...settings, HOLD_SWEEP_SECONDS: 1 }))))
        const swept = yield* postgres.read(eventId).pipe(
          Effect.filterOrFail((state) => state.holds[0]!.status === "EXPIRED", () => "not swept yet"),
          Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("10 seconds")))
        )
        expect(swept.available).toBe(4) // 6 back, 2 offered to Bob
        expect(swept.holds.map((h) => [h.userId, h.tickets, h.status])).toEqual([[ann, 6, "EXPIRED"], [bob, 2, "HELD"]])
        expect(swept.entries.map((e) => e.status)).toEqual(["OFFERED"])
        const offers = (yield* outboxOf("WaitlistOffer")).filter((row) => row.payload.eventId === eventId)
        expect(offers).toEqual([{
          queue: "email-queue",
          payload: expect.objectContaining({ userId: bob, holdId: swept.holds[1]!.id, ticketsCount: 2 }),
          runAt: null
        }])
      }).pipe(Effect.scoped))

    it.effect("a hold's expiry waits in the outbox until its time, then goes to BullMQ with the rest of the delay", () =>
      Effect.gen(function*() {
        const inventory = yield* Inventory
        const outbox = yield* Outbox
        const { customers: [ann], eventId } = yield* postgres.scene
        yield* query((sql) => sql`UPDATE outbox SET published_at = now() WHERE published_at IS NULL`)
        const hold = yield* inventory.submit(eventId, { _tag: "Hold", userId: ann!, items: defaultItems(2) })
        const [expiry] = (yield* outboxOf("HoldExpiry")).filter((row) => row.payload.holdId === hold.id)
        expect(expiry).toMatchObject({ queue: "holds-queue", runAt: hold.expiresAt })
        const published = yield* Ref.make<ReadonlyArray<OutboxEntry>>([])
        yield* outbox.publishPending(10, (entries) => Ref.set(published, entries))
        const [entry] = yield* Ref.get(published)
        expect(entry).toMatchObject({ name: "HoldExpiry", queue: "holds-queue" })
        // The delay is counted from the database's clock: close to the hold's ten minutes.
        expect(entry!.delayMs).toBeGreaterThan(590_000)
        expect(entry!.delayMs).toBeLessThanOrEqual(600_000)
      }))
  })
})
