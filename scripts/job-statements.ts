/**
 * Counts the SQL statements a confirmation job costs the worker (issue 21): the compiled API
 * (without workers) and a worker process on Redis over a scratch database, `bookings` bookings made
 * one after another (so each is one `BookingsConfirmed` job), and the worker's statements read
 * back from PostgreSQL's log: the worker connects as a role of its own, with `log_statement = all`
 * set for that role in that database only. Prints the statements by what they do, and per job.
 *
 *   npx tsx scripts/job-statements.ts [bookings=50]
 *
 * DATABASE_URL: a PostgreSQL server to make the scratch database on (default
 * postgres://postgres@127.0.0.1:5432/postgres), as a superuser; PG_LOG: that server's log file, which
 * this process must be able to read (default /var/log/postgresql/postgresql-15-main.log); REDIS_URL
 * (default redis://127.0.0.1:6379). Builds dist/ first when a source changed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { deleteKeysUnder } from "./redis-keys.ts"

const BOOKINGS = Number(process.argv[2] ?? 50)
const serverUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
const logFile = process.env.PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log"

/** What a statement of the worker does, by what it touches; transactions count with their first statement. */
const CATEGORIES: ReadonlyArray<readonly [name: string, pattern: RegExp, perJob: boolean]> = [
  ["the job's bookings and emails", /FROM bookings b JOIN events e/, true],
  ["the delivery log", /\bdeliveries\b/, true],
  ["the relay (outbox)", /\boutbox\b|LISTEN|pg_notify/i, false],
  ["start-up (migrations, namespace)", /effect_sql_migrations|queue_namespace|pg_advisory|information_schema/i, false],
  ["the hold sweep", /\bholds\b/, false]
]

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const children: Array<ChildProcess> = []
const run = (script: string, env: Record<string, string>, output: string) => {
  const log = openSync(output, "w")
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", log, log] })
  closeSync(log)
  children.push(child)
  return child
}
const stop = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGTERM")
  await once(child, "exit")
}

const suffix = randomBytes(4).toString("hex")
const database = `job_statements_${suffix}`
const role = `job_statements_worker_${suffix}`
const prefix = `job-statements-${suffix}`
const scratch = mkdtempSync(join(tmpdir(), "job-statements-"))
const mailDir = join(scratch, "mail")
const admin = new pg.Client(serverUrl)

const main = async () => {
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-changed", "src/main.ts", "src/worker.ts"], { stdio: "inherit" })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${database}`)
  await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER`)
  await admin.query(`ALTER ROLE ${role} IN DATABASE ${database} SET log_statement = 'all'`)
  const databaseUrl = new URL(serverUrl)
  databaseUrl.pathname = `/${database}`
  const workerUrl = new URL(databaseUrl)
  workerUrl.username = role
  workerUrl.password = ""
  const logStart = statSync(logFile).size

  const port = await freePort()
  const base = `http://127.0.0.1:${port}/api`
  const common = { REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, MAIL_DIR: mailDir, JWT_SECRET: "a-job-statements-secret-of-32-chars+" }
  const api = run(
    "dist/src/main.js",
    { ...common, DATABASE_URL: databaseUrl.toString(), PORT: String(port), RUN_WORKERS: "false", BCRYPT_COST: "4" },
    join(scratch, "api.log")
  )
  await waitFor("the API", () => fetch(`${base}/health/ready`).then((r) => r.ok, () => false))
  const worker = run("dist/src/worker.js", { ...common, DATABASE_URL: workerUrl.toString() }, join(scratch, "worker.log"))

  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body)
    })
    if (response.status >= 300) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`)
    return (await response.json()) as any
  }
  const signIn = async (email: string, role: string) => {
    await post("/auth/register", { email, password: "statements-password", role })
    return (await post("/auth/login", { email, password: "statements-password" })).token as string
  }
  const organizer = await signIn("org@statements.io", "ORGANIZER")
  const event = await post("/events", {
    title: "Statements",
    date: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    location: "Hall",
    totalTickets: 10 * BOOKINGS
  }, organizer)
  const customers = await Promise.all(
    Array.from({ length: Math.ceil(BOOKINGS / 10) }, (_, i) => signIn(`c${i}@statements.io`, "CUSTOMER"))
  )
  // One at a time: each booking is a transaction of its own, so each is one BookingsConfirmed job.
  for (let i = 0; i < BOOKINGS; i++) await post("/bookings", { eventId: event.id, ticketsCount: 1 }, customers[Math.floor(i / 10)])
  // The worker makes the mailbox when its mailer starts, which may be after the bookings.
  const mails = () => existsSync(mailDir) ? readdirSync(mailDir).filter((name) => name.endsWith(".eml")).length : 0
  await waitFor(`${BOOKINGS} emails`, () => mails() >= BOOKINGS)
  await sleep(1000)
  await stop(worker)
  await stop(api)

  // `<date> <time> <zone> [pid] user@database LOG:  statement: ...` or `... LOG:  execute <name>: ...`,
  // the statement's further lines after it; every entry starts with a date.
  const entry = /^\S+ \S+ \S+ \[(\d+)\] (\S+)@(\S+) LOG: {2}(?:statement|execute [^:]*): ([\s\S]*)$/
  const statements = readFileSync(logFile).subarray(logStart).toString("utf8").split(/\n(?=\d{4}-\d\d-\d\d )/).flatMap((text) => {
    const match = entry.exec(text)
    return match !== null && match[2] === role && match[3] === database ? [{ pid: match[1]!, text: match[4]!.trim() }] : []
  })
  const counts = new Map<string, number>()
  const open = new Map<string, Array<string>>() // a connection's transaction in progress
  const count = (texts: ReadonlyArray<string>) => {
    const category = texts.map((text) => CATEGORIES.find(([, pattern]) => pattern.test(text))?.[0]).find((c) => c !== undefined) ??
      "other"
    counts.set(category, (counts.get(category) ?? 0) + texts.length)
  }
  for (const { pid, text } of statements) {
    const transaction = open.get(pid)
    if (/^BEGIN/i.test(text)) open.set(pid, [text])
    else if (transaction === undefined) count([text])
    else {
      transaction.push(text)
      if (/^(COMMIT|ROLLBACK)/i.test(text)) {
        count(transaction)
        open.delete(pid)
      }
    }
  }
  for (const transaction of open.values()) count(transaction)

  const perJob = CATEGORIES.filter(([, , job]) => job).reduce((sum, [name]) => sum + (counts.get(name) ?? 0), 0)
  console.log(`${BOOKINGS} bookings, one BookingsConfirmed job each, ${mails()} emails; the worker's statements:`)
  for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${name}`)
  console.log(`per confirmation job (its bookings and the delivery log, BEGIN/COMMIT included): ${(perJob / BOOKINGS).toFixed(2)}`)
}

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(async () => {
    for (const child of children) child.kill("SIGKILL")
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {})
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
    await admin.end().catch(() => {})
    await deleteKeysUnder(redisUrl, prefix).catch(() => {})
    rmSync(scratch, { recursive: true, force: true })
  })
