/**
 * One client booking back to back through the engine alone (no HTTP, no workers): the latency and
 * the CPU of a booking's transaction, as the engine runs it (outbox and audit rows included), on a
 * scratch database of DATABASE_URL's server. 200 customers take turns on one event, as the bench's do.
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/engine-lone.ts [bookings]
 *
 * Prints p50/p90 and mean milliseconds a booking, and this process's CPU a booking.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import pg from "pg"
import { AuditLog } from "../../src/Audit/AuditLog.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems } from "../../src/Inventory/Operation.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Outbox } from "../../src/Jobs/Outbox.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { MigrationsLive } from "../../src/Storage/Migrations.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"

const bookings = Number(process.argv[2] ?? 2000)
const server = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
const name = `bench_engine_${process.pid}_${Date.now()}`
const admin = new pg.Client({ connectionString: server.toString() })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const scratch = new URL(server)
scratch.pathname = `/${name}`

const engine = Inventory.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(JobQueue.layer, Transactions.layer, InventoryRepo.layer, AuditLog.layer)),
  Layer.provideMerge(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
  Layer.provideMerge(AppConfig.layerTest({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 1_000_000 })),
  Layer.provideMerge(MigrationsLive),
  Layer.provideMerge(PgClient.layer({ url: Redacted.make(scratch.toString()), maxConnections: 10 })),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

const run = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const customers = yield* sql<{ id: UserId }>`
    INSERT INTO users (email, password_hash, role)
    SELECT 'c' || n || '@bench.example', 'x', 'CUSTOMER' FROM generate_series(1, 200) n RETURNING id`
  const [event] = yield* sql<{ id: EventId }>`
    INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets, published_at)
    VALUES (${customers[0]!.id}, 'Hot', 'Hall', now() + interval '1 day', 1000000, 1000000, now()) RETURNING id`
  yield* sql`INSERT INTO ticket_types (event_id, name, price_cents, is_default) VALUES (${event!.id}, 'General', 0, true)`
  const inventory = yield* Inventory
  const times: Array<number> = []
  const book = (count: number, timed: boolean) =>
    Effect.forEach(Array.from({ length: count }, (_, i) => customers[i % customers.length]!.id), (userId) =>
      Effect.gen(function*() {
        const start = performance.now()
        yield* inventory.submit(event!.id, { _tag: "Book", userId, items: defaultItems(1) })
        if (timed) times.push(performance.now() - start)
      }), { discard: true })
  yield* book(300, false) // warm up; every customer seen once
  const cpu = process.cpuUsage()
  const start = performance.now()
  yield* book(bookings, true)
  const wall = performance.now() - start
  const { system, user } = process.cpuUsage(cpu)
  times.sort((a, b) => a - b)
  const at = (q: number) => times[Math.floor(times.length * q)]!.toFixed(2)
  console.log(
    `engine alone, one client, ${bookings} bookings: p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, mean ${(wall / bookings).toFixed(2)} ms, ` +
      `CPU ${((user + system) / 1000 / bookings).toFixed(3)} ms a booking`
  )
})

try {
  await Effect.runPromise(Effect.scoped(Effect.flatMap(Layer.build(engine), (context) => Effect.provide(run, context))))
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
