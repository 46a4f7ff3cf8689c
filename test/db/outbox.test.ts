/** The transactional outbox and the delivery log on a real PostgreSQL database, with a fake publisher instead of a queue. */
import { Migrator, SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it, layer } from "@effect/vitest"
import { Deferred, Effect, Either, Layer, Logger, LogLevel, Option, Redacted, Ref, Schema } from "effect"
import pg from "pg"
import { migrations } from "../../migrations/index.ts"
import { Accounts } from "../../src/Accounts/Accounts.ts"
import { Passwords } from "../../src/Accounts/Passwords.ts"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import type { BookingId, EventId, UserId } from "../../src/Domain/Ids.ts"
import type { Role } from "../../src/Domain/Role.ts"
import { Events } from "../../src/Events/Events.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { type Job, jobCatalogue, JobCatalogueLive } from "../../src/Jobs.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { jobIdOf, Outbox, type OutboxEntry } from "../../src/Jobs/Outbox.ts"
import { Deliveries } from "../../src/Notifications/Deliveries.ts"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { migrate } from "../../src/Storage/Migrations.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { freshDatabaseUrl, TestDatabaseLive } from "../support/database.ts"
import { deliveriesContract, once, onceEach, sender, uniqueKey } from "../support/deliveries.ts"

/** The services with the live JobQueue: every job is an outbox row. No queue backend, no relay. */
const OutboxTest = Layer.mergeAll(Accounts.layer, Events.layer, Bookings.layer, Deliveries.layer).pipe(
  Layer.provideMerge(Inventory.layer),
  Layer.provideMerge(Layer.mergeAll(Passwords.layer, Tokens.layer, JobQueue.layer)),
  Layer.provideMerge(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
  Layer.provideMerge(PersistenceSql),
  Layer.provideMerge(AppConfig.layerTest()),
  Layer.provideMerge(TestDatabaseLive),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

const DAY = 86_400_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
let emails = 0

const aUser = (role: Role) =>
  Effect.flatMap(
    Accounts,
    (accounts) => accounts.register({ email: `outbox-${++emails}@example.com`, password: Redacted.make("correct horse battery"), role })
  ).pipe(
    Effect.orDie
  )

/** An organizer, a customer and an event of theirs ("Conf" at "Hall", in 30 days). */
const aScene = (totalTickets = 10) =>
  Effect.gen(function*() {
    const organizer = yield* aUser("ORGANIZER")
    const customer = yield* aUser("CUSTOMER")
    const event = yield* Effect.flatMap(Events, (events) =>
      events.create(organizer, {
        title: "Conf",
        description: "",
        date: new Date(Date.now() + 30 * DAY),
        location: "Hall",
        totalTickets
      })).pipe(Effect.orDie)
    return { organizer, customer, event }
  })

const query = <A extends object>(run: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, run).pipe(Effect.orDie)

const decodeJob = (payload: unknown) => Schema.decodeUnknownSync(jobCatalogue.schema)(payload) as Job

/** Every outbox row, by id, with its payload decoded by the catalogue's schema. */
const outboxRows = query((sql) =>
  sql<{ id: string; queue: string; name: string; payload: unknown; published: boolean }>`
    SELECT id::text AS id, queue, name, payload, published_at IS NOT NULL AS published FROM outbox ORDER BY outbox.id`
).pipe(Effect.map((rows) => rows.map((row) => ({ ...row, job: decodeJob(row.payload) }))))

const ids = Effect.map(outboxRows, (rows) => rows.map((row) => row.id))
const published = Effect.map(outboxRows, (rows) => rows.map((row) => row.published))

/** Booking confirmation number `n`: a job to fill the outbox with (the outbox has no foreign keys). */
const confirmation = (n: number): Job => ({
  _tag: "BookingConfirmed",
  bookingId: n as BookingId,
  userId: 1 as UserId,
  eventId: 1 as EventId,
  ticketsCount: 1
})

/** Appends confirmations 1..count, each committed on its own. */
const appendJobs = (count: number) =>
  Effect.flatMap(
    Outbox,
    (outbox) =>
      Effect.forEach(Array.from({ length: count }, (_, i) => confirmation(i + 1)), (job) => outbox.append([job]), { discard: true })
  )

/** A publish function that records each batch it is given. */
const recorder = Effect.map(Ref.make<ReadonlyArray<ReadonlyArray<OutboxEntry>>>([]), (batches) => ({
  batches: Ref.get(batches),
  publish: (entries: ReadonlyArray<OutboxEntry>) => Ref.update(batches, (all) => [...all, entries])
}))

const publishPending = <E>(limit: number, publish: (entries: ReadonlyArray<OutboxEntry>) => Effect.Effect<void, E>) =>
  Effect.flatMap(Outbox, (outbox) => outbox.publishPending(limit, publish))

/** Returns once `parties` fibers wait in it; fails after 5 s if the others never come. */
const barrier = (parties: number) =>
  Effect.gen(function*() {
    const arrived = yield* Ref.make(0)
    const open = yield* Deferred.make<void>()
    return Ref.updateAndGet(arrived, (n) => n + 1).pipe(
      Effect.flatMap((n) => n === parties ? Deferred.succeed(open, undefined) : Effect.void),
      Effect.zipRight(Deferred.await(open)),
      Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`${parties} parties never waited together`) })
    )
  })

