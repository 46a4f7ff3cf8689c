/** `npm run seed`'s demo data and `npm run db:reset` on real PostgreSQL. */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import bcrypt from "bcryptjs"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { BOOKINGS, CUSTOMERS, DEMO_PASSWORD, EVENTS, GENERAL, ORGANIZER, Seed, SeedConflict } from "../../src/Demo/Seed.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { resetDatabase } from "../../src/Storage/DatabaseReset.ts"
import { TestDatabaseLive } from "../support/database.ts"

const SeedOverPostgres = Seed.layer.pipe(
  Layer.provideMerge(TestDatabaseLive),
  Layer.provide(AppConfig.layerTest()),
  Layer.provide(JobCatalogueLive),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

const seed = Effect.flatMap(Seed, (seed) => seed.run).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

/** Every row the seed could touch, in a stable order. */
const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return {
    users: yield* sql`SELECT * FROM users ORDER BY id`,
    events: yield* sql`SELECT * FROM events ORDER BY id`,
    ticketTypes: yield* sql`SELECT * FROM ticket_types ORDER BY id`,
    bookings: yield* sql`SELECT * FROM bookings ORDER BY id`,
    tickets: yield* sql`SELECT * FROM tickets ORDER BY id`,
    outbox: yield* sql`SELECT id, queue, name, payload FROM outbox ORDER BY id`
  }
}).pipe(Effect.orDie)

