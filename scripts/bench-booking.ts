/**
 * `npm run bench`: booking throughput and correctness, ours against the seed's approach, in one run.
 *
 *   ours           BookingsRepo.book in a transaction: one conditional UPDATE + INSERT statement
 *   ours + outbox  the Bookings service as the server runs it: the same plus the confirmation's
 *                  outbox row and NOTIFY in the transaction (what "no confirmation is ever lost" costs)
 *   seed (naive)   read the count, check it in code, then UPDATE and INSERT (what the seed did)
 *   seed + lock    the same with SELECT ... FOR UPDATE: correct, one more round trip
 *
 * Each strategy books 1 ticket BOOKINGS times with CONCURRENCY requests in flight, on an event
 * with plenty of tickets (throughput), then again on an event with 50 tickets (oversold count).
 * Uses a scratch database on DATABASE_URL's server, or an embedded PostgreSQL.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Config, Console, Context, Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { BookingsRepo } from "../src/Bookings/BookingsRepo.ts"
import type { EventId, UserId } from "../src/Domain/Ids.ts"
import { startEmbeddedPostgres } from "../src/Platform/EmbeddedPostgres.ts"
import { migrate } from "../src/Platform/Migrations.ts"
import { Bookings } from "../src/Bookings/Bookings.ts"
import { AppConfig } from "../src/Config.ts"
import { JobQueue } from "../src/Jobs/JobQueue.ts"
import { Outbox } from "../src/Jobs/Outbox.ts"
import { Transactions } from "../src/Platform/Transactions.ts"

const BOOKINGS = 2000
const CONCURRENCY = 20
const SCARCE_TICKETS = 50
const ROUNDS = 5

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const serverUrl = Effect.gen(function*() {
  const url = yield* Config.option(Config.string("DATABASE_URL"))
  if (Option.isSome(url)) return url.value
  const pg = yield* startEmbeddedPostgres(`.data/bench-${randomBytes(4).toString("hex")}`)
  return `postgres://${pg.user}:${pg.password}@${pg.host}:${pg.port}/postgres`
})

const client = (url: string) => PgClient.layer({ url: Redacted.make(url), maxConnections: CONCURRENCY })

/** A scratch database, dropped afterwards. */
const ScratchDatabase = Layer.unwrapScoped(Effect.gen(function*() {
  const server = yield* serverUrl
  const name = `bench_${randomBytes(6).toString("hex")}`
  const admin = (statement: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
    Layer.build(client(server)).pipe(
      Effect.flatMap((ctx) => statement(Context.get(ctx, SqlClient.SqlClient))),
      Effect.scoped,
      Effect.orDie
    )
  yield* Effect.acquireRelease(
    admin((sql) => sql`CREATE DATABASE ${sql(name)}`),
    () => admin((sql) => sql`DROP DATABASE ${sql(name)} WITH (FORCE)`)
  )
  const url = new URL(server)
  url.pathname = `/${name}`
  return client(url.toString())
}))

type Book = (userId: UserId, eventId: EventId) => Effect.Effect<boolean>

const strategies = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const repo = yield* BookingsRepo
  const transactions = yield* Transactions
  const bookings = yield* Bookings

  const succeeded = <A, E>(work: Effect.Effect<A, E>) => work.pipe(Effect.as(true), Effect.catchAll(() => Effect.succeed(false)))
  const ours: Book = (userId, eventId) => succeeded(transactions.run(repo.book({ userId, eventId, ticketsCount: 1 })))
  const withOutbox: Book = (userId, eventId) => succeeded(bookings.book(userId, { eventId, ticketsCount: 1 }))

  const seed = (lock: boolean): Book => (userId, eventId) =>
    sql.withTransaction(Effect.gen(function*() {
      const [event] = yield* sql<{ available: number }>`
        SELECT available_tickets AS available FROM events WHERE id = ${eventId}
        ${lock ? sql`FOR UPDATE` : sql``}`
      if (event === undefined || event.available < 1) return false
      // No CHECK constraint to save it here: the seed's schema had none (see below).
      yield* sql`UPDATE events SET available_tickets = ${event.available - 1} WHERE id = ${eventId}`
      yield* sql`INSERT INTO bookings (user_id, event_id, tickets_count) VALUES (${userId}, ${eventId}, 1)`
      return true
    })).pipe(Effect.orDie)

  return [
    ["ours", ours],
    ["ours + outbox", withOutbox],
    ["seed (naive)", seed(false)],
    ["seed + lock", seed(true)]
  ] as const
})