/** The rows this process committed, as the relay takes them (what is there now, or none within 500 ms). */
const handedOver = Effect.flatMap(Outbox, (outbox) => outbox.committed("0 millis").pipe(Effect.timeoutOption("500 millis")))

const rolledBack = <A, E, R>(work: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Transactions, (transactions) => transactions.run(work.pipe(Effect.zipRight(Effect.fail("the next step failed" as const)))))
    .pipe(Effect.flip)

const deliveryRows = (keys: ReadonlyArray<string>) =>
  query((sql) =>
    sql<{ key: string; message_id: string | null; sent: boolean; claimed_by: string | null }>`
      SELECT key, message_id, sent_at IS NOT NULL AS sent, claimed_by FROM deliveries WHERE key = ANY(${keys}::text[]) ORDER BY key`
  )

/** Ends every other connection to the test's database (at `url`), from a connection of its own (none of the pool's). */
const cutConnections = (url: string) =>
  Effect.promise(async () => {
    const client = new pg.Client(url)
    await client.connect()
    try {
      await client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
      )
    } finally {
      await client.end()
    }
  })

layer(OutboxTest, { excludeTestServices: true, timeout: 60_000 })((it) => {
  /** The database is the file's: each test starts from an empty outbox and delivery log. */
  const test = <A, E>(name: string, body: Effect.Effect<A, E, Layer.Layer.Success<typeof OutboxTest>>) =>
    it.effect(name, () => query((sql) => sql`TRUNCATE outbox, deliveries`).pipe(Effect.zipRight(body)))

  describe("the services write jobs to the outbox", () => {
    test(
      "a booking writes one BookingsConfirmed row on email-queue, in the booking's transaction",
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const booking = yield* Effect.flatMap(Bookings, (bookings) => bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 }))

        const rows = yield* outboxRows
        expect(rows.map(({ job, name, published, queue }) => ({ queue, name, published, job }))).toEqual([{
          queue: "email-queue",
          name: "BookingsConfirmed",
          published: false,
          job: { _tag: "BookingsConfirmed", bookings: [{ bookingId: booking.id, userId: customer.id, eventId: event.id, ticketsCount: 2 }] }
        }])
        // now() is the transaction's start: equal timestamps mean one transaction wrote both rows.
        const [same] = yield* query((sql) =>
          sql<{ same: boolean }>`SELECT o.created_at = b.created_at AS same FROM outbox o, bookings b WHERE b.id = ${booking.id}`
        )
        expect(same).toEqual({ same: true })
      })
    )

    test(
      "a refused booking writes no row: not enough tickets, unknown event",
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(1)
        const book = (eventId: EventId) =>
          Effect.flatMap(Bookings, (bookings) => bookings.book(customer.id, { eventId, ticketsCount: 2 })).pipe(Effect.flip)

        expect(yield* book(event.id)).toMatchObject({ _tag: "NotEnoughTickets", available: 1 })
        expect((yield* book(2_000_000_000 as EventId))._tag).toBe("EventNotFound")
        expect(yield* outboxRows).toEqual([])
      })
    )

    test(
      "text that looks like SQL reaches the outbox as it was written (its rows travel inline with the COMMIT)",
      Effect.gen(function*() {
        const { event, organizer } = yield* aScene()
        const bookings = query((sql) => sql`SELECT count(*)::int AS n FROM bookings`)
        const before = yield* bookings
        const location = "O'Brien's \\ Hall'); DROP TABLE bookings; -- $fn$ \u00e9\u{1F3B5}"
        yield* Effect.flatMap(Events, (events) => events.update(organizer, event.id, { location }))
        expect((yield* outboxRows).map(({ job }) => job._tag === "EventUpdated" && job.changes)).toEqual([
          [{ field: "location", before: "Hall", after: location }]
        ])
        expect(yield* bookings).toEqual(before)
      })
    )

    test(
      "an update writes one EventUpdated row on notification-queue, with the change",
      Effect.gen(function*() {
        const { event, organizer } = yield* aScene()
        yield* Effect.flatMap(Events, (events) => events.update(organizer, event.id, { location: "Hall B" }))

        expect((yield* outboxRows).map(({ job, queue }) => ({ queue, job }))).toEqual([{
          queue: "notification-queue",
          job: {
            _tag: "EventUpdated",
            eventId: event.id,
            event: { title: "Conf", date: event.date, location: "Hall B" },
            changes: [{ field: "location", before: "Hall", after: "Hall B" }]
          }
        }])
      })
    )

    test(
      "a cancellation writes one EventCancelled row on notification-queue",
      Effect.gen(function*() {
        const { event, organizer } = yield* aScene()
        yield* Effect.flatMap(Events, (events) => events.cancel(organizer, event.id))

        expect((yield* outboxRows).map(({ job, queue }) => ({ queue, job }))).toEqual([{
          queue: "notification-queue",
          job: { _tag: "EventCancelled", eventId: event.id, event: { title: "Conf", date: event.date, location: "Hall" } }
        }])
      })
    )

    test(
      "an outbox write that fails leaves neither the bookings nor their rows: 503 BookingFailed, retried once",
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const book = Effect.flatMap(Bookings, (bookings) => bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 }))
        yield* query((sql) => sql`ALTER TABLE outbox ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`)
        const failure = yield* Effect.flip(book).pipe(
          Effect.ensuring(query((sql) => sql`ALTER TABLE outbox DROP CONSTRAINT refuse_all`))
        )

        expect(failure).toMatchObject({ _tag: "BookingFailed", message: expect.stringContaining("nothing was booked") })
        expect(yield* query((sql) => sql`SELECT id FROM bookings WHERE event_id = ${event.id}`)).toEqual([])
        expect(yield* query((sql) => sql`SELECT available_tickets FROM events WHERE id = ${event.id}`)).toEqual([{ available_tickets: 10 }])
        expect(yield* outboxRows).toEqual([])
        // The line is not stuck: the next booking goes through.
        expect((yield* book).event.availableTickets).toBe(8)
      })
    )
  })

  describe("Outbox.publishPending", () => {
    test(
      "publishes at most `limit` pending rows, oldest first, and marks them published",
      Effect.gen(function*() {
        yield* appendJobs(3)
        const all = yield* ids
        const relay = yield* recorder

        expect(yield* publishPending(2, relay.publish)).toBe(2)
        expect(yield* published).toEqual([true, true, false])
        expect(yield* publishPending(2, relay.publish)).toBe(1)
        expect(yield* publishPending(2, relay.publish)).toBe(0)

        const batches = yield* relay.batches
        expect(batches.map((batch) => batch.map((entry) => entry.id))).toEqual([all.slice(0, 2), all.slice(2)])
        expect(batches.flat().map(({ name, payload, queue }) => ({ queue, name, job: decodeJob(payload) }))).toEqual(
          [1, 2, 3].map((n) => ({ queue: "email-queue", name: "BookingConfirmed", job: confirmation(n) }))
        )
        expect(yield* published).toEqual([true, true, true])
      })
    )

    test(
      "a failed publish leaves every row pending, and the next call publishes them",
      Effect.gen(function*() {
        yield* appendJobs(3)
        const failure = yield* publishPending(10, () => Effect.fail("queue unreachable" as const)).pipe(Effect.flip)
        expect(failure).toBe("queue unreachable")
        expect(yield* published).toEqual([false, false, false])

        const relay = yield* recorder
        expect(yield* publishPending(10, relay.publish)).toBe(3)
        expect((yield* relay.batches).map((batch) => batch.map((entry) => entry.id))).toEqual([yield* ids])
        expect(yield* published).toEqual([true, true, true])
      })
    )

    test(
      "a row published a second time carries the same job id, `${name}-${uuid}` from its job_id",
      Effect.gen(function*() {
        yield* appendJobs(1)
        const [row] = yield* query((sql) => sql<{ job_id: string }>`SELECT job_id FROM outbox`)
        const relay = yield* recorder
        yield* publishPending(10, relay.publish)
        // As after a relay crashed between publishing and marking the row.
        yield* query((sql) => sql`UPDATE outbox SET published_at = NULL`)
        yield* publishPending(10, relay.publish)

        const jobIds = (yield* relay.batches).flat().map(jobIdOf)
        expect(row!.job_id).toMatch(UUID)
        expect(jobIds).toEqual([`BookingConfirmed-${row!.job_id}`, `BookingConfirmed-${row!.job_id}`])
      })
    )

    test(
      "every row gets its own job id from the column default, a multi-row INSERT too",
      Effect.gen(function*() {
        yield* appendJobs(2)
        // A statement that names no job_id, as a batched insert of several jobs would.
        yield* query((sql) =>
          sql`
        INSERT INTO outbox (queue, name, payload)
        SELECT queue, name, payload FROM outbox, generate_series(1, 3)`
        )
        const rows = yield* query((sql) => sql<{ job_id: string }>`SELECT job_id FROM outbox`)
        expect(rows).toHaveLength(8)
        expect(rows.every((row) => UUID.test(row.job_id))).toBe(true)
        expect(new Set(rows.map((row) => row.job_id)).size).toBe(8)
      })
    )

    test(
      "two relays at once claim disjoint rows (SKIP LOCKED) and together publish all of them",
      Effect.gen(function*() {
        yield* appendJobs(30)
        // Each relay publishes only once both hold their rows: neither may wait for the other's locks.
        const together = yield* barrier(2)
        const relay = () =>
          Effect.gen(function*() {
            const given = yield* Ref.make<ReadonlyArray<string>>([])
            const count = yield* publishPending(
              20,
              (entries) => Ref.set(given, entries.map((entry) => entry.id)).pipe(Effect.zipRight(together))
            )
            return { count, ids: yield* Ref.get(given) }
          })
        const [a, b] = yield* Effect.all([relay(), relay()], { concurrency: 2 })

        expect([a.count, b.count].sort((x, y) => x - y)).toEqual([10, 20])
        expect(a.ids.filter((id) => b.ids.includes(id))).toEqual([])
        expect([...a.ids, ...b.ids].sort((x, y) => Number(x) - Number(y))).toEqual(yield* ids)
        expect(new Set(yield* published)).toEqual(new Set([true]))
      })
    )
  })

  describe("Outbox.prune and Outbox.backlog", () => {
    test(
      "prune deletes rows published more than `hours` ago; recent and pending rows stay",
      Effect.gen(function*() {
        yield* appendJobs(3)
        yield* publishPending(2, () => Effect.void)
        const [old, recent, pending] = yield* ids
        yield* query((sql) => sql`UPDATE outbox SET published_at = now() - interval '10 days' WHERE id = ${old}`)
        const prune = (hours: number) => Effect.flatMap(Outbox, (outbox) => outbox.prune(hours))

        expect(yield* prune(11 * 24)).toBe(0)
        expect(yield* prune(9 * 24)).toBe(1)
        expect(yield* ids).toEqual([recent, pending])
        expect(yield* published).toEqual([true, false])
      })
    )

    test(
      "backlog counts pending rows and the age of the oldest, null when none",
      Effect.gen(function*() {
        const backlog = Effect.flatMap(Outbox, (outbox) => outbox.backlog)
        expect(yield* backlog).toEqual({ pending: 0, oldestPendingSeconds: null })

        yield* appendJobs(3)
        const [first, second] = yield* ids
        yield* query((sql) => sql`UPDATE outbox SET created_at = now() - interval '90 seconds' WHERE id = ${first}`)
        yield* query((sql) => sql`UPDATE outbox SET created_at = now() - interval '30 seconds' WHERE id = ${second}`)
        expect(yield* backlog).toEqual({ pending: 3, oldestPendingSeconds: 90 })

        yield* publishPending(1, () => Effect.void)
        expect(yield* backlog).toEqual({ pending: 2, oldestPendingSeconds: 30 })
        yield* publishPending(10, () => Effect.void)
        expect(yield* backlog).toEqual({ pending: 0, oldestPendingSeconds: null })
      })
    )
  })

  describe("Outbox.committed (the relay's direct path)", () => {
    test(
      "a transaction's rows are handed over once it committed: the rows it wrote, in order, sent with its COMMIT",
      Effect.gen(function*() {
        const outbox = yield* Outbox
        yield* handedOver // what earlier tests committed
        const sql = yield* SqlClient.SqlClient
        const [{ last }] = yield* sql<{ last: string }>`SELECT COALESCE(max(id), 0) AS last FROM outbox`
        yield* Effect.flatMap(Transactions, (transactions) => transactions.run(outbox.append([confirmation(2), confirmation(3)])))
        const entries = Option.getOrThrow(yield* handedOver)
        const rows = yield* sql<{ id: string; job_id: string }>`SELECT id, job_id FROM outbox WHERE id > ${last} ORDER BY id`
        expect(entries.map(({ id, jobId }) => ({ id, job_id: jobId }))).toEqual(rows)
        expect(entries.map(({ payload }) => (payload as { bookingId: number }).bookingId)).toEqual([2, 3])
      })
    )

    test(
      "rows of a transaction that rolled back are never handed over (nor written)",
      Effect.gen(function*() {
        const outbox = yield* Outbox
        yield* handedOver // what earlier tests committed
        const sql = yield* SqlClient.SqlClient
        const [{ before }] = yield* sql<{ before: number }>`SELECT count(*)::int AS before FROM outbox`
        expect(yield* rolledBack(outbox.append([confirmation(2)]))).toBe("the next step failed")
        expect(yield* handedOver).toEqual(Option.none())
        expect(yield* sql`SELECT count(*)::int AS n FROM outbox`).toEqual([{ n: before }])
      })
    )

    test(
      "the sweep leaves rows younger than its minimum age to the direct path",
      Effect.gen(function*() {
        const outbox = yield* Outbox
        yield* outbox.publishPending(10_000, () => Effect.void) // what earlier tests left
        yield* outbox.append([confirmation(2)])
        expect(yield* outbox.publishPending(10, () => Effect.void, 60_000)).toBe(0)
        expect(yield* outbox.publishPending(10, () => Effect.void, 0)).toBe(1)
      })
    )
  })

  describe("Deliveries.onceEach (PostgreSQL)", () => {
    deliveriesContract(it)

    it.effect("each email is a row: its key, the message id, sent, and the run that claimed it", () =>
      Effect.gen(function*() {
        const [sent, failed] = [uniqueKey("booking-a"), uniqueKey("booking-b")]
        yield* onceEach([[sent, () => Effect.succeed("<m@x>")], [failed, () => Effect.fail("refused")]])
        const rows = yield* deliveryRows([sent, failed])
        expect(rows).toEqual([
          { key: sent, message_id: "<m@x>", sent: true, claimed_by: expect.stringMatching(UUID) },
          // A withdrawn claim: free for the next run to take.
          { key: failed, message_id: null, sent: false, claimed_by: null }
        ])
      }))

    it.effect("every connection cut during the send: the send is still recorded, and a retry does not send again", () =>
      Effect.gen(function*() {
        const key = uniqueKey("booking")
        const { runs, send } = yield* sender()
        const url = Redacted.value((yield* PgClient.PgClient).config.url!)
        expect(yield* once(key, (id) => cutConnections(url).pipe(Effect.zipRight(send(id))))).toBe("sent")
        expect(yield* once(key, send)).toBe("already-sent")
        expect(yield* runs).toBe(1)
        expect(yield* deliveryRows([key])).toMatchObject([{ key, message_id: "message-1", sent: true }])
      }))

    it.effect("a record that fails (the database refuses it for a while) is tried again until it holds", () =>
      Effect.gen(function*() {
        const key = uniqueKey("booking")
        const { runs, send } = yield* sender()
        const sql = yield* SqlClient.SqlClient
        const refuse = sql`ALTER TABLE deliveries ADD CONSTRAINT refuse_records CHECK (sent_at IS NULL) NOT VALID`.pipe(Effect.orDie)
        const allow = sql`ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS refuse_records`.pipe(Effect.orDie)
        const outcome = yield* once(key, (id) =>
          refuse.pipe(
            Effect.zipRight(allow.pipe(Effect.delay("400 millis"), Effect.forkDaemon)),
            Effect.zipRight(send(id))
          )).pipe(Effect.ensuring(allow))
        expect(outcome).toBe("sent")
        expect(yield* once(key, send)).toBe("already-sent")
        expect(yield* runs).toBe(1)
      }))

    it.effect("a claim left by a run that died is taken over once its lease (JOB_LOCK_MS) has run out, not before", () =>
      Effect.gen(function*() {
        const [expired, running] = [uniqueKey("booking-a"), uniqueKey("booking-b")]
        const { runs, send } = yield* sender()
        yield* query((sql) =>
          sql`
            INSERT INTO deliveries (key, kind, job_id, recipient, claimed_by, claimed_at)
            VALUES (${expired}, 'BookingConfirmed', 'BookingConfirmed-1', 'ann@example.com', 'a run that died', now() - interval '31 seconds'),
                   (${running}, 'BookingConfirmed', 'BookingConfirmed-1', 'ann@example.com', 'a run still sending', now())`
        )
        expect(yield* once(expired, send)).toBe("sent")
        // The run still holding its claim records it while the other waits: nothing is sent twice.
        const record = query((sql) => sql`UPDATE deliveries SET sent_at = now(), message_id = 'theirs' WHERE key = ${running}`)
        const [outcome] = yield* Effect.all([once(running, send), record.pipe(Effect.delay("300 millis"))], { concurrency: 2 })
        expect(outcome).toBe("already-sent")
        expect(yield* runs).toBe(1)
      }))
  })
})

