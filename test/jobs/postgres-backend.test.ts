/** Jobs with no Redis: BullMQ on its PostgreSQL backend in the application database, as `npm start` runs by default. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { deliveriesOnceAtLeast, eventually, fastJobs, jobsApp, smtp } from "../support/jobs.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { startSmtpSink } from "../support/smtpSink.ts"

const ADMIN_TOKEN = "an-operator-token-for-tests"

describe("jobs on BullMQ's PostgreSQL backend", () => {
  it.live("a booking is confirmed and a cancellation reaches the attendee, with no Redis at all", () =>
    Effect.gen(function*() {
      const sink = yield* startSmtpSink
      yield* Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { title: "Postgres Conf" })
        const booked = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 3 } })
        expect(booked.status).toBe(201)
        const [confirmation] = yield* eventually(sink.received, (mails) => mails.length === 1)
        expect(confirmation!.to).toEqual([customer.user.email])
        expect(confirmation!.decoded).toContain(`Booking: #${booked.body.id}`)

        expect((yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })).status).toBe(204)
        const mails = yield* eventually(sink.received, (all) => all.length === 2)
        expect(mails[1]!.decoded).toContain("Subject: Event cancelled: Postgres Conf")
        expect(mails[1]!.decoded).toContain("you hold 3 tickets")
        expect(yield* deliveriesOnceAtLeast(2)).toBe(2)

        const health = yield* eventually(
          request("GET", "/api/admin/queues", { token: ADMIN_TOKEN }),
          // A count slower than the publish timeout reports the backend unreachable, with no queues
          // (and `[].every` holds): wait for a reachable report.
          (response) =>
            response.body?.backend?.reachable === true &&
            // The relay marks what it published a moment later (Relay.ts): wait for that too.
            response.body.outbox?.pending === 0 &&
            response.body.queues.every((queue: any) =>
              queue.completed === (queue.name === "holds-queue" || queue.name === "webhook-queue" ? 0 : 1)
            )
        )
        expect(health.body).toMatchObject({ backend: { kind: "postgres", reachable: true }, outbox: { pending: 0 } })
        expect(health.body.queues.map((queue: any) => queue.name)).toEqual([
          "email-queue",
          "notification-queue",
          "holds-queue",
          "webhook-queue"
        ])
      }).pipe(Effect.provide(jobsApp({ ...fastJobs, ...smtp(sink.url), ADMIN_TOKEN })))
    }).pipe(Effect.scoped), 60_000)
})
