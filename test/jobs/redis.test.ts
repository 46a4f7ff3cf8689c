/** Jobs end to end on real Redis, PostgreSQL and SMTP: delivery, a Redis outage, a worker killed mid-job. */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, Redacted, type Scope } from "effect"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { createRequire } from "node:module"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { JobWorkersLive } from "../../src/Background.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { QueueBackend } from "../../src/Jobs/QueueBackend.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { bookOne } from "../support/bookings.ts"
import { TestDatabaseLive } from "../support/database.ts"
import {
  deliveriesOnceAtLeast,
  eventually,
  fastJobs,
  jobsApp,
  jobsSettled,
  queuesOnRedis,
  redisPrefix,
  redisUrl,
  smtp
} from "../support/jobs.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { type ReceivedMail, type SmtpSink, startSmtpSink } from "../support/smtpSink.ts"
import { startTcpProxy } from "../support/tcpProxy.ts"

const ADMIN_TOKEN = "an-operator-token-for-tests"

const subjectOf = (mail: ReceivedMail) => /^Subject: (.*)$/m.exec(mail.raw)?.[1]
const bookingNumberOf = (mail: ReceivedMail) => /Booking: #(\d+)/.exec(mail.decoded)?.[1]

const book = (token: string, eventId: number, ticketsCount = 1) =>
  request("POST", "/api/bookings", { token, json: { eventId, ticketsCount } })

/**
 * Runs `test` against the app on Redis at `url` (default: the test server) under a fresh key prefix,
 * mailing into a fresh SMTP sink.
 */
const onRedis = <A, E>(
  test: (sink: SmtpSink, prefix: string) => Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof jobsApp>> | Scope.Scope>,
  options: { readonly url?: string; readonly workers?: boolean } = {}
) =>
  Effect.gen(function*() {
    const sink = yield* startSmtpSink
    const prefix = yield* redisPrefix
    const app = jobsApp({ ...fastJobs, ...queuesOnRedis(prefix, options.url), ...smtp(sink.url), ADMIN_TOKEN }, {
      workers: options.workers ?? true
    })
    return yield* test(sink, prefix).pipe(Effect.provide(app))
  }).pipe(Effect.scoped)