const run = Effect.gen(function*() {
  yield* migrate
  const sql = yield* SqlClient.SqlClient
  const [user] = yield* sql<{ id: UserId }>`
    INSERT INTO users (email, password_hash, role) VALUES ('bench@example.com', 'x', 'CUSTOMER') RETURNING id`
  const newEvent = (tickets: number) =>
    sql<{ id: EventId }>`
      INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
      VALUES (${user!.id}, 'Bench', 'Here', now() + interval '1 day', ${tickets}, ${tickets}) RETURNING id`.pipe(
      Effect.map((rows) => rows[0]!.id)
    )
  const bookedOn = (eventId: EventId) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM bookings WHERE event_id = ${eventId}`.pipe(Effect.map((r) => r[0]!.n))

  const all = yield* strategies
  // Warm up every strategy (connections, plans, JIT), then take the median of ROUNDS, interleaved
  // so that background load affects all of them alike.
  const throughput = (book: Book, bookings: number) =>
    Effect.gen(function*() {
      const roomy = yield* newEvent(1_000_000)
      const started = performance.now()
      yield* Effect.all(Array.from({ length: bookings }, () => book(user!.id, roomy)), { concurrency: CONCURRENCY })
      return bookings / ((performance.now() - started) / 1000)
    })
  for (const [, book] of all) yield* throughput(book, 200)
  const samples = new Map<string, Array<number>>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, book] of all) {
      samples.set(name, [...(samples.get(name) ?? []), yield* throughput(book, BOOKINGS / ROUNDS)])
    }
  }

  const results: Array<{ name: string; perSecond: number; oversold: number }> = []
  for (const [name, book] of all) {
    // Oversell check: the CHECK constraint is lifted so that a wrong strategy shows what it does.
    yield* sql`ALTER TABLE events DROP CONSTRAINT events_available_tickets_check`
    const scarce = yield* newEvent(SCARCE_TICKETS)
    yield* Effect.all(Array.from({ length: SCARCE_TICKETS * 4 }, () => book(user!.id, scarce)), { concurrency: CONCURRENCY })
    const oversold = (yield* bookedOn(scarce)) - SCARCE_TICKETS
    yield* sql`ALTER TABLE events ADD CONSTRAINT events_available_tickets_check CHECK (available_tickets BETWEEN 0 AND total_tickets) NOT VALID`
    results.push({ name, perSecond: median(samples.get(name)!), oversold })
  }

  const baseline = results.find((r) => r.name === "seed + lock")!.perSecond
  const oursAlone = results.find((r) => r.name === "ours")!.perSecond
  yield* Console.log(`${BOOKINGS} bookings of 1 ticket in ${ROUNDS} interleaved rounds (median), ${CONCURRENCY} in flight; then ${SCARCE_TICKETS * 4} on ${SCARCE_TICKETS} tickets`)
  for (const r of results) {
    yield* Console.log(
      `${r.name.padEnd(14)} ${r.perSecond.toFixed(0).padStart(6)} bookings/s  ` +
        `x${(r.perSecond / baseline).toFixed(2)} vs seed + lock  x${(r.perSecond / oursAlone).toFixed(2)} vs ours  oversold: ${r.oversold}`
    )
  }
})

run.pipe(
  Effect.provide(
    Bookings.layer.pipe(
      Layer.provide(JobQueue.layer),
      Layer.provideMerge(Layer.mergeAll(BookingsRepo.layer, Transactions.layer, Outbox.layer, AppConfig.layerTest())),
      Layer.provideMerge(ScratchDatabase)
    )
  ),
  // The service logs each booking; the other strategies do not.
  Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)),
  Effect.runPromise
).catch((error) => {
  console.error(error)
  process.exit(1)
})
