/**
 * One bench scenario on its own, for tuning: quicker than the whole `npm run bench`, with the
 * service's CPU time per request (steadier than rates on a shared machine) and, with `--profile`,
 * its hottest functions. Runs the compiled server (`npm run build` first) on a scratch database of
 * DATABASE_URL's server (with REDIS_URL's Redis when set), API only unless WORKERS=process (in the
 * API's process) or WORKERS=apart (a worker process of its own; both processes' CPU is counted).
 * `lone` is one client booking the hot event, each request timed to 0.01 ms. `--statements` also
 * counts, per request, what the service said to PostgreSQL (round trips, statements,
 * transactions) and to Redis (commands, by name), through counting proxies (`wire.ts`), which add
 * their own latency: its rates are not comparable with a run without it.
 *
 * `--idle-rss` also prints its RSS once it has been idle for 20 s after the run.
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/scenario.ts <ceiling|ceiling-book|health|events|book|spread|lone> [seconds] [connections] [--profile] [--statements] [--idle-rss]
 */
import { randomBytes } from "node:crypto"
import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { bookingRequest, customersWithTokens, roofBookingRequest } from "./customers.ts"
import { load, type Run, sequential } from "./load.ts"
import { type Child, npmStartFlags, settle, startChild, together } from "./processes.ts"
import { costCentres, topFunctions } from "./profile-top.ts"
import { scratch } from "./scratch.ts"
import { type PgCounts, pgTap, type RedisCounts, redisTap, type Tap } from "./wire.ts"

const [scenario = "book", secondsArg = "5", connectionsArg = "64"] = process.argv.slice(2).filter((arg) => !arg.startsWith("--"))
const seconds = Number(secondsArg)
const connections = scenario === "lone" ? 1 : Number(connectionsArg)
const profile = process.argv.includes("--profile")
const statements = process.argv.includes("--statements")
/** `--idle-rss`: the server's RSS again once it has been idle for IDLE_RSS_MS after the run. */
const idleRss = process.argv.includes("--idle-rss")
const IDLE_RSS_MS = 20_000
const PROFILE_DIR = "bench/profile-scenario"
// NODE_FLAGS="…" tries other flags for the server (npm start's are the default).
const NODE_FLAGS = process.env.NODE_FLAGS?.split(" ") ?? npmStartFlags()

/** The counting proxies of `--statements`. */
interface Taps {
  readonly pg: Tap<PgCounts>
  readonly redis: Tap<RedisCounts> | undefined
}

/**
 * Runs `run` twice (the first warms up) and reports the second with the server's CPU per request:
 * during the run, and with the work it left queued (emails) once the server is idle again; with
 * `taps`, also what it said to PostgreSQL and Redis per request, its queued work included.
 */
