/**
 * The process's life, black-box: the first connection is answered, time limits hold, shutdown
 * never hangs on clients or dead dependencies (and never outlives SHUTDOWN_DEADLINE_MS), `npm
 * start` and `npm run worker` obey signals, the keys of requests a killed process held are free
 * within seconds, and the embedded PostgreSQL recovers from a killed server.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Deferred, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { freshDatabaseUrl } from "../support/database.ts"
import {
  buildOnce,
  cleanUp,
  embeddedWorkdir,
  eventAndCustomer,
  exited,
  freePort,
  isAlive,
  listening,
  npm,
  postmasterPid,
  SECRET,
  send,
  type Server,
  start,
  waitFor,
  waitUntilUp
} from "../support/process.ts"
import { startTcpProxy } from "../support/tcpProxy.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A raw HTTP/1.1 connection: everything received so far, and whether the server closed it. */
interface Raw {
  readonly socket: Socket
  readonly received: () => string
  readonly closed: () => boolean
}

const rawConnection = (port: number) =>
  new Promise<Raw | undefined>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    let received = ""
    let closed = false
    socket.on("data", (chunk) => (received += chunk))
    socket.on("close", () => (closed = true))
    socket.once("connect", () => resolve({ socket, received: () => received, closed: () => closed }))
    socket.once("error", () => resolve(undefined))
  })

/** Waits until the server has closed the connection (or `timeoutMs`), then returns what it sent. */
const answer = async (raw: Raw, timeoutMs = 10_000) => {
  await waitFor(raw.closed, (closed) => closed, timeoutMs)
  return raw.received()
}

const scope = Effect.runSync(Scope.make())
let databaseUrl: string
let mailDir: string

beforeAll(async () => {
  buildOnce()
  databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
  mailDir = mkdtempSync(join(tmpdir(), "event-booking-mail-"))
}, 120_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(mailDir, { recursive: true, force: true })
})

const settings = (port: number, overrides: Record<string, string> = {}) => ({
  DATABASE_URL: databaseUrl,
  PORT: String(port),
  NODE_ENV: "production",
  JWT_SECRET: SECRET,
  MAIL_DIR: mailDir,
  ...overrides
})

/** A client of the test database (connections cut by a test end with an error event, ignored). */
const database = async () => {
  const client = new pg.Client({ connectionString: databaseUrl })
  client.on("error", () => {})
  await client.connect()
  return client
}

/** Holds the event's row lock until `release`: bookings of it wait (in the engine) meanwhile. */
const lockEvent = async (eventId: number) => {
  const locker = await database()
  await locker.query("BEGIN")
  await locker.query("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", [eventId])
  return { release: () => locker.query("ROLLBACK").then(() => locker.end()) }
}

const book = (base: string, token: string, eventId: number, key?: string) =>
  send(base, "POST", "/bookings", {
    token,
    json: { eventId, ticketsCount: 1 },
    headers: key === undefined ? {} : { "idempotency-key": key }
  })

/** `connections` clients booking one ticket after another until `stop` (errors, as when the server closed, pause them). */
const bookingLoad = (base: string, token: string, eventId: number, connections: number) => {
  let running = true
  let answered = 0
  const clients = Array.from({ length: connections }, async () => {
    while (running) {
      await book(base, token, eventId).then(() => void answered++, () => sleep(50))
    }
  })
  return {
    answered: () => answered,
    stop: async () => {
      running = false
      await Promise.all(clients)
    }
  }
}

/** The messages of the JSON log lines of `output`. */
const messages = (output: string) =>
  output.split("\n").flatMap((line) => {
    try {
      // A line logged with its cause carries [text, cause]: the text is what the steps are told by.
      const { message } = JSON.parse(line) as { message: unknown }
      const text = Array.isArray(message) ? message[0] : message
      return typeof text === "string" ? [text] : []
    } catch {
      return []
    }
  })

/** Runs `use` while another connection holds an exclusive lock on the events table. */
const withEventsLocked = async (use: () => Promise<void>) => {
  const lockScope = await Effect.runPromise(Scope.make())
  try {
    await Effect.runPromise(
      Effect.gen(function*() {
        const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 }))
        const sql = Context.get(context, SqlClient.SqlClient)
        const locked = yield* Deferred.make<void>()
        yield* sql`LOCK TABLE events IN ACCESS EXCLUSIVE MODE`.pipe(
          Effect.zipRight(Deferred.succeed(locked, undefined)),
          Effect.zipRight(Effect.never),
          sql.withTransaction,
          Effect.forkScoped
        )
        yield* Deferred.await(locked)
      }).pipe(Scope.extend(lockScope))
    )
    await use()
  } finally {
    await Effect.runPromise(Scope.close(lockScope, Exit.void))
  }
}

