/**
 * Ticket types on real PostgreSQL: a quota change and the engine's decisions serialize on the
 * event's row lock (never a quota below what is taken), and migration 0011 over a database with
 * events and bookings. What callers see of the repository is the shared contract
 * (test/support/ticketTypes.ts, run in repository-contract.test.ts).
 */
import { Migrator, SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Option, Redacted, Schedule } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { migrations } from "../../migrations/index.ts"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { EventId, TicketTypeId } from "../../src/Domain/Ids.ts"
import { normalizeTicketCode } from "../../src/Domain/TicketCode.ts"
import { EventsRepo } from "../../src/Events/EventsRepo.ts"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { migrate } from "../../src/Storage/Migrations.ts"
import { TicketTypesRepo } from "../../src/TicketTypes/TicketTypesRepo.ts"
import { freshDatabaseUrl, TestDatabaseLive } from "../support/database.ts"

const DAY = 86_400_000
let emails = 0

const anEventWithVip = (totalTickets: number, quota: number) =>
  Effect.gen(function*() {
    const organizer = yield* (yield* UsersRepo).create({
      email: `types-db-${++emails}@example.com`,
      passwordHash: "$2a$04$hash",
      role: "ORGANIZER"
    })
    const event = yield* (yield* EventsRepo).create({
      organizerId: organizer.id,
      title: "Race",
      description: "",
      date: new Date(Date.now() + 30 * DAY),
      location: "Hall",
      totalTickets
    })
    const vip = yield* (yield* TicketTypesRepo).create(event.id, {
      name: "VIP",
      priceCents: 100,
      quota,
      salesStart: null,
      salesEnd: null,
      maxPerBooking: null
    })
    return { event, vip }
  }).pipe(Effect.orDie)

const typeRow = (id: TicketTypeId) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ quota: number | null; taken: number }>`SELECT quota, taken FROM ticket_types WHERE id = ${id}`
  )
    .pipe(Effect.map((rows) => rows[0]!), Effect.orDie)

/**
 * What the engine does to take `count` tickets of a type (Inventory/InventoryRepo.ts): lock the
 * event's row, read, decide, write. Answers whether it took them.
 */
const engineTakes = (eventId: EventId, id: TicketTypeId, count: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`SELECT id FROM events WHERE id = ${eventId} FOR UPDATE`
      const [type] = yield* sql<{ quota: number | null; taken: number }>`SELECT quota, taken FROM ticket_types WHERE id = ${id}`
      if (type!.quota !== null && type!.quota - type!.taken < count) return false
      yield* sql`UPDATE ticket_types SET taken = taken + ${count} WHERE id = ${id}`
      return true
    })))

layer(PersistenceSql.pipe(Layer.provideMerge(TestDatabaseLive), Layer.provide(AppConfig.layerTest())), {
  excludeTestServices: true,
  timeout: 60_000
})((it) => {
  describe("quotas and the engine's lock", () => {
    it.effect("a quota change waits for the engine's decision on the event and is checked against what it took", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const types = yield* TicketTypesRepo
        const { event, vip } = yield* anEventWithVip(10, 5)
        // The engine, on a connection of its own: the event locked, the type read (quota 5, nothing taken).
        const [{ database }] = yield* sql<{ database: string }>`SELECT current_database() AS database`
        const url = new URL(inject("databaseUrl"))
        url.pathname = `/${database}`
        const engine = new pg.Client({ connectionString: url.toString() })
        yield* Effect.promise(() => engine.connect())
        yield* Effect.promise(() => engine.query(`BEGIN; SELECT 1 FROM events WHERE id = ${event.id} FOR UPDATE`))
        const seen = yield* Effect.promise(() => engine.query(`SELECT quota, taken FROM ticket_types WHERE id = ${vip.id}`))
        expect(seen.rows).toEqual([{ quota: 5, taken: 0 }])

        const change = yield* Effect.fork(Effect.either(types.update(event.id, vip.id, { quota: 2 })))
        // The change must wait for the lock: had it not, it would be done (quota 2) before the engine writes 4.
        yield* Fiber.poll(change).pipe(
          Effect.filterOrElse(Option.isNone, () => Effect.dieMessage("the quota change did not wait for the event's lock")),
          Effect.zipRight(sql<{ n: number }>`
            SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`),
          Effect.filterOrFail(([row]) => row!.n >= 1, () => "the quota change is not waiting for the event's lock yet"),
          Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("10 seconds")))
        )
        // The engine decides on what it read: 4 of the 5 taken, then commits and lets go.
        yield* Effect.promise(() => engine.query(`UPDATE ticket_types SET taken = 4 WHERE id = ${vip.id}; COMMIT`))
        yield* Effect.promise(() => engine.end())

        const outcome = yield* Fiber.join(change)
        expect(Either.getLeft(outcome)).toEqual(Option.some(expect.objectContaining({ _tag: "TicketsAlreadySold", sold: 4 })))
        expect(yield* typeRow(vip.id)).toEqual({ quota: 5, taken: 4 })
      }))

    it.effect("quota changes racing the engine's takes: every take is decided on the quota of its moment, none ever exceeds it", () =>
      Effect.gen(function*() {
        const types = yield* TicketTypesRepo
        const { event, vip } = yield* anEventWithVip(1000, 40)
        const quotas = [30, 12, 50, 8, 25, 60, 3, 45, 20, 70]
        const outcomes = yield* Effect.all(
          [
            ...Array.from({ length: 60 }, () => Effect.map(engineTakes(event.id, vip.id, 1), (took) => ({ took }))),
            ...quotas.map((quota) => Effect.map(Effect.either(types.update(event.id, vip.id, { quota })), (changed) => ({ changed })))
          ],
          { concurrency: "unbounded" }
        )
        // Neither side failed otherwise: no write ever met the CHECK (taken <= quota) as a database error.
        for (const outcome of outcomes) {
          if ("changed" in outcome && Either.isLeft(outcome.changed)) expect(outcome.changed.left._tag).toBe("TicketsAlreadySold")
        }
        const took = outcomes.filter((outcome) => "took" in outcome && outcome.took).length
        const { quota, taken } = yield* typeRow(vip.id)
        expect(taken).toBe(took)
        expect(taken).toBeLessThanOrEqual(quota!)
        expect(took).toBeGreaterThan(0)
      }))

    it.effect("the default type's quota follows totalTickets, and never goes below what is taken of it", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const events = yield* EventsRepo
        const { event } = yield* anEventWithVip(10, 5)
        const [general] = yield* (yield* TicketTypesRepo).listByEvent(event.id)
        // 6 of the default type taken, as the engine would have with 6 tickets sold.
        yield* sql`UPDATE events SET available_tickets = 4 WHERE id = ${event.id}`
        yield* sql`UPDATE ticket_types SET taken = 6 WHERE id = ${general!.id}`
        yield* events.update(event.id, { totalTickets: 6 })
        expect(yield* typeRow(general!.id)).toEqual({ quota: 6, taken: 6 })
        expect((yield* Effect.flip(events.update(event.id, { totalTickets: 5 })))._tag).toBe("TicketsAlreadySold")
        expect(yield* typeRow(general!.id)).toEqual({ quota: 6, taken: 6 })
      }))
  })
})

