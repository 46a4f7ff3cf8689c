/** The real process, black-box: start-up, a round trip, body limit, JSON logs, clean shutdown. */
import { Effect, Exit, Scope } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDatabaseUrl } from "../support/database.ts"
import {
  buildOnce,
  cleanUp,
  embeddedWorkdir,
  exited,
  freePort,
  postmasterPid,
  pressCtrlC,
  processGroupOf,
  SECRET,
  type Server,
  start,
  waitFor,
  waitUntilUp
} from "../support/process.ts"

beforeAll(buildOnce, 120_000)

const readMailbox = (directory: string) =>
  existsSync(directory)
    ? readdirSync(directory).filter((name) => name.endsWith(".eml")).map((name) => readFileSync(join(directory, name), "utf8"))
    : []

describe("the server process", () => {
  const scope = Effect.runSync(Scope.make())
  let server: Server
  let base: string
  let port: number
  let metricsPort: number
  let mailDir: string

  beforeAll(async () => {
    const databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
    port = await freePort()
    metricsPort = await freePort()
    base = `http://127.0.0.1:${port}/api`
    mailDir = mkdtempSync(join(tmpdir(), "event-booking-mail-"))
    server = start({
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      NODE_ENV: "production",
      JWT_SECRET: SECRET,
      MAIL_DIR: mailDir
    })
    await waitUntilUp(server, base)
  }, 60_000)

  afterAll(async () => {
    cleanUp(server)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(mailDir, { recursive: true, force: true })
  })

  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body)
    })

  it("serves Prometheus metrics on METRICS_PORT: requests by route, and the queue gauges", async () => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(response.status).toBe(200)
    const families = parsePrometheusTextFormat(await response.text())
    const ready = families.find((family) => family.name === "http_requests_total")?.metrics
      .find((sample) => sample.labels?.route === "/api/health/ready" && sample.labels.status === "200")
    expect(Number(ready?.value)).toBeGreaterThanOrEqual(1) // waitUntilUp polled it
    expect(families.find((family) => family.name === "queue_backend_up")?.metrics[0]?.value).toBe("1")
    expect(families.map((family) => family.name)).toEqual(expect.arrayContaining(["bookings_total", "outbox_pending_jobs"]))
  })

  it("serves a whole booking round trip with security headers", async () => {
    const password = "e2e-password-123"
    for (const [email, role] of [["org@e2e.io", "ORGANIZER"], ["ann@e2e.io", "CUSTOMER"]]) {
      expect((await post("/auth/register", { email, password, role })).status).toBe(201)
    }
    const token = async (email: string) => ((await (await post("/auth/login", { email, password })).json()) as { token: string }).token
    const created = await post("/events", {
      title: "E2E",
      date: new Date(Date.now() + 86_400_000).toISOString(),
      location: "Loopback",
      totalTickets: 2
    }, await token("org@e2e.io"))
    expect(created.status).toBe(201)
    const event = (await created.json()) as { id: number }
    const booked = await post("/bookings", { eventId: event.id, ticketsCount: 2 }, await token("ann@e2e.io"))
    expect(booked.status).toBe(201)
    expect(((await booked.json()) as { event: { availableTickets: number } }).event.availableTickets).toBe(0)
    expect(booked.headers.get("strict-transport-security")).toContain("max-age")
    expect(booked.headers.get("x-content-type-options")).toBe("nosniff")
    expect(booked.headers.get("x-powered-by")).toBeNull()
  })

  it("refuses a body over 100 KB with a 413 in the error shape", async () => {
    const response = await post("/auth/login", JSON.stringify({ email: "a@b.io", password: "x".repeat(150_000) }))
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ status: 413, code: "PayloadTooLarge" })
  })

  it("logs JSON lines in production, with method, path, status and duration, and no password", async () => {
    const lines = server.output().split("\n").filter((line) => line.includes("\"request\""))
    expect(lines.length).toBeGreaterThan(0)
    const entry = JSON.parse(lines[0]!)
    expect(entry).toMatchObject({
      level: "INFO",
      message: "request",
      method: expect.any(String),
      path: expect.any(String),
      status: expect.any(Number)
    })
    expect(typeof entry.durationMs).toBe("number")
    expect(typeof entry.requestId).toBe("string")
    expect(server.output()).not.toContain("e2e-password-123")
    expect(server.output()).not.toContain(SECRET)
  })

  it("stops cleanly on SIGTERM", async () => {
    server.process.kill("SIGTERM")
    expect(await exited(server.process, 10_000)).toBe(0)
    const stillUp = await fetch(`${base}/health`).then(() => true, () => false)
    expect(stillUp).toBe(false)
  })
})

