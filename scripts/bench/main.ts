/**
 * `npm run bench`: the service end to end through HTTP, against its baselines, in one run.
 *
 * The compiled server runs as its own process on a scratch database of DATABASE_URL's server (an
 * embedded PostgreSQL when unset), with REDIS_URL's Redis when set; autocannon drives it from this
 * process. Baselines measured in the same run: a bare Node server, a one-endpoint HttpApi server
 * (the roof for any endpoint of ours), the booking's shape on that server with no database (the
 * roof for a booking on this stack), and the booking as one raw SQL statement at the same
 * concurrency. Every figure is also a ratio to them. Then the ledger is checked: a sold-out rush
 * with a fixed number of requests must sell exactly its tickets, and no event may be oversold.
 *
 *   npm run bench [-- --seconds 10] [--profile] [--out bench/results.json]
 */
import { Effect, Exit, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import pg from "pg"
import { startEmbeddedPostgres } from "../../src/Storage/EmbeddedPostgres.ts"
import { bookingRequest, customersWithTokens, roofBookingRequest } from "./customers.ts"
import { load, percentiles, type Run, sequential } from "./load.ts"
import { type Child, settle, startChild } from "./processes.ts"
import { topFunctions } from "./profile-top.ts"
import { scratch } from "./scratch.ts"

/** `--profile`: the service runs under `node --cpu-prof`; its hottest functions are printed at the end. */
const profile = process.argv.includes("--profile")
const PROFILE_DIR = "bench/profile"
const option = (name: string) => {
  const at = process.argv.indexOf(name)
  return at === -1 ? undefined : process.argv[at + 1]
}
const OUT = option("--out") ?? "bench/results.json"
const seconds = Number(option("--seconds") ?? 10)
// The service runs as `npm start` runs it (package.json).
const SERVER_NODE_FLAGS = (JSON.parse(readFileSync("package.json", "utf8")).scripts.start as string)
  .split(" ")
  .filter((word) => word.startsWith("--"))
const HOT_TICKETS = 1_000_000
const WARM_UP_SECONDS = 2
const SPREAD_EVENTS = 1000
const RUSH_TICKETS = 2000

const scope = Effect.runSync(Scope.make())
const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))

/** DATABASE_URL's server, or an embedded one for this run (its data folder removed once it stopped). */
const databaseServer = async (): Promise<string> => {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL
  const dir = join(tmpdir(), `bench-pg-${randomBytes(4).toString("hex")}`)
  const embedded = await run(
    Effect.zipRight(Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))), startEmbeddedPostgres(dir))
  )
  return `postgres://${embedded.user}:${embedded.password}@${embedded.host}:${embedded.port}/postgres`
}

const withDatabase = (url: string, name: string) => {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** The booking as the seed's contract wants it, as one autocommitted statement per booking. */
const RAW_BOOKING = `
  WITH e AS (
    UPDATE events SET available_tickets = available_tickets - 1
    WHERE id = $1 AND deleted_at IS NULL AND date > now() AND available_tickets >= 1
    RETURNING id
  )
  INSERT INTO bookings (user_id, event_id, tickets_count) SELECT $2, e.id, 1 FROM e`

/** `connections` clients booking one event as fast as they can for `seconds`: bookings per second. */
const rawSql = async (url: string, eventId: number, userId: number, connections: number): Promise<Run> => {
  const clients = await Promise.all(Array.from({ length: connections }, async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    return client
  }))
  const latencies: Array<number> = []
  const until = performance.now() + seconds * 1000
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < until) {
      const started = performance.now()
      await client.query({ name: "book", text: RAW_BOOKING, values: [eventId, userId] })
      latencies.push(performance.now() - started)
    }
  }))
  await Promise.all(clients.map((client) => client.end()))
  return { perSecond: Math.round(latencies.length / seconds), ...percentiles(latencies), ok: latencies.length, failed: 0, statuses: {} }
}

/** A run with the server's CPU time per answered request: steadier than rates on a shared machine. */
const serverCpu = async (server: Child, run: Promise<Run>) => {
  const before = server.cpuMs()
  const result = await run
  const perRequest = (server.cpuMs() - before) / Math.max(1, result.ok + result.failed)
  return { ...result, serverCpuMsPerRequest: Math.round(perRequest * 1000) / 1000 }
}

/** Progress on stderr; the results table goes to stdout. */
const step = (what: string) => console.error(`[bench] ${what}`)