/** A started server on a fresh port; stopped (if still running) after `use`. */
const withServer = async (overrides: Record<string, string>, use: (server: Server, port: number) => Promise<void>) => {
  const port = await freePort()
  const server = start(settings(port, overrides))
  try {
    await waitUntilUp(server, `http://127.0.0.1:${port}/api`)
    await use(server, port)
  } finally {
    cleanUp(server)
  }
}

describe("start-up", () => {
  it("answers the very first connection the port accepts", async () => {
    const port = await freePort()
    const server = start(settings(port))
    try {
      // Knock until the port opens: the first connection it accepts must get its answer.
      let first: Raw | undefined
      while (first === undefined && server.process.exitCode === null) {
        first = await rawConnection(port)
        if (first === undefined) await sleep(2)
      }
      first!.socket.write("GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
      expect(await answer(first!, 15_000)).toMatch(/^HTTP\/1.1 200 /)
    } finally {
      cleanUp(server)
    }
  }, 60_000)
})

describe("time limits", () => {
  it("answers 408 in the error shape when a request's headers do not arrive in time", async () => {
    await withServer({ HTTP_HEADERS_TIMEOUT_MS: "1000" }, async (_, port) => {
      const raw = (await rawConnection(port))!
      raw.socket.write("GET /api/health HTTP/1.1\r\nHost: localhost\r\n") // and never the blank line
      const response = await answer(raw)
      expect(response).toMatch(/^HTTP\/1.1 408 /)
      expect(JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4))).toEqual({
        message: expect.any(String),
        status: 408,
        code: "ClientTimeout"
      })
    })
  }, 60_000)

  it("answers 503 RequestTimeout when a request is stuck past REQUEST_DEADLINE_MS (here: behind a lock held elsewhere)", async () => {
    await withServer({ REQUEST_DEADLINE_MS: "1000" }, async (_, port) => {
      await withEventsLocked(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/api/events`, { signal: AbortSignal.timeout(15_000) })
        expect(response.status).toBe(503)
        expect(await response.json()).toEqual({ message: expect.any(String), status: 503, code: "RequestTimeout" })
      })
    })
  }, 60_000)

  it("stops the work of a request whose client went away, and logs it with status 499 (here: stuck behind a lock)", async () => {
    await withServer({}, async (server, port) => {
      await withEventsLocked(async () => {
        const client = new AbortController()
        const request = fetch(`http://127.0.0.1:${port}/api/events`, { signal: client.signal }).catch(() => undefined)
        await sleep(500)
        client.abort()
        await request
        // Within the default 15 s deadline and with the lock still held: only a stopped request is logged by now.
        const lines = () => server.output().split("\n").filter((line) => line.includes("\"path\":\"/api/events\""))
        const [line] = await waitFor(lines, (found) => found.length > 0, 5_000)
        expect(JSON.parse(line!)).toMatchObject({ message: "request", method: "GET", path: "/api/events", status: 499 })
      })
    })
  }, 60_000)
})

describe("shutdown", () => {
  it("closes a kept-alive connection whose request was running at SIGTERM, after answering it, and exits", async () => {
    await withServer({}, async (server, port) => {
      const raw = (await rawConnection(port))!
      // The request reaches the handler, which waits for its body.
      raw.socket.write("POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
      await sleep(300)
      server.process.kill("SIGTERM")
      await sleep(300)
      raw.socket.write("{}")
      const response = await answer(raw)
      expect(response).toMatch(/^HTTP\/1.1 400 /)
      expect(response.toLowerCase()).toContain("connection: close")
      expect(raw.closed()).toBe(true)
      expect(await exited(server.process, 20_000)).toBe(0)
    })
  }, 60_000)

  it("exits on SIGTERM when Redis is unreachable and workers run", async () => {
    const nothingThere = await freePort()
    await withServer({ REDIS_URL: `redis://127.0.0.1:${nothingThere}`, SHUTDOWN_TIMEOUT_MS: "1000" }, async (server) => {
      server.process.kill("SIGTERM")
      expect(await exited(server.process, 30_000), server.output()).toBe(0)
    })
  }, 60_000)

  it("exits on SIGTERM when the database has stopped answering", async () => {
    const url = new URL(databaseUrl)
    const proxy = await Effect.runPromise(
      startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) }).pipe(Scope.extend(scope))
    )
    url.host = `127.0.0.1:${proxy.port}`
    // The queues on Redis when there is one: BullMQ's PostgreSQL backend is not what this is about.
    const redis = inject("redisUrl") === "" ? {} : { REDIS_URL: inject("redisUrl"), QUEUE_PREFIX: `e2e-${process.pid}` }
    await withServer({ DATABASE_URL: url.toString(), SHUTDOWN_TIMEOUT_MS: "1000", ...redis }, async (server) => {
      await Effect.runPromise(proxy.freeze)
      server.process.kill("SIGTERM")
      expect(await exited(server.process, 30_000), server.output()).toBe(0)
    })
  }, 60_000)
})