describe("the embedded default (no DATABASE_URL)", () => {
  it(
    "starts its own PostgreSQL under ./.data, mails a booking into ./.data/mail, keeps data across restarts, and Ctrl-C stops it all",
    async () => {
      const { dataDir, directory } = embeddedWorkdir()
      const run = async (check: (base: string) => Promise<void>) => {
        const port = await freePort()
        const server = start({ PORT: String(port) }, directory)
        try {
          await waitUntilUp(server, `http://127.0.0.1:${port}/api`)
          await check(`http://127.0.0.1:${port}/api`)
          // PostgreSQL runs in a process group of its own: a terminal's Ctrl-C reaches the server, which stops it.
          const postgres = postmasterPid(dataDir)!
          expect(processGroupOf(postgres)).not.toBe(processGroupOf(server.process.pid!))
          pressCtrlC(server)
          expect(await exited(server.process, 20_000)).toBe(0)
          expect(server.output()).toContain("embedded PostgreSQL stopped")
          expect(server.output()).not.toContain("57P01")
          expect(postmasterPid(dataDir)).toBeUndefined()
        } finally {
          cleanUp(server, dataDir)
        }
      }
      const account = { email: "kept@e2e.io", password: "e2e-password-123" }
      try {
        await run(async (base) => {
          const post = async (path: string, body: unknown, token?: string) => {
            const response = await fetch(`${base}${path}`, {
              method: "POST",
              headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
              body: JSON.stringify(body)
            })
            return { status: response.status, body: (await response.json()) as any }
          }
          const signIn = async (email: string, role: string) => {
            expect((await post("/auth/register", { email, password: account.password, role })).status).toBe(201)
            return (await post("/auth/login", { email, password: account.password })).body.token as string
          }
          const organizer = await signIn("org@e2e.io", "ORGANIZER")
          const customer = await signIn(account.email, "CUSTOMER")
          const event = await post("/events", {
            title: "Embedded Conf",
            date: new Date(Date.now() + 86_400_000).toISOString(),
            location: "Loopback",
            totalTickets: 5
          }, organizer)
          const booked = await post("/bookings", { eventId: event.body.id, ticketsCount: 1 }, customer)
          expect(booked.status).toBe(201)
          // The search's trigram extension ships with the embedded PostgreSQL too (migration 0006).
          const search = (query: string) =>
            fetch(`${base}/events?${query}`).then((response) => response.json() as Promise<Array<{ id: number }>>).then((events) =>
              events.map((e) => e.id)
            )
          expect(await search("q=mbedded&location=LOOP")).toEqual([event.body.id])
          expect(await search("q=mbedded&location=elsewhere")).toEqual([])
          // No Redis, no SMTP: the job runs on BullMQ's PostgreSQL backend and the mail lands in .data/mail.
          const mail = await waitFor(() => readMailbox(join(directory, ".data", "mail")), (mails) => mails.length > 0)
          expect(mail).toHaveLength(1)
          expect(mail[0]).toContain(`To: ${account.email}`)
          expect(mail[0]).toContain("Subject: Booking confirmed: Embedded Conf")
        })
        await run(async (base) => {
          const response = await fetch(`${base}/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(account)
          })
          expect(response.status).toBe(200)
        })
      } finally {
        rmSync(directory, { recursive: true, force: true })
      }
    },
    120_000
  )
})

describe("production configuration", () => {
  it("refuses to start without JWT_SECRET, saying so", async () => {
    const server = start({ NODE_ENV: "production", PORT: String(await freePort()), DATABASE_URL: "postgres://127.0.0.1:1/none" })
    try {
      const code = await exited(server.process, 15_000)
      expect(code).not.toBe(0)
      expect(code).not.toBe("timeout")
      expect(server.output()).toContain("JWT_SECRET")
    } finally {
      cleanUp(server)
    }
  }, 20_000)
})