describe("migrations 0003 (job ids) and 0005 (queue namespace) over an outbox in use", () => {
  it.effect("rows written before keep the job ids BullMQ knows them by; the last day's are published again", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      const db = PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const upTo = (last: string) =>
          Migrator.make({})({
            loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last)))
          })
        yield* upTo("0002_outbox_and_deliveries")
        // Pending, published an hour ago, published two days ago.
        yield* sql`
          INSERT INTO outbox (queue, name, payload, published_at)
          VALUES ('email-queue', 'BookingConfirmed', '{}', NULL),
                 ('email-queue', 'BookingConfirmed', '{}', now() - interval '1 hour'),
                 ('email-queue', 'BookingConfirmed', '{}', now() - interval '2 days')`
        yield* migrate
        const rows = yield* sql<{ id: string; job_id: string; published: boolean }>`
          SELECT id::text, job_id, published_at IS NOT NULL AS published FROM outbox ORDER BY id`
        expect(rows).toEqual([
          { id: "1", job_id: "1", published: false },
          { id: "2", job_id: "2", published: false },
          { id: "3", job_id: "3", published: true }
        ])
        yield* sql`INSERT INTO outbox (queue, name, payload) VALUES ('email-queue', 'BookingConfirmed', '{}')`
        const [added] = yield* sql<{ job_id: string }>`SELECT job_id FROM outbox WHERE id = 4`
        expect(added!.job_id).toMatch(UUID)
        const namespaces = yield* sql<{ id: string }>`SELECT id::text FROM queue_namespace`
        expect(namespaces).toHaveLength(1)
        expect(namespaces[0]!.id).toMatch(UUID)
      }).pipe(Effect.provide(db))
    }).pipe(Effect.scoped, Effect.orDie), 30_000)
})

describe("migration 0009 (delivery claims) over a delivery log in use", () => {
  it.effect("an email recorded before stays sent: a retried job sends it no more", () =>
    Effect.gen(function*() {
      const url = yield* freshDatabaseUrl
      const db = PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* Migrator.make({})({
          loader: Migrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0009")))
        })
        yield* sql`
          INSERT INTO deliveries (key, kind, job_id, recipient, message_id)
          VALUES ('booking-confirmed-1', 'BookingsConfirmed', 'BookingsConfirmed-1', 'ann@example.com', '<old@x>')`
        yield* migrate
        const { runs, send } = yield* sender()
        const outcomes = yield* onceEach([["booking-confirmed-1", send], ["booking-confirmed-2", send]]).pipe(
          Effect.provide(Deliveries.layer.pipe(Layer.provide(AppConfig.layerTest())))
        )
        expect(outcomes).toEqual([Either.right("already-sent"), Either.right("sent")])
        expect(yield* runs).toBe(1)
      }).pipe(Effect.provide(db))
    }).pipe(Effect.scoped, Effect.orDie), 30_000)
})
