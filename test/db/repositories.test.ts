/**
 * What only PostgreSQL has: its constraints, transactions, cursors and migrations. What callers see
 * of the repositories is asserted on both stores by the shared contract (repository-contract.test.ts).
 */
import { Migrator, SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it, layer } from "@effect/vitest"
import { Cause, Chunk, Effect, Either, Exit, Layer, Option, Redacted, Stream } from "effect"
import { migrations } from "../../migrations/index.ts"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { EventsRepo } from "../../src/Events/EventsRepo.ts"
import { SalesRepo } from "../../src/Events/SalesRepo.ts"
import { applyAll, InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { eventStatus } from "../../src/Storage/EventRow.ts"
import { migrate } from "../../src/Storage/Migrations.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { bookOne, looseRules } from "../support/bookings.ts"
import { freshDatabaseUrl, TestDatabaseLive } from "../support/database.ts"

const migrationIds = Object.keys(migrations).map((name) => Number(name.split("_")[0]))

const DAY = 86_400_000
let emails = 0

const aUser = (role: "ORGANIZER" | "CUSTOMER") =>
  Effect.flatMap(UsersRepo, (users) => users.create({ email: `repo-${++emails}@example.com`, passwordHash: "$2a$04$hash", role })).pipe(
    Effect.orDie
  )

const anEvent = (organizerId: UserId, options: { daysAhead?: number; totalTickets?: number } = {}) =>
  Effect.flatMap(EventsRepo, (events) =>
    events.create({
      organizerId,
      title: "Conf",
      description: "",
      date: new Date(Date.now() + (options.daysAhead ?? 30) * DAY),
      location: "Hall",
      totalTickets: options.totalTickets ?? 10
    }))

const available = (eventId: EventId) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ available: number; bookings: number }>`
      SELECT available_tickets AS available, (SELECT count(*)::int FROM bookings WHERE event_id = ${eventId}) AS bookings
      FROM events WHERE id = ${eventId}`).pipe(Effect.map((rows) => rows[0]!), Effect.orDie)

layer(PersistenceSql.pipe(Layer.provideMerge(TestDatabaseLive), Layer.provide(AppConfig.layerTest())), { excludeTestServices: true })(
  (it) => {
    describe("UsersRepo", () => {
      it.effect("a row that does not match its schema is a defect (the query and the schema disagree), not a user", () =>
        Effect.gen(function*() {
          const users = yield* UsersRepo
          const sql = yield* SqlClient.SqlClient
          const user = yield* aUser("CUSTOMER")
          // A role the schema does not know, in a transaction rolled back once the repository has read it.
          const read = yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`ALTER TABLE users DROP CONSTRAINT users_role_check`
            yield* sql`UPDATE users SET role = 'ADMIN' WHERE id = ${user.id}`
            return yield* Effect.fail(yield* Effect.exit(users.findById(user.id)))
          })).pipe(Effect.flip)
          expect(Exit.isExit(read) && Exit.isFailure(read) && Cause.isDie(read.cause)).toBe(true)
          expect(String(Exit.isExit(read) && Exit.isFailure(read) && Cause.squash(read.cause))).toContain(`["role"]`)
          expect(Option.map(yield* users.findById(user.id), (u) => u.role)).toEqual(Option.some("CUSTOMER"))
        }))
    })

    describe("SalesRepo", () => {
      it.effect("the attendee export reads through a cursor, 128 rows a read", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const sales = yield* SalesRepo
          const organizer = yield* aUser("ORGANIZER")
          const customer = yield* aUser("CUSTOMER")
          const event = yield* anEvent(organizer.id, { totalTickets: 1000 })
          yield* sql`
          INSERT INTO bookings (user_id, event_id, tickets_count)
          SELECT ${customer.id}, ${event.id}, 1 + n % 3 FROM generate_series(1, 300) AS n`.pipe(Effect.orDie)

          const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.chunks(sales.allAttendees(event.id))))
          expect(chunks.map(Chunk.size)).toEqual([128, 128, 44])
        }))
    })

    describe("constraints and transactions", () => {
      it.effect("the database refuses an email taken in another case, negative availability and bookings of missing events", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const organizer = yield* aUser("ORGANIZER")
          const customer = yield* aUser("CUSTOMER")
          const addUser = (email: string) => sql`INSERT INTO users (email, password_hash, role) VALUES (${email}, 'x', 'CUSTOMER')`
          expect(String((yield* Effect.flip(addUser(customer.email))).cause)).toContain("users_email_key")
          // Emails are stored in lower case, so the index on lower(email) sees every case.
          expect(String((yield* Effect.flip(addUser(customer.email.toUpperCase()))).cause)).toContain("users_email_check")
          const event = yield* anEvent(organizer.id, { totalTickets: 2 })
          const negative = yield* sql`UPDATE events SET available_tickets = -1 WHERE id = ${event.id}`.pipe(Effect.flip)
          expect(String(negative.cause)).toContain("events_available_tickets_check")
          const orphan = yield* sql`INSERT INTO bookings (user_id, event_id, tickets_count) VALUES (${customer.id}, 2000000000, 1)`.pipe(
            Effect.flip
          )
          expect(String(orphan.cause)).toContain("bookings_event_id_fkey")
        }))

      it.effect("a failure later in the transaction rolls the booking back", () =>
        Effect.gen(function*() {
          const transactions = yield* Transactions
          const organizer = yield* aUser("ORGANIZER")
          const customer = yield* aUser("CUSTOMER")
          const event = yield* anEvent(organizer.id, { totalTickets: 5 })
          const outcome = yield* transactions.run(
            bookOne({ userId: customer.id, eventId: event.id, ticketsCount: 2 }).pipe(
              Effect.zipRight(Effect.fail("the next step failed" as const))
            )
          ).pipe(Effect.flip)
          expect(outcome).toBe("the next step failed")
          expect(yield* available(event.id)).toEqual({ available: 5, bookings: 0 })
        }))

      it.effect("migrating again is a no-op", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* migrate
          const applied = yield* sql<{ id: number }>`SELECT migration_id AS id FROM effect_sql_migrations`
          expect(applied.map((row) => row.id)).toEqual(migrationIds)
        }))
    })
  }
)