describe("the seed", () => {
  layer(SeedOverPostgres, { excludeTestServices: true })((it) => {
    it.effect("puts an organizer, three customers, a dozen upcoming events, their ticket types and nine bookings in place, with their confirmations", () =>
      Effect.gen(function*() {
        const report = yield* seed
        expect(report).toEqual({
          accounts: { total: 4, created: 4 },
          events: { total: 12, created: 12 },
          ticketTypes: { total: 17, created: 17 },
          bookings: { total: 9, created: 9 },
          notBooked: []
        })
        const sql = yield* SqlClient.SqlClient
        const users = yield* sql<{ email: string; role: string; passwordHash: string }>`
          SELECT email, role, password_hash AS "passwordHash" FROM users ORDER BY id`
        expect(users.map(({ email, role }) => ({ email, role }))).toEqual([ORGANIZER, ...Object.values(CUSTOMERS)])
        // The printed password signs every one of them in.
        for (const user of users) expect(bcrypt.compareSync(DEMO_PASSWORD, user.passwordHash)).toBe(true)

        const events = yield* sql<{ title: string; organizer: string; available: number; upcoming: boolean }>`
          SELECT e.title, u.email AS organizer, e.available_tickets AS available, e.date > now() AS upcoming
          FROM events e JOIN users u ON u.id = e.organizer_id ORDER BY e.date`
        expect(events.map((e) => e.title)).toEqual(EVENTS.map((e) => e.title))
        expect(events.every((e) => e.organizer === ORGANIZER.email && e.upcoming)).toBe(true)
        expect(events.find((e) => e.title === "Jazz Night")?.available).toBe(0)

        const bookings = yield* sql<{ email: string; title: string; tickets: number }>`
          SELECT u.email, e.title, b.tickets_count AS tickets
          FROM bookings b JOIN users u ON u.id = b.user_id JOIN events e ON e.id = b.event_id ORDER BY b.id`
        const total = (tickets: Readonly<Record<string, number>>) => Object.values(tickets).reduce((a, b) => a + b, 0)
        expect(bookings).toEqual(BOOKINGS.map((b) => ({ email: CUSTOMERS[b.customer].email, title: b.event, tickets: total(b.tickets) })))
        const confirmations = yield* sql<{ count: number }>`
          SELECT sum(jsonb_array_length(payload->'bookings'))::int AS count FROM outbox WHERE name = 'BookingsConfirmed'`
        expect(confirmations[0]!.count).toBe(9)

        // Every event has its default type, priced as the demo says; some sell VIP and Student beside it.
        const types = yield* sql<{ title: string; name: string; price: number; quota: number; isDefault: boolean }>`
          SELECT e.title, t.name, t.price_cents AS price, t.quota, t.is_default AS "isDefault"
          FROM ticket_types t JOIN events e ON e.id = t.event_id ORDER BY e.date, t.id`
        expect(types).toEqual(EVENTS.flatMap((e) => [
          { title: e.title, name: GENERAL, price: e.priceCents ?? 0, quota: e.totalTickets, isDefault: true },
          ...(e.types ?? []).map((t) => ({ title: e.title, name: t.name, price: t.priceCents, quota: t.quota, isDefault: false }))
        ]))
        expect(types.filter((t) => t.title === "Winter Tech Conference").map((t) => t.name)).toEqual([GENERAL, "VIP", "Student"])

        // The tickets issued, by booking and type: each booking's are of the types it asked for.
        const tickets = yield* sql<{ email: string; title: string; type: string; count: number }>`
          SELECT u.email, e.title, t.name AS type, count(*)::int AS count
          FROM tickets k JOIN bookings b ON b.id = k.booking_id JOIN users u ON u.id = b.user_id
            JOIN events e ON e.id = b.event_id JOIN ticket_types t ON t.id = k.ticket_type_id
          GROUP BY b.id, u.email, e.title, t.id, t.name ORDER BY b.id, t.id`
        expect(tickets).toEqual(
          BOOKINGS.flatMap((b) =>
            Object.entries(b.tickets).map(([type, count]) => ({ email: CUSTOMERS[b.customer].email, title: b.event, type, count }))
          )
        )
      }))

    it.effect("a second run changes nothing", () =>
      Effect.gen(function*() {
        const before = yield* snapshot
        const report = yield* seed
        expect(report).toEqual({
          accounts: { total: 4, created: 0 },
          events: { total: 12, created: 0 },
          ticketTypes: { total: 17, created: 0 },
          bookings: { total: 9, created: 0 },
          notBooked: []
        })
        expect(yield* snapshot).toEqual(before)
      }))

    it.effect("puts back what went missing: a cancelled demo event comes back with its demo bookings, a missing type comes back", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE events SET deleted_at = now() WHERE title = 'Jazz Night'`
        // Nothing was sold of it: as if its organizer had deleted it.
        yield* sql`DELETE FROM ticket_types WHERE name = 'Student' AND event_id = (SELECT id FROM events WHERE title = 'Open-Air Concert')`
        const report = yield* seed
        expect(report.events).toEqual({ total: 12, created: 1 })
        expect(report.ticketTypes).toEqual({ total: 17, created: 2 })
        const concert = yield* sql<{ name: string; price: number; quota: number }>`
          SELECT t.name, t.price_cents AS price, t.quota FROM ticket_types t JOIN events e ON e.id = t.event_id
          WHERE e.title = 'Open-Air Concert' ORDER BY t.id`
        expect(concert.map((t) => t.name)).toEqual([GENERAL, "VIP", "Student"])
        expect(concert[2]).toEqual({ name: "Student", price: 1500, quota: 60 })
        expect(report.bookings).toEqual({ total: 9, created: 2 })
        const jazz = yield* sql<{ cancelled: boolean; available: number }>`
          SELECT deleted_at IS NOT NULL AS cancelled, available_tickets AS available FROM events WHERE title = 'Jazz Night' ORDER BY id`
        expect(jazz).toEqual([{ cancelled: true, available: 0 }, { cancelled: false, available: 0 }])
      }))

    it.effect("db:reset empties the database and migrates it afresh, with a new queue namespace", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const namespace = sql<{ id: string }>`SELECT id FROM queue_namespace`
        const migrationsBefore = yield* sql`SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id`
        const [{ id: before }] = yield* namespace
        yield* sql`CREATE SCHEMA bullmq`
        yield* sql`CREATE TABLE bullmq.jobs (id int)`

        yield* Logger.withMinimumLogLevel(resetDatabase, LogLevel.Warning)

        const counts = yield* sql<{ users: number; events: number; bookings: number; outbox: number }>`
          SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM events) AS events,
                 (SELECT count(*)::int FROM bookings) AS bookings, (SELECT count(*)::int FROM outbox) AS outbox`
        expect(counts[0]).toEqual({ users: 0, events: 0, bookings: 0, outbox: 0 })
        expect(yield* sql`SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id`).toEqual(migrationsBefore)
        const [{ id: after }] = yield* namespace
        expect(after).not.toBe(before)
        expect(yield* sql`SELECT FROM pg_namespace WHERE nspname = 'bullmq'`).toHaveLength(0)

        // And the seed starts over on it.
        expect((yield* seed).accounts).toEqual({ total: 4, created: 4 })
      }))
  })
})

describe("the seed on a database where a demo email belongs to another role", () => {
  layer(SeedOverPostgres, { excludeTestServices: true })((it) => {
    it.effect("refuses, saying which, and writes nothing (not even the accounts before it)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO users (email, password_hash, role) VALUES (${CUSTOMERS.bob.email}, 'x', 'ORGANIZER')`
        const refused = yield* Effect.flip(seed)
        expect(refused).toBeInstanceOf(SeedConflict)
        expect(refused.message).toBe(`${CUSTOMERS.bob.email} already exists as ORGANIZER, not CUSTOMER`)
        const counts = yield* sql<{ users: number; events: number }>`
          SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM events) AS events`
        expect(counts[0]).toEqual({ users: 1, events: 0 })
      }))
  })
})
