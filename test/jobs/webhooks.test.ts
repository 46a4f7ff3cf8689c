/**
 * Webhooks delivered for real: the API, the relay and the workers on Redis and PostgreSQL, a
 * receiver on loopback (WEBHOOK_ALLOW_PRIVATE=true) that checks every delivery with an independent
 * implementation of Standard Webhooks (the `standardwebhooks` package), and an SMTP sink. The retry
 * schedule is a few short waits (WEBHOOK_RETRY_SCHEDULE), so giving up takes a second.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Webhook } from "standardwebhooks"
import * as Announcements from "../../src/Announcements/Announcements.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { bookOne } from "../support/bookings.ts"
import { eventually, fastJobs, jobsApp, jobsSettled, queuesOnRedis, redisPrefix, redisUrl, smtp } from "../support/jobs.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { startSmtpSink } from "../support/smtpSink.ts"

interface Received {
  readonly headers: Record<string, string>
  readonly body: string
  /** What the receiver answered. */
  readonly status: number
}

/** An HTTP receiver on 127.0.0.1 answering its n-th request (0-based) with `answer(n)`; closed with the scope. */
const startReceiver = (answer: (n: number) => number = () => 200) =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const status = answer(received.length)
        received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8"), status })
        res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "not now")
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
      received: Effect.sync(() => [...received])
    }
  })

const settings = { ...fastJobs, WEBHOOK_ALLOW_PRIVATE: true, WEBHOOK_RETRY_SCHEDULE: "100ms,150ms,200ms" }

/**
 * The app with mail into `sink`, around `body`: its queues on Redis (under a fresh prefix) when
 * there is one, as CI runs it, else on BullMQ's PostgreSQL backend. The guarantees are the same,
 * so the suite runs either way.
 */
const onQueues = <A, E, R>(body: (sink: Effect.Effect.Success<typeof startSmtpSink>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const sink = yield* startSmtpSink
    const queues = redisUrl === "" ? {} : queuesOnRedis(yield* redisPrefix)
    return yield* body(sink).pipe(Effect.provide(jobsApp({ ...settings, ...queues, ...smtp(sink.url) })))
  }).pipe(Effect.scoped)

const register = (token: string, url: string, events: ReadonlyArray<string>) =>
  Effect.map(request("POST", "/api/webhooks", { token, json: { url, events } }), (response) => {
    expect(response.status).toBe(201)
    return response.body as { id: number; secret: string }
  })

const verify = (secret: string, delivery: Received) => new Webhook(secret).verify(delivery.body, delivery.headers) as any

const book = (token: string, eventId: number, ticketsCount = 1) =>
  request("POST", "/api/bookings", { token, json: { eventId, ticketsCount } })

const subjectOf = (decoded: string) => /^Subject: (.*)$/m.exec(decoded)?.[1]

