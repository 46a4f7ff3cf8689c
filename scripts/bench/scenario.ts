/**
 * One bench scenario on its own, for tuning: quicker than the whole `npm run bench`, with the
 * service's CPU time per request (steadier than rates on a shared machine) and, with `--profile`,
 * its hottest functions. Runs the compiled server (`npm run build` first) on a scratch database of
 * DATABASE_URL's server, API only unless WORKERS=process (in the API's process) or WORKERS=apart (a
 * worker process of its own; both processes' CPU is counted).
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/scenario.ts <ceiling|ceiling-book|health|events|book|spread> [seconds] [connections] [--profile]
 */
import { randomBytes } from "node:crypto"
import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { bookingRequest, customersWithTokens, roofBookingRequest } from "./customers.ts"
import { load } from "./load.ts"
import { type Child, npmStartFlags, settle, startChild, together } from "./processes.ts"
import { topFunctions } from "./profile-top.ts"
import { scratch } from "./scratch.ts"

const [scenario = "book", secondsArg = "5", connectionsArg = "64"] = process.argv.slice(2).filter((arg) => !arg.startsWith("--"))
const seconds = Number(secondsArg)
const connections = Number(connectionsArg)
const profile = process.argv.includes("--profile")
const PROFILE_DIR = "bench/profile-scenario"
// NODE_FLAGS="…" tries other flags for the server (npm start's are the default).
const NODE_FLAGS = process.env.NODE_FLAGS?.split(" ") ?? npmStartFlags()

/**
 * Runs `run` twice (the first warms up) and reports the second with the server's CPU per request:
 * during the run, and with the work it left queued (emails) once the server is idle again.
 */
const measure = async (server: Child, run: () => ReturnType<typeof load>) => {
  await run()
  await settle(server)
  const before = server.cpuMs()
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
  try {
    const secret = randomBytes(32).toString("hex")
    const env = {
      DATABASE_URL: url.toString(),
      NODE_ENV: "production",
      JWT_SECRET: secret,
      MAX_TICKETS_PER_CUSTOMER_PER_EVENT: "1000000",
      ...space.env
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
    const { tokens } = await customersWithTokens(db, secret)
    await db.end()
    const runs: Record<string, () => ReturnType<typeof load>> = {
      health: () => load({ url: `${api}/health`, connections, seconds }),
      events: () => load({ url: `${api}/events`, connections, seconds }),
      book: () => booking(() => hot!.id),
      spread: () => booking(() => spread[Math.floor(Math.random() * spread.length)]!.id)
    }
    function booking(eventOf: () => number) {
      return load({ url: app.url, connections, seconds, request: bookingRequest(tokens, eventOf) })
    }
    const run = runs[scenario]
    if (run === undefined) throw new Error(`unknown scenario ${scenario}: ceiling, ceiling-book, health, events, book or spread`)
    await measure(app, run)
    await app.stop()
    report()
  } finally {
    for (const child of children) await child.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
    await space.remove()
  }
}

const report = () => {
  if (!profile) return
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith(".cpuprofile"))) {
    console.log(`\nHottest functions (self time), ${PROFILE_DIR}/${file}:\n${topFunctions(join(PROFILE_DIR, file)).join("\n")}`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