describe("migrations on a fresh database", () => {
  it.effect("0011 (ticket types, tickets) over a database at 0010: each event its default type taking what is taken, each booking its tickets", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrator.make({})({
          loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0011")))
        })
        const [user] = yield* sql<{ id: number }>`
          INSERT INTO users (email, password_hash, role) VALUES ('old@example.com', 'x', 'CUSTOMER') RETURNING id`
        // 3 tickets booked and 2 held of 10; the other event untouched.
        const [busy, quiet] = yield* sql<{ id: number }>`
          INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
          VALUES (${user!.id}, 'Busy', 'Hall', now() + interval '1 day', 10, 5),
                 (${user!.id}, 'Quiet', 'Hall', now() + interval '1 day', 8, 8)
          RETURNING id`
        const [kept, dropped] = yield* sql<{ id: number }>`
          INSERT INTO bookings (user_id, event_id, tickets_count, status, cancelled_at)
          VALUES (${user!.id}, ${busy!.id}, 3, 'CONFIRMED', NULL), (${user!.id}, ${busy!.id}, 2, 'CANCELLED', now())
          RETURNING id`
        yield* sql`
          INSERT INTO holds (event_id, user_id, tickets_count, status, expires_at)
          VALUES (${busy!.id}, ${user!.id}, 2, 'HELD', now() + interval '10 minutes')`
        yield* migrate

        expect(yield* sql`SELECT id, currency FROM events ORDER BY id`).toEqual([
          { id: busy!.id, currency: "EUR" },
          { id: quiet!.id, currency: "EUR" }
        ])
        const types = yield* sql<{ eventId: number; id: number }>`
          SELECT event_id AS "eventId", id, name, price_cents AS "priceCents", quota, taken, is_default AS "isDefault"
          FROM ticket_types ORDER BY event_id`
        expect(types).toEqual([
          { eventId: busy!.id, id: expect.any(Number), name: "General admission", priceCents: 0, quota: 10, taken: 5, isDefault: true },
          { eventId: quiet!.id, id: expect.any(Number), name: "General admission", priceCents: 0, quota: 8, taken: 0, isDefault: true }
        ])

        const tickets = yield* sql<{ bookingId: number; code: string; status: string; cancelled: boolean }>`
          SELECT booking_id AS "bookingId", event_id AS "eventId", ticket_type_id AS "typeId", code, status,
                 cancelled_at IS NOT NULL AS cancelled, checked_in_at AS "checkedInAt"
          FROM tickets ORDER BY id`
        const of = (bookingId: number) => tickets.filter((ticket) => ticket.bookingId === bookingId)
        expect(of(kept!.id).map(({ code: _, ...ticket }) => ticket)).toEqual(
          Array.from({ length: 3 }, () => ({
            bookingId: kept!.id,
            eventId: busy!.id,
            typeId: types[0]!.id,
            status: "VALID",
            cancelled: false,
            checkedInAt: null
          }))
        )
        expect(of(dropped!.id).map(({ code: _, ...ticket }) => ticket)).toEqual(
          Array.from({ length: 2 }, () => ({
            bookingId: dropped!.id,
            eventId: busy!.id,
            typeId: types[0]!.id,
            status: "CANCELLED",
            cancelled: true,
            checkedInAt: null
          }))
        )
        expect(tickets).toHaveLength(5)
        expect(new Set(tickets.map((ticket) => ticket.code)).size).toBe(5)
        for (const { code } of tickets) expect(normalizeTicketCode(code)).toEqual(Option.some(code))

        // The tables' own guards from now on: a quota below what is taken, a second default.
        const below = yield* Effect.flip(sql`UPDATE ticket_types SET quota = 4 WHERE id = ${types[0]!.id}`)
        expect(String(below.cause)).toContain("ticket_types_taken_check")
        const second = yield* Effect.flip(
          sql`INSERT INTO ticket_types (event_id, name, price_cents, is_default) VALUES (${quiet!.id}, 'Other', 0, true)`
        )
        expect(String(second.cause)).toContain("ticket_types_default_key")
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })))
    }).pipe(Effect.scoped, Effect.orDie))
})