describe("webhooks with BullMQ", () => {
  it.live(
    "a booking reaches its organizer's receiver as booking.created, signed; after a rotation both secrets verify; a forged one does not",
    () =>
      onQueues(() =>
        Effect.gen(function*() {
          const receiver = yield* startReceiver()
          const organizer = yield* signUp("ORGANIZER")
          const customer = yield* signUp("CUSTOMER")
          const event = yield* createEvent(organizer.token, { title: "Hooked Conf" })
          const endpoint = yield* register(organizer.token, receiver.url, ["booking.created", "booking.cancelled"])

          const booked = yield* book(customer.token, event.id, 2)
          expect(booked.status).toBe(201)
          const [created] = yield* eventually(receiver.received, (all) => all.length === 1)
          const payload = verify(endpoint.secret, created!)
          expect(payload).toEqual({
            type: "booking.created",
            timestamp: booked.body.createdAt,
            data: {
              booking: {
                id: booked.body.id,
                eventId: event.id,
                userId: customer.user.id,
                ticketsCount: 2,
                items: [{ ticketTypeId: booked.body.items[0].ticketTypeId, count: 2 }],
                status: "CONFIRMED",
                cancelledAt: null,
                createdAt: booked.body.createdAt
              }
            }
          })
          expect(created!.headers["content-type"]).toContain("application/json")
          expect(created!.headers["webhook-id"]).toMatch(/^msg_/)
          expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, created!)).toThrow()

          const rotated = (yield* request("POST", `/api/webhooks/${endpoint.id}/rotate-secret`, { token: organizer.token })).body
          const reduced = yield* request("PATCH", `/api/bookings/${booked.body.id}`, { token: customer.token, json: { ticketsCount: 1 } })
          expect(reduced.status).toBe(200)
          const [, cancelled] = yield* eventually(receiver.received, (all) => all.length === 2)
          expect(cancelled!.headers["webhook-signature"]!.split(" ")).toHaveLength(2)
          const after = verify(rotated.secret, cancelled!)
          expect(verify(endpoint.secret, cancelled!)).toEqual(after)
          expect(after).toMatchObject({
            type: "booking.cancelled",
            data: {
              booking: { id: booked.body.id, ticketsCount: 1, status: "CONFIRMED" },
              ticketsCancelled: 1,
              ticketsLeft: 1,
              partial: true
            }
          })
          expect(cancelled!.headers["webhook-id"]).not.toBe(created!.headers["webhook-id"])

          const tested = yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token: organizer.token })
          const [, , ping] = yield* eventually(receiver.received, (all) => all.length === 3)
          expect(verify(rotated.secret, ping!)).toMatchObject({ type: "ping", data: { webhookEndpointId: endpoint.id } })
          expect(ping!.headers["webhook-id"]).toBe(tested.body.webhookId)

          yield* jobsSettled
          expect(yield* receiver.received).toHaveLength(3)
          const deliveries = (yield* request("GET", `/api/webhooks/${endpoint.id}/deliveries`, { token: organizer.token })).body
          expect(deliveries.map((d: any) => [d.eventType, d.state, d.attempts, d.lastStatus])).toEqual([
            ["ping", "delivered", 1, 200],
            ["booking.cancelled", "delivered", 1, 200],
            ["booking.created", "delivered", 1, 200]
          ])
        })
      ),
    60_000
  )

  it.live(
    "a receiver that fails, then recovers, gets the delivery again with the same webhook-id, delivered once",
    () =>
      onQueues(() =>
        Effect.gen(function*() {
          const receiver = yield* startReceiver((n) => [500, 503][n] ?? 200)
          const organizer = yield* signUp("ORGANIZER")
          const endpoint = yield* register(organizer.token, receiver.url, ["ping"])
          const tested = yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token: organizer.token })
          yield* eventually(receiver.received, (all) => all.length === 3)
          yield* jobsSettled

          const received = yield* receiver.received
          expect(received.map((r) => r.status)).toEqual([500, 503, 200])
          expect(new Set(received.map((r) => r.headers["webhook-id"]))).toEqual(new Set([tested.body.webhookId]))
          expect(new Set(received.map((r) => r.body)).size).toBe(1)
          for (const delivery of received) expect(verify(endpoint.secret, delivery).type).toBe("ping")
          const [delivery] = (yield* request("GET", `/api/webhooks/${endpoint.id}/deliveries`, { token: organizer.token })).body
          expect(delivery).toMatchObject({ state: "delivered", attempts: 3, lastStatus: 200, lastError: null, nextAttemptAt: null })
          const endpointNow = (yield* request("GET", `/api/webhooks/${endpoint.id}`, { token: organizer.token })).body
          expect(endpointNow.enabled).toBe(true)
        })
      ),
    60_000
  )

  it.live(
    "a dead receiver: after the last retry the endpoint is disabled and its organizer gets one email; a retry by hand starts over",
    () =>
      onQueues((sink) =>
        Effect.gen(function*() {
          const receiver = yield* startReceiver(() => 500)
          const organizer = yield* signUp("ORGANIZER")
          const endpoint = yield* register(organizer.token, receiver.url, ["ping"])
          const tested = yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token: organizer.token })
          const [mail] = yield* eventually(sink.received, (all) => all.length === 1)
          yield* jobsSettled

          // The first attempt and 3 retries (the schedule's length).
          expect((yield* receiver.received).length).toBe(4)
          expect(mail!.to).toEqual([organizer.user.email])
          expect(subjectOf(mail!.decoded)).toBe("Webhook endpoint disabled")
          expect(mail!.decoded).toContain(receiver.url)
          expect(yield* sink.received).toHaveLength(1)
          const disabled = (yield* request("GET", `/api/webhooks/${endpoint.id}`, { token: organizer.token })).body
          expect(disabled).toMatchObject({ enabled: false, disabledReason: "4 attempts in a row failed" })
          const [failed] = (yield* request("GET", `/api/webhooks/${endpoint.id}/deliveries`, { token: organizer.token })).body
          expect(failed).toMatchObject({ state: "failed", attempts: 4, lastStatus: 500, nextAttemptAt: null })
          expect(failed.lastError).toContain("answered 500")

          // Nothing goes to a disabled endpoint; enabled again, a retry by hand is a new round.
          const refused = yield* request("POST", `/api/webhooks/${endpoint.id}/deliveries/${tested.body.id}/retry`, {
            token: organizer.token
          })
          expect(refused.body.code).toBe("WebhookDisabled")
          yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token: organizer.token, json: { enabled: true } })
          const retried = yield* request("POST", `/api/webhooks/${endpoint.id}/deliveries/${tested.body.id}/retry`, {
            token: organizer.token
          })
          expect(retried.status).toBe(202)
          yield* eventually(sink.received, (all) => all.length === 2)
          yield* jobsSettled
          const all = yield* receiver.received
          expect(all.length).toBe(8)
          expect(new Set(all.map((r) => r.headers["webhook-id"]))).toEqual(new Set([tested.body.webhookId]))
        })
      ),
    60_000
  )

  it.live(
    "410 Gone disables the endpoint at once, with one email; its other events are not sent",
    () =>
      onQueues((sink) =>
        Effect.gen(function*() {
          const receiver = yield* startReceiver(() => 410)
          const organizer = yield* signUp("ORGANIZER")
          const endpoint = yield* register(organizer.token, receiver.url, ["ping", "event.updated"])
          yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token: organizer.token })
          yield* eventually(sink.received, (all) => all.length === 1)
          yield* jobsSettled
          expect(yield* receiver.received).toHaveLength(1)
          const disabled = (yield* request("GET", `/api/webhooks/${endpoint.id}`, { token: organizer.token })).body
          expect(disabled).toMatchObject({ enabled: false, disabledReason: "it answered 410 Gone" })

          const event = yield* createEvent(organizer.token)
          yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "Renamed" } })
          yield* jobsSettled
          expect(yield* receiver.received).toHaveLength(1)
          expect(yield* sink.received).toHaveLength(1)
        })
      ),
    60_000
  )

  it.live(
    "a rolled-back change yields no webhook; with no endpoint listening, a change writes no announcement at all",
    () =>
      onQueues(() =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const announcements = Effect.map(
            sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox WHERE name = 'Announcement'`,
            ([row]) => row!.n
          )
          const receiver = yield* startReceiver()
          const organizer = yield* signUp("ORGANIZER")
          const customer = yield* signUp("CUSTOMER")
          const event = yield* createEvent(organizer.token)

          // Nobody listens; then only to another type; then disabled: nothing is written.
          expect((yield* book(customer.token, event.id)).status).toBe(201)
          const other = yield* register(organizer.token, receiver.url, ["hold.expired"])
          expect((yield* book(customer.token, event.id)).status).toBe(201)
          const endpoint = yield* register(organizer.token, receiver.url, ["booking.created"])
          yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token: organizer.token, json: { enabled: false } })
          expect((yield* book(customer.token, event.id)).status).toBe(201)
          expect(yield* announcements).toBe(0)
          yield* request("DELETE", `/api/webhooks/${other.id}`, { token: organizer.token })
          yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token: organizer.token, json: { enabled: true } })

          // A booking whose transaction rolls back, announcement and all.
          const jobs = yield* JobQueue
          const booking = { userId: customer.user.id as UserId, eventId: event.id as EventId, ticketsCount: 1 }
          const outcome = yield* (yield* Transactions).run(
            bookOne(booking).pipe(
              Effect.tap((row) =>
                jobs.enqueue(Announcements.bookingCreated(event.id as EventId, {
                  id: row.id,
                  userId: booking.userId,
                  ticketsCount: 1,
                  status: "CONFIRMED",
                  cancelledAt: null,
                  holdId: null,
                  createdAt: new Date(),
                  idempotencyId: null,
                  cancelIdempotencyId: null,
                  items: []
                }))
              ),
              Effect.zipRight(Effect.fail("payment declined" as const))
            )
          ).pipe(Effect.flip)
          expect(outcome).toBe("payment declined")

          // One committed after it is delivered; once all has settled, it is the only one.
          const committed = yield* book(customer.token, event.id)
          yield* eventually(receiver.received, (all) => all.length === 1)
          yield* jobsSettled
          const received = yield* receiver.received
          expect(received.map((r) => verify(endpoint.secret, r).data.booking.id)).toEqual([committed.body.id])
          expect(yield* announcements).toBe(1)
        })
      ),
    60_000
  )
})

describe("webhooks with BullMQ on PostgreSQL", () => {
  it.live(
    "an event published, updated and cancelled reaches the receiver, verified",
    () =>
      Effect.gen(function*() {
        const sink = yield* startSmtpSink
        yield* Effect.gen(function*() {
          const receiver = yield* startReceiver()
          const organizer = yield* signUp("ORGANIZER")
          const endpoint = yield* register(organizer.token, receiver.url, ["event.published", "event.updated", "event.cancelled"])
          const event = yield* createEvent(organizer.token, { status: "DRAFT", title: "Draft Conf" })
          yield* request("POST", `/api/events/${event.id}/publish`, { token: organizer.token })
          yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "Final Conf" } })
          yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })
          yield* eventually(receiver.received, (all) => all.length === 3)
          yield* jobsSettled
          const payloads = (yield* receiver.received).map((r) => verify(endpoint.secret, r))
          // Order between events is not guaranteed.
          const byType = new Map(payloads.map((p) => [p.type, p.data]))
          expect([...byType.keys()].sort()).toEqual(["event.cancelled", "event.published", "event.updated"])
          expect(byType.get("event.published").event).toMatchObject({ id: event.id, title: "Draft Conf", status: "PUBLISHED" })
          expect(byType.get("event.updated")).toMatchObject({
            event: { id: event.id, title: "Final Conf" },
            changes: [{ field: "title", before: "Draft Conf", after: "Final Conf" }]
          })
          expect(byType.get("event.cancelled").event).toMatchObject({ id: event.id, status: "CANCELLED" })
        }).pipe(Effect.provide(jobsApp({ ...settings, ...smtp(sink.url) })))
      }).pipe(Effect.scoped),
    60_000
  )
})