describe("migrations on a fresh database", () => {
  it.effect("instances starting together apply each migration once", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      // Three pools stand for three instances: each migrates over its own connections.
      const instance = PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })
      yield* Effect.all(Array.from({ length: 3 }, () => Effect.provide(migrate, instance)), { concurrency: "unbounded" })
      const applied = yield* Effect.provide(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: number }>`SELECT migration_id AS id FROM effect_sql_migrations`),
        instance
      )
      expect(applied.map((row) => row.id)).toEqual(migrationIds)
    }).pipe(Effect.scoped))

  it.effect("0006 (drafts): events from before it stay published, cancelled ones cancelled", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrator.make({})({
          loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0006")))
        })
        const [organizer] = yield* sql<{ id: number }>`
          INSERT INTO users (email, password_hash, role) VALUES ('old@example.com', 'x', 'ORGANIZER') RETURNING id`
        yield* sql`
          INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets, deleted_at)
          VALUES (${organizer!.id}, 'Kept', 'Hall', now() + interval '1 day', 10, 10, NULL),
                 (${organizer!.id}, 'Dropped', 'Hall', now() + interval '1 day', 10, 10, now())`
        yield* migrate
        const statuses = yield* sql<{ title: string; status: string }>`
          SELECT title, ${sql.literal(eventStatus("e"))} AS status FROM events e ORDER BY id`
        expect(statuses).toEqual([{ title: "Kept", status: "PUBLISHED" }, { title: "Dropped", status: "CANCELLED" }])
      }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })))
    }).pipe(Effect.scoped, Effect.orDie))

  it.effect("0008 (ticket lifecycle) over a database at 0007: its bookings are CONFIRMED, keep their key's id, and can be cancelled", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrator.make({})({
          loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0008")))
        })
        const [user] = yield* sql<{ id: UserId }>`
          INSERT INTO users (email, password_hash, role) VALUES ('old@example.com', 'x', 'CUSTOMER') RETURNING id`
        const [event] = yield* sql<{ id: EventId }>`
          INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
          VALUES (${user!.id}, 'Old', 'Hall', now() + interval '1 day', 10, 7) RETURNING id`
        const key = "00000000-0000-4000-8000-000000000007"
        const [booking] = yield* sql<{ id: number }>`
          INSERT INTO bookings (user_id, event_id, tickets_count, idempotency_id)
          VALUES (${user!.id}, ${event!.id}, 3, ${key}) RETURNING id`
        yield* migrate
        expect(yield* sql`SELECT status, cancelled_at AS "cancelledAt", hold_id AS "holdId" FROM bookings`)
          .toEqual([{ status: "CONFIRMED", cancelledAt: null, holdId: null }])

        const run = (operations: ReadonlyArray<Operation>) =>
          sql.withTransaction(applyAll(event!.id, operations, looseRules)).pipe(
            Effect.map(({ plan }) => plan.outcomes.map(Either.map((d) => d._tag === "Booking" ? [d.booking.id, d.booking.status] : d._tag)))
          )
        // A retry of the booking under its key still finds it; then it is cancelled, its tickets back.
        expect(yield* run([{ _tag: "Book", userId: user!.id, items: defaultItems(3), idempotencyId: key }]))
          .toEqual([Either.right([booking!.id, "CONFIRMED"])])
        expect(yield* run([{ _tag: "Cancel", userId: user!.id, bookingId: booking!.id }]))
          .toEqual([Either.right([booking!.id, "CANCELLED"])])
        const [{ available }] = yield* sql<{ available: number }>`SELECT available_tickets AS available FROM events`
        expect(available).toBe(10)
      }).pipe(Effect.provide(InventoryRepo.layer), Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })))
    }).pipe(Effect.scoped, Effect.orDie))
})
