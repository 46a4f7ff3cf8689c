/**
 * Database connections cut under load (issue 17): the compiled service with its workers on Redis,
 * a booking rush, and every connection of the service terminated (`pg_terminate_backend`) again and
 * again while the bookings and their confirmation emails run. No process crashes, so nothing may be
 * lost or repeated: a booking for every 201, tickets that add up, one email per booking.
 */
import { Effect, Exit, Scope } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDatabaseUrl } from "../support/database.ts"
import { redisPrefix, redisUrl } from "../support/jobs.ts"
import { buildOnce, cleanUp, freePort, SECRET, type Server, start, waitFor, waitUntilUp } from "../support/process.ts"

const CUSTOMERS = 8
const REQUESTS = 240
const IN_FLIGHT = 16
const TICKETS = 150 // per event, two events: some requests find an event sold out
const CUT_EVERY_MS = 250

beforeAll(buildOnce, 120_000)

/** The booking number of each confirmation in the development mailbox. */
const confirmations = (directory: string) => mailbox(directory).map(({ booking }) => booking)

const mailbox = (directory: string) =>
  readdirSync(directory).filter((name) => name.endsWith(".eml")).map((name) => {
    const mail = readFileSync(join(directory, name), "utf8")
    return { booking: Number(/Booking: #(\d+)/.exec(mail)?.[1]), messageId: /^Message-ID:\s+(<[^>]*>)/im.exec(mail)?.[1] }
  })

// The queues on Redis when there is one (as CI runs it), else on BullMQ's PostgreSQL backend: the
// guarantees are the same, so the test runs either way.
describe("database connections cut during a booking load", () => {
  const scope = Effect.runSync(Scope.make())
  let server: Server | undefined
  let admin: pg.Client
  let mailDir: string

  afterAll(async () => {
    cleanUp(server)
    await admin?.end()
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(mailDir, { recursive: true, force: true })
  })

  it("every 201 is a booking, the tickets add up, and every booking gets exactly one email", async () => {
    const databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
    const queues = redisUrl === ""
      ? {}
      : { REDIS_URL: redisUrl, QUEUE_PREFIX: await Effect.runPromise(Scope.extend(redisPrefix, scope)) }
    mailDir = mkdtempSync(join(tmpdir(), "event-booking-chaos-"))
    const port = await freePort()
    const base = `http://127.0.0.1:${port}/api`
    server = start({
      DATABASE_URL: databaseUrl,
      ...queues,
      PORT: String(port),
      JWT_SECRET: SECRET,
      MAIL_DIR: mailDir,
      BCRYPT_COST: "4",
      MAX_TICKETS_PER_CUSTOMER_PER_EVENT: "1000",
      OUTBOX_POLL_MS: "100",
      JOB_BACKOFF_MS: "100",
      // A job may meet several cuts in a row; every attempt that fails here is one that sent nothing twice.
      JOB_ATTEMPTS: "10"
    })
    await waitUntilUp(server, base)
    // The cuts come from another database's connection: every backend of the service's database goes.
    const serverUrl = new URL(databaseUrl)
    serverUrl.pathname = "/postgres"
    admin = new pg.Client(serverUrl.toString())
    await admin.connect()

    const post = async (path: string, body: unknown, token?: string) => {
      const response = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify(body)
      })
      return { status: response.status, body: (await response.json().catch(() => undefined)) as any }
    }
    const signIn = async (email: string, role: string) => {
      expect((await post("/auth/register", { email, password: "chaos-password-1", role })).status).toBe(201)
      return (await post("/auth/login", { email, password: "chaos-password-1" })).body.token as string
    }
    const organizer = await signIn("org@chaos.io", "ORGANIZER")
    const customers = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => signIn(`c${i}@chaos.io`, "CUSTOMER")))
    const events: Array<number> = []
    for (const title of ["Chaos A", "Chaos B"]) {
      const created = await post("/events", {
        title,
        date: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        location: "Hall",
        totalTickets: TICKETS
      }, organizer)
      expect(created.status).toBe(201)
      events.push(created.body.id)
    }

    // Cuts every CUT_EVERY_MS, from the first booking until every booking's email is out (or 20 s).
    let cutting = true
    let cuts = 0
    const cutter = (async () => {
      const deadline = Date.now() + 20_000
      while (cutting && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, CUT_EVERY_MS))
        const { rows } = await admin.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
          [new URL(databaseUrl).pathname.slice(1)]
        )
        if (rows[0].n > 0) cuts++
      }
    })()

    const statuses: Array<number> = []
    let next = 0
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < REQUESTS) {
        const i = next++
        const booked = await post("/bookings", { eventId: events[i % 2], ticketsCount: 1 + (i % 2) }, customers[i % CUSTOMERS])
        statuses.push(booked.status)
      }
    }))
    const created = statuses.filter((status) => status === 201).length

    // A connection of its own per read, retried: the cuts go on, and take the test's connections too.
    const query = async <A>(text: string): Promise<Array<A>> => {
      for (let attempt = 1;; attempt++) {
        const client = new pg.Client(databaseUrl)
        client.on("error", () => {})
        try {
          await client.connect()
          return (await client.query(text)).rows
        } catch (error) {
          if (attempt === 5) throw error
        } finally {
          await client.end().catch(() => {})
        }
      }
    }
    const bookings = await query<{ id: number }>("SELECT id FROM bookings")
    await waitFor(() => new Set(confirmations(mailDir)).size, (mailed) => mailed >= bookings.length, 30_000)
    cutting = false
    await cutter
    await new Promise((resolve) => setTimeout(resolve, 1_500)) // a repeated email would be written by now

    const mails = mailbox(mailDir)
    const mailed = mails.map(({ booking }) => booking)
    const perBooking = new Map<number, number>()
    for (const id of mailed) perBooking.set(id, (perBooking.get(id) ?? 0) + 1)
    const repeated = [...perBooking.values()].filter((n) => n > 1).length
    const balance = await query<{ total: number; available: number; booked: number }>(`
      SELECT e.total_tickets AS total, e.available_tickets AS available, coalesce(sum(b.tickets_count), 0)::int AS booked
      FROM events e LEFT JOIN bookings b ON b.event_id = e.id AND b.status = 'CONFIRMED'
      GROUP BY e.id ORDER BY e.id`)
    const answers = [...new Set(statuses)].sort().map((status) => `${statuses.filter((s) => s === status).length}×${status}`).join(", ")
    console.log(
      `chaos: ${REQUESTS} booking requests (${answers}), ${cuts} cuts; ${created} answered 201, ${bookings.length} bookings; ` +
        `${mailed.length} emails, ${repeated} bookings mailed more than once, ${bookings.length - perBooking.size} never`
    )

    expect(cuts).toBeGreaterThanOrEqual(5)
    expect(bookings.length).toBe(created)
    expect(balance.map(({ available, booked, total }) => available + booked - total)).toEqual([0, 0])
    expect([...perBooking.keys()].sort((a, b) => a - b)).toEqual(bookings.map(({ id }) => id).sort((a, b) => a - b))
    expect(repeated).toBe(0)
    // Each email's Message-ID is its delivery's: the booking's key and this database's namespace.
    for (const { booking, messageId } of mails) {
      expect(messageId).toMatch(new RegExp(`^<booking-confirmed-${booking}\\.[0-9a-f-]{36}@event-booking\\.local>$`))
    }
  }, 60_000)
})