describe("shutdown under load, with the database cutting its connections", () => {
  for (const workers of [true, false]) {
    it(`stops (RUN_WORKERS=${workers}), logging each step, while every connection it opens is cut`, async () => {
      const overrides = { RUN_WORKERS: String(workers), MAX_TICKETS_PER_CUSTOMER_PER_EVENT: "1000000", SHUTDOWN_DEADLINE_MS: "20000" }
      await withServer(overrides, async (server, port) => {
        const base = `http://127.0.0.1:${port}/api`
        const { customer, eventId } = await eventAndCustomer(base, 1_000_000)
        const load = bookingLoad(base, customer, eventId, 32)
        const cutter = await database()
        try {
          await waitFor(load.answered, (n) => n >= 100)
          server.process.kill("SIGTERM")
          const exit = exited(server.process, 25_000)
          let cut = 0
          while (server.process.exitCode === null && server.process.signalCode === null) {
            const { rowCount } = await cutter.query(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            cut += rowCount ?? 0
            await sleep(100)
          }
          expect(await exit, server.output()).toBe(0)
          expect(cut).toBeGreaterThan(0)
        } finally {
          await load.stop()
          await cutter.end()
        }
        const logged = messages(server.output())
        const at = (prefix: string) => logged.findIndex((message) => message.startsWith(prefix))
        expect(logged).toContain("SIGTERM received: stopping (at most 20000 ms)")
        for (const step of ["the HTTP server", "the booking engine", "the outbox relay and job queues", "the database"]) {
          expect(at(`stopped ${step} (`), step).toBeGreaterThan(at("SIGTERM received"))
        }
        expect(at("stopped the job workers (") > 0).toBe(workers)
        expect(at("stopped the booking engine (")).toBeGreaterThan(at("stopped the HTTP server ("))
        expect(at("stopped the outbox relay and job queues (")).toBeGreaterThan(at("stopped the booking engine ("))
        expect(at("stopped the database (")).toBeGreaterThan(at("stopped the outbox relay and job queues ("))
        expect(logged.at(-1)).toMatch(/^the API server stopped \(\d+ ms\)$/)
      })
    }, 60_000)
  }

  it("past SHUTDOWN_DEADLINE_MS says what it still waits for and exits 1", async () => {
    const overrides = { SHUTDOWN_DEADLINE_MS: "2000", SHUTDOWN_TIMEOUT_MS: "60000", REQUEST_DEADLINE_MS: "60000" }
    await withServer(overrides, async (server, port) => {
      const base = `http://127.0.0.1:${port}/api`
      const { customer, eventId } = await eventAndCustomer(base, 10)
      const lock = await lockEvent(eventId)
      const db = await database()
      try {
        const stuck = book(base, customer, eventId).catch(() => undefined)
        const waiting = () =>
          db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
        await waitFor(waiting, ({ rows }) => rows[0].n > 0)
        server.process.kill("SIGTERM")
        expect(await exited(server.process, 15_000)).toBe(1)
        expect(messages(server.output())).toContain(
          "shutdown not done after SHUTDOWN_DEADLINE_MS (2000 ms), exiting; still waiting for: the HTTP server: requests in flight: 1"
        )
        await stuck
      } finally {
        await lock.release()
        await db.end()
      }
    })
  }, 60_000)
})

describe("after a crash", () => {
  it(
    "kill -9 while keyed bookings run, then a restart: each retry is answered once the dead process's leases end (not the key's 24 h), each key booked once",
    async () => {
      const port = await freePort()
      const base = `http://127.0.0.1:${port}/api`
      let server = start(settings(port))
      const db = await database()
      try {
        await waitUntilUp(server, base)
        const { customer, eventId } = await eventAndCustomer(base, 100)
        const keys = Array.from({ length: 8 }, (_, i) => `crash-${process.pid}-${Date.now()}-${i}`)
        // The bookings wait for the event's row lock (taken here), each holding its key, when the process dies.
        const lock = await lockEvent(eventId)
        for (const key of keys) void book(base, customer, eventId, key).catch(() => undefined)
        const held = () => db.query("SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ANY($1) AND locked_until > now()", [keys])
        await waitFor(held, ({ rows }) => rows[0].n === keys.length)
        server.process.kill("SIGKILL")
        await exited(server.process, 10_000)
        await lock.release()

        server = start(settings(port))
        await waitUntilUp(server, base)
        // 409 IdempotencyKeyInUse while a dead holder's lease (seconds) runs; given up on after 20 s.
        const restarted = Date.now()
        const answers = await Promise.all(keys.map(async (key) => {
          for (;;) {
            const answer = await book(base, customer, eventId, key)
            if (answer.status !== 409 || Date.now() - restarted > 20_000) return answer
            await sleep(100)
          }
        }))
        expect(answers.map(({ status }) => status)).toEqual(keys.map(() => 201))
        const { rows } = await db.query(
          `SELECT k.key, count(b.id)::int AS bookings FROM idempotency_keys k LEFT JOIN bookings b ON b.idempotency_id = k.id
         WHERE k.key = ANY($1) GROUP BY k.key`,
          [keys]
        )
        expect(rows.map(({ bookings }) => bookings)).toEqual(keys.map(() => 1))
        const booked = await db.query("SELECT count(*)::int AS n FROM bookings WHERE event_id = $1", [eventId])
        expect(booked.rows[0].n).toBe(keys.length)
      } finally {
        cleanUp(server)
        await db.end()
      }
    },
    60_000
  )
})

describe("npm scripts", () => {
  it("`kill <pid of npm start>` stops the server", async () => {
    const port = await freePort()
    const app = npm(["start"], settings(port))
    try {
      await waitUntilUp(app, `http://127.0.0.1:${port}/api`)
      process.kill(app.process.pid!, "SIGTERM")
      expect(await exited(app.process, 30_000)).toBe(0)
      expect(await waitFor(() => listening(port), (open) => !open, 5_000)).toBe(false)
    } finally {
      cleanUp(app)
    }
  }, 90_000)

  it("`npm run worker` runs the workers until killed, with its own metrics endpoint", async () => {
    const metricsPort = await freePort()
    const worker = npm(["run", "worker"], settings(await freePort(), { METRICS_PORT: String(metricsPort) }))
    try {
      await waitFor(worker.output, (output) => output.includes("metrics on") || worker.process.exitCode !== null, 45_000)
      expect(worker.output()).toContain("job queues on PostgreSQL")
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      expect(metrics.status).toBe(200)
      expect(await metrics.text()).toContain("# TYPE outbox_pending_jobs gauge")
      process.kill(worker.process.pid!, "SIGTERM")
      expect(await exited(worker.process, 30_000)).toBe(0)
    } finally {
      cleanUp(worker)
    }
  }, 90_000)
})

describe("the embedded PostgreSQL after a crash", () => {
  it(
    "refuses a second server on the same data, recovers from kill -9 and from a stale lock file, and shows PostgreSQL's own errors",
    async () => {
      const { dataDir, directory } = embeddedWorkdir()
      const servers: Array<Server> = []
      const run = async () => {
        const port = await freePort()
        const server = start({ PORT: String(port) }, directory)
        servers.push(server)
        return { server, base: `http://127.0.0.1:${port}/api` }
      }
      try {
        const first = await run()
        await waitUntilUp(first.server, first.base)

        const second = await run()
        expect(await exited(second.server.process, 30_000)).toBe(1)
        expect(second.server.output()).toContain(`the embedded PostgreSQL in ${dataDir} is in use by another process`)

        const left = postmasterPid(dataDir)!
        first.server.process.kill("SIGKILL")
        await exited(first.server.process, 10_000)
        expect(isAlive(left)).toBe(true)

        const third = await run()
        await waitUntilUp(third.server, third.base)
        expect(third.server.output()).toContain(`PostgreSQL (pid ${left}) was left running`)
        expect(isAlive(left)).toBe(false)
        third.server.process.kill("SIGTERM")
        expect(await exited(third.server.process, 20_000)).toBe(0)
        expect(postmasterPid(dataDir)).toBeUndefined()

        // A lock file whose pid now belongs to another program (pids are reused after a reboot or in containers).
        writeFileSync(join(dataDir, "postmaster.pid"), `${process.pid}\n${dataDir}\n`)
        const fourth = await run()
        await waitUntilUp(fourth.server, fourth.base)
        expect(fourth.server.output()).toContain("removed a stale")
        fourth.server.process.kill("SIGTERM")
        expect(await exited(fourth.server.process, 20_000)).toBe(0)

        appendFileSync(join(dataDir, "postgresql.conf"), "\nthis is not a setting\n")
        const fifth = await run()
        expect(await exited(fifth.server.process, 30_000)).toBe(1)
        expect(fifth.server.output()).toMatch(/syntax error in file .*postgresql.conf/)
      } finally {
        for (const server of servers) cleanUp(server, dataDir)
        rmSync(directory, { recursive: true, force: true })
      }
    },
    150_000
  )
})