describe.skipIf(redisUrl === "")("jobs on Redis", () => {
  it.live(
    "a booking sends exactly one confirmation by SMTP; an update reaches each attendee once",
    () =>
      onRedis((sink) =>
        Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const [ann, bob] = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER")])
          const event = yield* createEvent(organizer.token, { title: "Redis Conf" })
          const bookings = [yield* book(ann.token, event.id, 2), yield* book(bob.token, event.id), yield* book(ann.token, event.id)]
          expect(bookings.map((b) => b.status)).toEqual([201, 201, 201])

          const confirmations = yield* eventually(sink.received, (mails) => mails.length === 3)
          expect(confirmations.map(subjectOf)).toEqual(Array(3).fill("Booking confirmed: Redis Conf"))
          expect(confirmations.map(bookingNumberOf).sort()).toEqual(bookings.map((b) => String(b.body.id)).sort())
          expect(confirmations.flatMap((mail) => mail.to).sort()).toEqual([ann.user.email, ann.user.email, bob.user.email].sort())

          const updated = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { location: "Hall B" } })
          expect(updated.status).toBe(200)
          yield* eventually(sink.received, (mails) => mails.length === 5)
          yield* jobsSettled
          const updates = (yield* sink.received).filter((mail) => subjectOf(mail) === "Event updated: Redis Conf")
          expect(updates.flatMap((mail) => mail.to).sort()).toEqual([ann.user.email, bob.user.email].sort())
          expect(updates.every((mail) => mail.decoded.includes("Location: Convention Center → Hall B"))).toBe(true)
          expect((yield* sink.received).length).toBe(5)
          expect(yield* deliveriesOnceAtLeast(5)).toBe(5)
        })
      ),
    60_000
  )

  it.live(
    "a database restored from an old backup (same queue namespace, ids start over): its emails are all sent",
    () =>
      Effect.gen(function*() {
        const prefix = yield* redisPrefix
        /**
         * One deployment over a fresh database (in the `namespace` given, as a restored one would
         * be): 4 bookings by 3 customers, an update, a cancellation. Answers the subjects mailed.
         */
        const deployment = (namespace: Option.Option<string>) =>
          Effect.gen(function*() {
            const sink = yield* startSmtpSink
            const database = TestDatabaseLive.pipe(
              Layer.tap((context) =>
                Option.match(namespace, {
                  onNone: () => Effect.void,
                  onSome: (id) => Context.get(context, SqlClient.SqlClient)`UPDATE queue_namespace SET id = ${id}::uuid`
                })
              )
            )
            const app = jobsApp({ ...fastJobs, ...queuesOnRedis(prefix), ...smtp(sink.url) }, {
              database
            })
            return yield* Effect.gen(function*() {
              const organizer = yield* signUp("ORGANIZER")
              const [ann, bob, cat] = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER"), signUp("CUSTOMER")])
              const event = yield* createEvent(organizer.token, { title: "Reset Conf" })
              for (const customer of [ann, bob, cat, ann]) expect((yield* book(customer.token, event.id)).status).toBe(201)
              expect((yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { location: "Hall B" } })).status)
                .toBe(200)
              expect((yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })).status).toBe(204)
              // Waits up to 20 s for all 10 emails; fewer is reported with what did arrive.
              yield* eventually(sink.received, (mails) => mails.length === 10).pipe(Effect.ignore)
              yield* jobsSettled.pipe(Effect.ignore)
              const [row] = yield* (yield* SqlClient.SqlClient)<{ id: string }>`SELECT id::text AS id FROM queue_namespace`
              return { subjects: (yield* sink.received).map(subjectOf).sort(), namespace: row!.id }
            }).pipe(Effect.provide(app))
          }).pipe(Effect.scoped)

        const expected = [
          ...Array(3).fill("Event cancelled: Reset Conf"),
          ...Array(3).fill("Event updated: Reset Conf"),
          ...Array(4).fill("Booking confirmed: Reset Conf")
        ].sort()
        const first = yield* deployment(Option.none())
        const restored = yield* deployment(Option.some(first.namespace))
        console.log(
          `a restored database on one Redis prefix: first delivered ${first.subjects.length}/10, restored ${restored.subjects.length}/10`
        )
        expect(first.subjects).toEqual(expected)
        expect(restored.subjects).toEqual(expected)
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "two deployments at once on one Redis prefix, each with its own database: each sends its own emails, all of them",
    () =>
      Effect.gen(function*() {
        const prefix = yield* redisPrefix
        const deployment = (title: string) =>
          Effect.gen(function*() {
            const sink = yield* startSmtpSink
            const app = jobsApp({ ...fastJobs, ...queuesOnRedis(prefix), ...smtp(sink.url) })
            return yield* Effect.gen(function*() {
              const organizer = yield* signUp("ORGANIZER")
              const customers = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER")])
              const event = yield* createEvent(organizer.token, { title })
              for (const customer of [...customers, ...customers]) expect((yield* book(customer.token, event.id)).status).toBe(201)
              expect((yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { location: "Hall B" } })).status)
                .toBe(200)
              yield* eventually(sink.received, (mails) => mails.length >= 6).pipe(Effect.ignore)
              yield* jobsSettled.pipe(Effect.ignore)
              return (yield* sink.received).map(subjectOf).sort()
            }).pipe(Effect.provide(app))
          }).pipe(Effect.scoped)

        const [a, b] = yield* Effect.all([deployment("A Conf"), deployment("B Conf")], { concurrency: 2 })
        const expected = (title: string) =>
          [...Array(2).fill(`Event updated: ${title}`), ...Array(4).fill(`Booking confirmed: ${title}`)].sort()
        console.log(`two deployments on one Redis prefix at once: A received ${a.length}/6 (${
          a.filter((s) => !s?.includes("A Conf")).length
        } not its own), B ${b.length}/6`)
        expect(a).toEqual(expected("A Conf"))
        expect(b).toEqual(expected("B Conf"))
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "a rolled-back booking never yields a job or an email (a booking committed after it does)",
    () =>
      onRedis((sink) =>
        Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const customer = yield* signUp("CUSTOMER")
          const event = yield* createEvent(organizer.token)
          const jobs = yield* JobQueue
          const booking = { userId: customer.user.id as UserId, eventId: event.id as EventId, ticketsCount: 1 }
          const outcome = yield* (yield* Transactions).run(
            bookOne(booking).pipe(
              Effect.tap((b) => jobs.enqueue({ _tag: "BookingConfirmed", ...booking, bookingId: b.id })),
              Effect.zipRight(Effect.fail("payment declined" as const))
            )
          ).pipe(Effect.flip)
          expect(outcome).toBe("payment declined")

          // A booking committed after it: once its email is sent and nothing is left to send, a job
          // of the rolled-back one would have been published before it, and run.
          const committed = yield* book(customer.token, event.id)
          expect(committed.status).toBe(201)
          yield* eventually(sink.received, (mails) => mails.length === 1)
          yield* jobsSettled
          const counts = yield* (yield* QueueBackend).counts
          expect(counts.reduce((jobs, q) => jobs + q.waiting + q.active + q.delayed + q.failed + q.completed, 0)).toBe(1)
          expect((yield* sink.received).map(bookingNumberOf)).toEqual([String(committed.body.id)])
        })
      ),
    60_000
  )

  it.live("Redis down: bookings still answer 201 at once; once it is back, every confirmation is sent once", () =>
    Effect.gen(function*() {
      const target = new URL(redisUrl)
      const proxy = yield* startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
      const viaProxy = new URL(redisUrl)
      viaProxy.hostname = "127.0.0.1"
      viaProxy.port = String(proxy.port)
      yield* onRedis((sink) =>
        Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const customers = yield* Effect.all(Array.from({ length: 4 }, () => signUp("CUSTOMER")))
          const event = yield* createEvent(organizer.token, { totalTickets: 100 })

          yield* proxy.cut
          const BOOKINGS = 20
          const answers = yield* Effect.all(
            Array.from({ length: BOOKINGS }, (_, i) => book(customers[i % customers.length]!.token, event.id)),
            { concurrency: 5 }
          )
          expect(answers.map((response) => response.status)).toEqual(Array(BOOKINGS).fill(201))

          // Answered without Redis: their confirmations wait in the outbox (a row per transaction;
          // bookings that went together share one), and nothing was published, so nothing is sent.
          const health = yield* eventually(
            request("GET", "/api/admin/queues", { token: ADMIN_TOKEN }),
            (response) => response.body?.backend?.reachable === false && response.body.outbox.pending > 0
          )
          expect(health.body.queues).toEqual([])
          expect(yield* sink.received).toEqual([])

          yield* proxy.restore
          yield* eventually(sink.received, (mails) => mails.length >= BOOKINGS, Duration.seconds(30))
          yield* jobsSettled
          const mails = yield* sink.received
          const numbers = mails.map(bookingNumberOf)
          const duplicates = numbers.length - new Set(numbers).size
          expect(mails.length).toBe(BOOKINGS)
          expect(duplicates).toBe(0)
          expect(yield* deliveriesOnceAtLeast(BOOKINGS)).toBe(BOOKINGS)
          const after = yield* request("GET", "/api/admin/queues", { token: ADMIN_TOKEN })
          expect(after.body).toMatchObject({ backend: { kind: "redis", reachable: true }, outbox: { pending: 0 } })
        }), { url: viaProxy.toString() })
    }).pipe(Effect.scoped), 90_000)

  it.live(
    "a worker killed mid-job: another worker retries it and the email is sent once",
    () =>
      onRedis((sink, prefix) =>
        Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const customer = yield* signUp("CUSTOMER")
          const event = yield* createEvent(organizer.token, { title: "Crash Conf" })

          // A separate worker process (`npm run worker`) whose SMTP send hangs, killed while it does.
          yield* sink.hold
          const databaseUrl = Redacted.value((yield* PgClient.PgClient).config.url!)
          const worker = spawnWorker({
            DATABASE_URL: databaseUrl,
            REDIS_URL: redisUrl,
            QUEUE_PREFIX: prefix,
            SMTP_URL: sink.url,
            JOB_LOCK_MS: "1500",
            OUTBOX_POLL_MS: "100"
          })
          yield* Effect.addFinalizer(() => Effect.sync(() => worker.kill("SIGKILL")))
          const booked = yield* book(customer.token, event.id)
          expect(booked.status).toBe(201)
          yield* eventually(sink.held, (n) => n === 1, Duration.seconds(30)).pipe(
            Effect.catchAll((error) => Effect.die(new Error(`${error.message}\n${worker.output()}`)))
          )
          worker.kill("SIGKILL")
          yield* Effect.promise(() => once(worker, "exit"))
          yield* sink.release

          // This process's workers find the job's lock expired and run it again.
          yield* Layer.launch(JobWorkersLive).pipe(Effect.forkScoped)
          const mails = yield* eventually(sink.received, (all) => all.length === 1, Duration.seconds(30))
          yield* jobsSettled
          expect(yield* sink.received).toHaveLength(1)
          expect(bookingNumberOf(mails[0]!)).toBe(String(booked.body.id))
          expect(yield* deliveriesOnceAtLeast(1)).toBe(1)
        }), { workers: false }),
    90_000
  )
})

const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

const spawnWorker = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ["--import", TSX, resolve("src/worker.ts")], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  return Object.assign(child, { output: () => output })
}