const main = async () => {
  const server = await databaseServer()
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  const database = `bench_${randomBytes(6).toString("hex")}`
  await admin.query(`CREATE DATABASE ${database}`)
  const databaseUrl = withDatabase(server, database)
  const children: Array<Child> = []
  const space = scratch()
  try {
    step("baselines: bare Node, one-endpoint HttpApi, the booking roof")
    // Baselines first, on an idle machine: the bare stack and the HttpApi stack.
    const node = await startChild(children, "dist/scripts/bench/ceiling-node.js")
    await load({ url: `${node.url}/`, connections: 64, seconds: WARM_UP_SECONDS })
    const bareNode = await serverCpu(node, load({ url: `${node.url}/`, connections: 64, seconds }))
    await node.stop()
    const httpApi = await startChild(children, "dist/scripts/bench/ceiling-httpapi.js")
    await load({ url: `${httpApi.url}/ping`, connections: 64, seconds: WARM_UP_SECONDS })
    const httpApiCeiling = await serverCpu(httpApi, load({ url: `${httpApi.url}/ping`, connections: 64, seconds }))
    // The booking's shape on the same server (payload, auth middleware, Booking answer; no database).
    const roofRequest = roofBookingRequest()
    await load({ url: httpApi.url, connections: 64, seconds: WARM_UP_SECONDS, request: roofRequest })
    const bookingRoof = await serverCpu(httpApi, load({ url: httpApi.url, connections: 64, seconds, request: roofRequest }))
    await httpApi.stop()

    step("starting the service")
    if (profile) rmSync(PROFILE_DIR, { recursive: true, force: true })
    const secret = randomBytes(32).toString("hex")
    const adminToken = randomBytes(16).toString("hex")
    const startService = (nodeFlags: ReadonlyArray<string>) =>
      startChild(children, "dist/src/main.js", {
        DATABASE_URL: databaseUrl,
        NODE_ENV: "production",
        JWT_SECRET: secret,
        // Its workers in its process, as `npm start` runs them (whatever the bench's environment says).
        RUN_WORKERS: "true",
        ADMIN_TOKEN: adminToken,
        ...space.env,
        // The login storm is one account from one address: it measures bcrypt's effect, not the rate limits.
        AUTH_RATE_LIMIT_ADDRESS: "1000000",
        AUTH_RATE_LIMIT_ACCOUNT: "1000000",
        // 200 customers buy thousands of tickets of one event: the per-customer limit is not measured here.
        MAX_TICKETS_PER_CUSTOMER_PER_EVENT: "1000000"
      }, [...SERVER_NODE_FLAGS, ...nodeFlags])
    // Started twice: the first start migrates the new database; the second is a start-up as a
    // restart sees it, and the service then idle is what it holds before any load.
    const firstStart = await startService([])
    await firstStart.stop()
    const app = await startService(profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [])
    await settle(app)
    const rssMbIdle = app.rssMb()
    const api = `${app.url}/api`
    // Its queues on REDIS_URL's Redis when set, else on PostgreSQL, as the operators' view reports them.
    const operatorView = await fetch(`${api}/admin/queues`, { headers: { authorization: `Bearer ${adminToken}` } })
    const queues = ((await operatorView.json()) as { backend: { kind: string } }).backend.kind
    if (queues !== (process.env.REDIS_URL ? "redis" : "postgres")) throw new Error(`the service's queues are on ${queues}`)
    const db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()

    // People: an organizer and a customer with real passwords (the login storm signs in as her),
    // and 200 customers whose tokens are minted with the server's secret (bcrypt is not the subject).
    const password = "correct horse battery"
    const post = async (path: string, body: unknown, token?: string) => {
      const response = await fetch(`${api}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body)
      })
      if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`)
      return response.json() as Promise<any>
    }
    await post("/auth/register", { email: "organizer@bench.example", password, role: "ORGANIZER" })
    await post("/auth/register", { email: "customer@bench.example", password, role: "CUSTOMER" })
    const organizer = (await post("/auth/login", { email: "organizer@bench.example", password })).token as string
    const { customers, tokens } = await customersWithTokens(db, secret)

    const newEvent = async (title: string, totalTickets: number) =>
      (await post("/events", { title, date: "2099-06-01T18:00:00Z", location: "Arena", totalTickets }, organizer)).id as number
    const hot = await newEvent("The hot one", HOT_TICKETS)
    for (let i = 1; i < 19; i++) await newEvent(`Event ${i}`, 100) // with the hot one and the warm-up: 20 listed

    const booking = (eventOf: () => number) => bookingRequest(tokens, eventOf)

    step("GET /api/events, then the hot event at 1, 16 and 64 connections")
    // Each run starts once the confirmations of the previous one are out (the service is idle again).
    // Its CPU per request is counted during the run, and again once the work it queued (the
    // confirmation emails) is done: what a sustained rush costs per booking.
    const withCpu = async (run: () => Promise<Run>) => {
      await settle(app)
      const before = app.cpuMs()
      const result = await serverCpu(app, run())
      await settle(app)
      const withQueued = (app.cpuMs() - before) / Math.max(1, result.ok + result.failed)
      return { ...result, serverCpuMsWithQueuedWork: Math.round(withQueued * 1000) / 1000 }
    }
    // Warm up (JIT, pools) on an event of its own before anything is measured.
    const warmUp = await newEvent("Warm-up", HOT_TICKETS)
    await load({ url: `${api}/events`, connections: 64, seconds: WARM_UP_SECONDS })
    await load({ url: app.url, connections: 64, seconds: WARM_UP_SECONDS, request: booking(() => warmUp) })
    const listing = await withCpu(() => load({ url: `${api}/events`, connections: 64, seconds }))
    // One client, each booking sent once the previous one is answered, timed finer than autocannon can.
    const lone = await withCpu(() => sequential({ url: app.url, seconds, request: booking(() => hot) }))
    const hot16 = await withCpu(() => load({ url: app.url, connections: 16, seconds, request: booking(() => hot) }))
    const hot64 = await withCpu(() => load({ url: app.url, connections: 64, seconds, request: booking(() => hot) }))

    step("login storm")
    await settle(app)
    // A login storm (32 at a time, real bcrypt) while the hot event sells at 16 connections.
    const [duringStorm, storm] = await Promise.all([
      load({ url: app.url, connections: 16, seconds, request: booking(() => hot) }),
      load({
        url: app.url,
        connections: 32,
        seconds,
        request: {
          method: "POST",
          path: "/api/auth/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "customer@bench.example", password })
        }
      })
    ])

    step(`${SPREAD_EVENTS} events`)
    const { rows: spread } = await db.query<{ id: number }>(`
      WITH e AS (
        INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
        SELECT (SELECT id FROM users WHERE email = 'organizer@bench.example'), 'Spread ' || n, 'Hall', '2099-01-01', 10000, 10000
        FROM generate_series(1, ${SPREAD_EVENTS}) n RETURNING id),
      -- Each with its default ticket type, as an event made through the API has.
      t AS (INSERT INTO ticket_types (event_id, name, price_cents, quota, is_default)
            SELECT id, 'General admission', 0, 10000, true FROM e)
      SELECT id FROM e`)
    const spread64 = await withCpu(() =>
      load({ url: app.url, connections: 64, seconds, request: booking(() => spread[Math.floor(Math.random() * spread.length)]!.id) })
    )

    step("sold-out rush")
    await settle(app)
    // The ledger, exactly: a fixed number of requests on a scarce event sells exactly its tickets.
    const rush = await newEvent("Sold out", RUSH_TICKETS)
    const rushRun = await load({ url: app.url, connections: 64, amount: RUSH_TICKETS * 2, request: booking(() => rush) })

    step("raw SQL at 16 and 64 connections")
    // The database's own single-statement rate, at the same concurrency, on an event of its own.
    const raw = await newEvent("Raw SQL", HOT_TICKETS)
    const raw16 = await rawSql(databaseUrl, raw, customers[0]!.id, 16)
    const raw64 = await rawSql(databaseUrl, raw, customers[0]!.id, 64)

    const { rows: ledger } = await db.query<{ id: number; total: number; available: number; booked: number; bookings: number }>(`
      SELECT e.id, e.total_tickets AS total, e.available_tickets AS available,
             COALESCE(SUM(b.tickets_count), 0)::int AS booked, COUNT(b.id)::int AS bookings
      FROM events e LEFT JOIN bookings b ON b.event_id = e.id GROUP BY e.id`)
    const oversold = ledger.filter((e) => e.available < 0 || e.booked !== e.total - e.available).length
    const rushLedger = ledger.find((e) => e.id === rush)!
    const appBookings = ledger.filter((e) => e.id !== raw && e.id !== rush && e.id !== warmUp).reduce((sum, e) => sum + e.bookings, 0)
    const app2xx = lone.ok + hot16.ok + hot64.ok + duringStorm.ok + spread64.ok
    await db.end()
    await settle(app)
    const service = {
      queues,
      // Confirmations sent by its workers: one a booking.
      emailsWritten: readdirSync(space.mailDir).length,
      startUpMs: app.startUpMs(),
      firstStartUpMsWithMigrations: firstStart.startUpMs(),
      rssMbIdle,
      rssMbAfter: app.rssMb()
    }
    await app.stop()

    // A booking's CPU (with its email) against the roof's per request.
    const xRoofCpu = (run: { serverCpuMsWithQueuedWork: number }) => ratio(run.serverCpuMsWithQueuedWork, bookingRoof.serverCpuMsPerRequest)
    const results = {
      date: new Date().toISOString(),
      seconds,
      baselines: { bareNode, httpApiCeiling, bookingRoof, rawSql16: raw16, rawSql64: raw64 },
      scenarios: {
        loneClient: { ...lone, xRoofCpu: xRoofCpu(lone) },
        hotEvent16: {
          ...hot16,
          xRoofCpu: xRoofCpu(hot16),
          xHttpApi: ratio(hot16.perSecond, httpApiCeiling.perSecond),
          xRawSql: ratio(hot16.perSecond, raw16.perSecond)
        },
        hotEvent64: {
          ...hot64,
          xRoofCpu: xRoofCpu(hot64),
          xHttpApi: ratio(hot64.perSecond, httpApiCeiling.perSecond),
          xBookingRoof: ratio(hot64.perSecond, bookingRoof.perSecond),
          xRawSql: ratio(hot64.perSecond, raw64.perSecond)
        },
        spread1000Events64: {
          ...spread64,
          xRoofCpu: xRoofCpu(spread64),
          xHttpApi: ratio(spread64.perSecond, httpApiCeiling.perSecond),
          xBookingRoof: ratio(spread64.perSecond, bookingRoof.perSecond)
        },
        listEvents20: { ...listing, xHttpApi: ratio(listing.perSecond, httpApiCeiling.perSecond) },
        hotEvent16DuringLoginStorm: { ...duringStorm, p99xQuiet: ratio(duringStorm.p99, hot16.p99), logins: storm }
      },
      service,
      ledger: {
        rush: {
          requests: RUSH_TICKETS * 2,
          created: rushRun.statuses["201"] ?? 0,
          refused: rushRun.statuses["409"] ?? 0,
          sold: rushLedger.booked,
          tickets: RUSH_TICKETS
        },
        exact: (rushRun.statuses["201"] ?? 0) === rushLedger.booked && rushLedger.booked === RUSH_TICKETS,
        eventsOversold: oversold,
        // Timed runs are cut off with requests in flight: the server commits them unanswered.
        timedRuns2xx: app2xx,
        timedRunsBooked: appBookings
      }
    }
    const s = results.scenarios
    // Issue 21's targets, each read from this run, beside the row (or line) it belongs to.
    const targets = [
      { row: "loneClient", goal: "p50 ≤ 3 ms", met: s.loneClient.p50 <= 3 },
      { row: "hotEvent16", goal: "p99 ≤ 25 ms", met: s.hotEvent16.p99 <= 25 },
      { row: "hotEvent64", goal: "≥ x0.5 roof", met: s.hotEvent64.xBookingRoof >= 0.5 },
      { row: "hotEvent64", goal: "CPU ≤ x2 roof's", met: s.hotEvent64.xRoofCpu <= 2 },
      { row: "spread1000Events64", goal: "≥ x0.5 roof", met: s.spread1000Events64.xBookingRoof >= 0.5 },
      { row: "listEvents20", goal: "≥ x0.6 HttpApi", met: s.listEvents20.xHttpApi >= 0.6 },
      { row: "hotEvent16DuringLoginStorm", goal: "p99 ≤ x2 quiet", met: s.hotEvent16DuringLoginStorm.p99xQuiet <= 2 },
      { row: "startUp", goal: "≤ 1.5 s", met: service.startUpMs <= 1500 },
      { row: "rss", goal: "≤ 250 MB after", met: service.rssMbAfter <= 250 },
      { row: "ledger", goal: "exact, nothing oversold", met: results.ledger.exact && results.ledger.eventsOversold === 0 }
    ]
    mkdirSync(dirname(OUT), { recursive: true })
    writeFileSync(OUT, JSON.stringify({ ...results, targets }, null, 2) + "\n")
    printTable({ ...results, targets })
    if (profile) {
      for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith(".cpuprofile"))) {
        console.log(
          `\nHottest functions of the service (self time), ${PROFILE_DIR}/${file}:\n${topFunctions(join(PROFILE_DIR, file)).join("\n")}`
        )
      }
    }
  } finally {
    for (const child of children) await child.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
    await space.remove()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100

const printTable = (r: any) => {
  const goals = (key: string) =>
    r.targets.filter((t: any) => t.row === key).map((t: any) => `${t.goal}: ${t.met ? "met" : "not met"}`).join("; ")
  const row = (
    name: string,
    x: Run & { serverCpuMsPerRequest?: number; serverCpuMsWithQueuedWork?: number; xRoofCpu?: number },
    extra = "",
    key = ""
  ) =>
    `| ${name} | ${x.perSecond.toLocaleString("en")} | ${x.p50} | ${x.p99} | ${x.serverCpuMsPerRequest ?? ""} | ${
      x.serverCpuMsWithQueuedWork ?? ""
    } | ${x.xRoofCpu === undefined ? "" : `x${x.xRoofCpu}`} | ${extra} | ${goals(key)} |`
  const s = r.scenarios
  const service = r.service
  const met = r.targets.filter((t: any) => t.met).length
  const queuesOn = service.queues === "redis" ? "Redis" : "PostgreSQL"
  const inSeconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const lines = [
    `Each run ${r.seconds} s; ratios against baselines measured in this run. "x roof CPU": the service's CPU per booking, ` +
    `its email included, against the booking roof's per request.`,
    "",
    "| run | req/s | p50 ms | p99 ms | server CPU ms/req | with its queued work | x roof CPU | ratio | target |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    row("bare Node http (64)", r.baselines.bareNode),
    row("one-endpoint HttpApi (64)", r.baselines.httpApiCeiling),
    row(
      "booking roof: HttpApi, booking's shape, no database (64)",
      r.baselines.bookingRoof,
      `x${ratio(r.baselines.bookingRoof.perSecond, r.baselines.httpApiCeiling.perSecond)} HttpApi`
    ),
    row("raw SQL booking statement (16)", r.baselines.rawSql16),
    row("raw SQL booking statement (64)", r.baselines.rawSql64),
    row("hot event, one client", s.loneClient, "", "loneClient"),
    row("hot event, 16 connections", s.hotEvent16, `x${s.hotEvent16.xHttpApi} HttpApi, x${s.hotEvent16.xRawSql} raw SQL`, "hotEvent16"),
    row(
      "hot event, 64 connections",
      s.hotEvent64,
      `x${s.hotEvent64.xHttpApi} HttpApi, x${s.hotEvent64.xBookingRoof} booking roof, x${s.hotEvent64.xRawSql} raw SQL`,
      "hotEvent64"
    ),
    row(
      "1,000 events, 64 connections",
      s.spread1000Events64,
      `x${s.spread1000Events64.xHttpApi} HttpApi, x${s.spread1000Events64.xBookingRoof} booking roof`,
      "spread1000Events64"
    ),
    row("GET /api/events (20), 64 connections", s.listEvents20, `x${s.listEvents20.xHttpApi} HttpApi`, "listEvents20"),
    row(
      "hot event (16) during 32 logins",
      s.hotEvent16DuringLoginStorm,
      `p99 x${s.hotEvent16DuringLoginStorm.p99xQuiet} vs quiet`,
      "hotEvent16DuringLoginStorm"
    ),
    row("  the 32 logins themselves", s.hotEvent16DuringLoginStorm.logins),
    "",
    `The service: queues on ${queuesOn}, workers in its process (${service.emailsWritten} emails written); ` +
    `start-up ${inSeconds(service.startUpMs)} (the first, migrating its new database, ${
      inSeconds(service.firstStartUpMsWithMigrations)
    }; target ${goals("startUp")}); ` +
    `RSS idle ${service.rssMbIdle} MB, after the bench ${service.rssMbAfter} MB (target ${goals("rss")}).`,
    `Ledger: sold-out rush ${r.ledger.rush.requests} requests on ${r.ledger.rush.tickets} tickets → ` +
    `${r.ledger.rush.created} × 201, ${r.ledger.rush.refused} × 409, ${r.ledger.rush.sold} sold (${
      r.ledger.exact ? "exact" : "NOT EXACT"
    }); ` +
    `events oversold: ${r.ledger.eventsOversold}; timed runs: ${r.ledger.timedRuns2xx} × 2xx, ${r.ledger.timedRunsBooked} booked ` +
    `(the rest were in flight at the cut-off). Target ${goals("ledger")}.`,
    `Targets met: ${met} of ${r.targets.length}.`
  ]
  console.log(lines.join("\n"))
  if (!r.ledger.exact || r.ledger.eventsOversold > 0) process.exitCode = 1
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