const measure = async (server: Child, run: () => Promise<Run>, taps?: Taps) => {
  await run()
  await settle(server)
  const before = server.cpuMs()
  const wireBefore = taps && { pg: taps.pg.counts(), redis: taps.redis?.counts() }
  const result = await run()
  const requests = Math.max(1, result.ok + result.failed)
  const during = (server.cpuMs() - before) / requests
  const rss = server.rssMb()
  await settle(server)
  const withQueued = (server.cpuMs() - before) / requests
  console.log(
    `${scenario} (${connections} connections, ${seconds} s): ${result.perSecond} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
      `server CPU ${during.toFixed(3)} ms/req (${withQueued.toFixed(3)} with its queued work), RSS ${rss} MB, ` +
      `statuses ${JSON.stringify(result.statuses)}`
  )
  if (taps && wireBefore) console.log(perRequest(requests, taps, wireBefore))
  measured = withQueued
  if (idleRss) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_RSS_MS))
    console.log(`RSS after ${IDLE_RSS_MS / 1000} s idle: ${server.rssMb()} MB`)
  }
}

/** The measured run's CPU per request, its queued work included (for `--profile`'s cost centres). */
let measured = 0

/** What the service said to its servers per request, from the taps' counts now and `before`. */
const perRequest = (requests: number, taps: Taps, before: { pg: PgCounts; redis: RedisCounts | undefined }) => {
  const each = (n: number) => (n / requests).toFixed(2)
  // Each name's count since `before`, most first.
  const byName = (now: Readonly<Record<string, number>>, then: Readonly<Record<string, number>>) =>
    Object.entries(now)
      .map(([name, n]) => [name, n - (then[name] ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
  const pg = taps.pg.counts()
  const lines = [
    `Per request, its queued work included (${requests} requests, through the counting proxies):`,
    `  PostgreSQL: ${each(pg.transactions - before.pg.transactions)} transactions, ` +
    `${each(pg.statements - before.pg.statements)} statements, ${each(pg.roundTrips - before.pg.roundTrips)} round trips`,
    ...byName(pg.byStatement, before.pg.byStatement).map(([text, n]) => `    ${each(n)}  ${text}`)
  ]
  if (taps.redis && before.redis) {
    const redis = taps.redis.counts()
    const commands = byName(redis.byName, before.redis.byName).map(([name, n]) => `${name} ${each(n)}`)
    lines.push(`  Redis: ${each(redis.commands - before.redis.commands)} commands (${commands.join(", ")})`)
  }
  return lines.join("\n")
}

const main = async () => {
  const children: Array<Child> = []
  const flags = [...NODE_FLAGS, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [])]
  if (profile) rmSync(PROFILE_DIR, { recursive: true, force: true })
  if (scenario === "ceiling" || scenario === "ceiling-book") {
    const ceiling = await startChild(children, "dist/scripts/bench/ceiling-httpapi.js", {}, flags)
    await measure(
      ceiling,
      scenario === "ceiling"
        ? () => load({ url: `${ceiling.url}/ping`, connections, seconds })
        : () => load({ url: ceiling.url, connections, seconds, request: roofBookingRequest() })
    )
    await ceiling.stop()
    return report()
  }
  const server = process.env.DATABASE_URL
  if (server === undefined) throw new Error("DATABASE_URL: the PostgreSQL server to make a scratch database on")
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  const database = `bench_${randomBytes(6).toString("hex")}`
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(server)
  url.pathname = `/${database}`
  const space = scratch()
  const taps: Taps | undefined = statements
    ? { pg: await pgTap(url.toString()), redis: space.env.REDIS_URL ? await redisTap(space.env.REDIS_URL) : undefined }
    : undefined
  try {
    const secret = randomBytes(32).toString("hex")
    const env = {
      NODE_ENV: "production",
      JWT_SECRET: secret,
      MAX_TICKETS_PER_CUSTOMER_PER_EVENT: "1000000",
      ...space.env,
      // The service's connections go through the taps, counted; the bench's own go straight.
      DATABASE_URL: taps?.pg.url ?? url.toString(),
      ...(taps?.redis ? { REDIS_URL: taps.redis.url } : {})
    }
    // WORKERS: none (API only, the default), "process" (the API's own, as `npm start`) or "apart" (`npm run worker`).
    const workers = process.env.WORKERS ?? "none"
    const api1 = await startChild(children, "dist/src/main.js", { ...env, RUN_WORKERS: String(workers === "process") }, flags)
    const app = workers === "apart"
      ? together(api1, await startChild(children, "dist/src/worker.js", env, flags, "METRICS_PORT"))
      : api1
    const api = `${app.url}/api`
    const db = new pg.Client({ connectionString: url.toString() })
    await db.connect()
    const { rows: [organizer] } = await db.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, role) VALUES ('organizer@bench.example', 'not a hash', 'ORGANIZER') RETURNING id`
    )
    const { rows: [hot] } = await db.query<{ id: number }>(
      `
      INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
      SELECT $1, 'Event ' || n, 'Arena', '2099-06-01', 1000000, 1000000 FROM generate_series(1, 20) n RETURNING id`,
      [organizer!.id]
    )
    const { rows: spread } = await db.query<{ id: number }>(
      `
      INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
      SELECT $1, 'Spread ' || n, 'Hall', '2099-01-01', 1000000, 1000000 FROM generate_series(1, 1000) n RETURNING id`,
      [organizer!.id]
    )
    // Each event with its default ticket type, as an event made through the API has.
    await db.query(
      `
      INSERT INTO ticket_types (event_id, name, price_cents, quota, is_default)
      SELECT id, 'General admission', 0, total_tickets, true FROM events e
      WHERE e.organizer_id = $1 AND NOT EXISTS (SELECT FROM ticket_types t WHERE t.event_id = e.id)`,
      [organizer!.id]
    )
    const { tokens } = await customersWithTokens(db, secret)
    await db.end()
    const runs: Record<string, () => Promise<Run>> = {
      health: () => load({ url: `${api}/health`, connections, seconds }),
      events: () => load({ url: `${api}/events`, connections, seconds }),
      book: () => booking(() => hot!.id),
      spread: () => booking(() => spread[Math.floor(Math.random() * spread.length)]!.id),
      lone: () => sequential({ url: app.url, seconds, request: bookingRequest(tokens, () => hot!.id) })
    }
    function booking(eventOf: () => number) {
      return load({ url: app.url, connections, seconds, request: bookingRequest(tokens, eventOf) })
    }
    const run = runs[scenario]
    if (run === undefined) throw new Error(`unknown scenario ${scenario}: ceiling, ceiling-book, health, events, book, spread or lone`)
    await measure(app, run, taps)
    await app.stop()
    report()
  } finally {
    for (const child of children) await child.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
    await space.remove()
    await taps?.pg.close()
    await taps?.redis?.close()
  }
}

const report = () => {
  if (!profile) return
  const files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(PROFILE_DIR, f))
  for (const file of files) {
    console.log(`\nHottest functions (self time), ${file}:\n${topFunctions(file).join("\n")}`)
  }
  // Every thread of the server: the shares of its whole life (start-up is a small part of a run of
  // seconds), spread over the measured run's CPU per request.
  const centres = costCentres(files.filter((f) => !f.includes("ceiling")), "dist/src/main.js.map")
  console.log(`\nCost centres, all threads (${measured.toFixed(3)} ms of CPU per request, queued work included):`)
  for (const { label, share } of centres) {
    console.log(`  ${(share * measured).toFixed(3).padStart(7)} ms  ${(100 * share).toFixed(1).padStart(5)}%  ${label}`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
