/**
 * Holds and the waiting list with real delivery: a hold expires by its delayed BullMQ job (the
 * sweep is an hour away), its tickets go to the waiting customer as an offer by email, who confirms
 * and then cancels, each with its email. On Redis, and on BullMQ's PostgreSQL backend.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, type Scope } from "effect"
import type { JobSettings } from "../../src/Platform/Config.ts"
import { eventually, fastJobs, jobsApp, redisPrefix, redisUrl, smtp } from "../support/jobs.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { type ReceivedMail, startSmtpSink } from "../support/smtpSink.ts"

const subjectOf = (mail: ReceivedMail) => /^Subject: (.*)$/m.exec(mail.decoded)?.[1]

const theLifecycle = (jobs: Effect.Effect<JobSettings, never, Scope.Scope>) =>
  Effect.gen(function*() {
    const sink = yield* startSmtpSink
    const app = jobsApp({
      jobs: yield* jobs,
      mail: smtp(sink.url),
      // Only the delayed job can expire the hold in time: the sweep runs at start-up, then in an hour.
      holds: { ttlSeconds: 2, sweepIntervalSeconds: 3600 }
    })
    yield* Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const [ann, bob] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
      const event = yield* createEvent(organizer.token, { title: "Lifecycle Conf", totalTickets: 2 })
      const held = yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: event.id, ticketsCount: 2 } })
      expect(held.status).toBe(201)
      const joined = yield* request("POST", `/api/events/${event.id}/waitlist`, { token: bob.token, json: { ticketsCount: 2 } })
      expect(joined.body).toMatchObject({ status: "WAITING", position: 1 })

      // Nobody touches the event: the hold's expiry job, published with a 2 s delay, frees the tickets.
      const [offer] = yield* eventually(sink.received, (mails) => mails.length === 1)
      expect(subjectOf(offer!)).toBe("Tickets for you: Lifecycle Conf")
      expect(offer!.to).toEqual([bob.user.email])
      const expired = yield* request("POST", `/api/holds/${held.body.id}/confirm`, { token: ann.token })
      expect(expired.body).toMatchObject({ status: 409, code: "HoldExpired" })

      const [bobsHold] = (yield* request("GET", "/api/holds/mine", { token: bob.token })).body
      expect(offer!.decoded).toContain(`Hold: #${bobsHold.id}`)
      const booked = yield* request("POST", `/api/holds/${bobsHold.id}/confirm`, { token: bob.token })
      expect(booked.status).toBe(201)
      const cancelled = yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: bob.token })
      expect(cancelled.body).toMatchObject({ status: "CANCELLED" })

      const mails = yield* eventually(sink.received, (all) => all.length === 3)
      expect(mails.map(subjectOf).sort()).toEqual([
        "Booking cancelled: Lifecycle Conf",
        "Booking confirmed: Lifecycle Conf",
        "Tickets for you: Lifecycle Conf"
      ])
      expect(mails.every((mail) => mail.to.join() === bob.user.email)).toBe(true)
      expect((yield* request("GET", "/api/events")).body.find((e: any) => e.id === event.id).availableTickets).toBe(2)
    }).pipe(Effect.provide(app))
  }).pipe(Effect.scoped)

describe("holds and the waiting list with BullMQ", () => {
  it.live.skipIf(redisUrl === "")(
    "on Redis",
    () => theLifecycle(Effect.map(redisPrefix, (prefix) => fastJobs({ redisUrl: Option.some(Redacted.make(redisUrl)), prefix }))),
    60_000
  )

  it.live("on BullMQ's PostgreSQL backend", () => theLifecycle(Effect.succeed(fastJobs())), 60_000)
})
