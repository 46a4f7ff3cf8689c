/**
 * The application's job catalogue (src/Jobs.ts): the features' job types joined. Jobs already
 * queued (in the outbox, in Redis) were written under these names, on these queues, in this
 * shape: the catalogue must still route and decode them exactly so.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { HoldExpiry } from "../../src/Inventory/InventoryJobTypes.ts"
import { jobCatalogue } from "../../src/Jobs.ts"
import { JobCatalogue, jobType } from "../../src/Jobs/JobCatalogue.ts"

/** One payload of each job, as the outbox holds them (dates as ISO strings). */
const queued = [
  { _tag: "BookingsConfirmed", bookings: [{ bookingId: 1, userId: 2, eventId: 3, ticketsCount: 1 }] },
  { _tag: "BookingConfirmed", bookingId: 1, userId: 2, eventId: 3, ticketsCount: 1 },
  { _tag: "BookingCancelled", bookingId: 1, userId: 2, eventId: 3, ticketsCancelled: 1, ticketsLeft: 0 },
  { _tag: "WaitlistOffer", holdId: 4, userId: 2, eventId: 3, ticketsCount: 1, expiresAt: "2099-01-01T00:00:00.000Z" },
  { _tag: "HoldExpiry", holdId: 4, eventId: 3, expiresAt: "2099-01-01T00:00:00.000Z" },
  {
    _tag: "EventUpdated",
    eventId: 3,
    event: { title: "Conf", date: "2099-01-01T00:00:00.000Z", location: "Hall" },
    changes: [{ field: "date", before: "2098-01-01T00:00:00.000Z", after: "2099-01-01T00:00:00.000Z" }]
  },
  { _tag: "EventCancelled", eventId: 3, event: { title: "Conf", date: "2099-01-01T00:00:00.000Z", location: "Hall" } },
  {
    _tag: "Announcement",
    eventId: 3,
    type: "booking.created",
    occurredAt: "2099-01-01T00:00:00.000Z",
    data: { booking: { id: 1, eventId: 3 } }
  },
  { _tag: "WebhookAttempt", deliveryId: 5, attempt: 1, notBefore: null },
  { _tag: "WebhookEndpointDisabled", endpointId: 6, reason: "it answered 410 Gone" }
]

describe("the application's job catalogue", () => {
  it.effect("decodes each job as queued, routes it to its queue and encodes it back as it was", () =>
    Effect.gen(function*() {
      expect(jobCatalogue.names).toEqual(queued.map((payload) => payload._tag))
      const jobs = yield* Effect.forEach(queued, jobCatalogue.decode)
      expect(jobs.map(jobCatalogue.queueOf)).toEqual([
        "email-queue",
        "email-queue",
        "email-queue",
        "email-queue",
        "holds-queue",
        "notification-queue",
        "notification-queue",
        "webhook-queue",
        "webhook-queue",
        "email-queue"
      ])
      expect(jobs.map(jobCatalogue.encode)).toEqual(queued)
    }))

  it("lets a hold expiry run at its hold's end, anything else at once", () => {
    const decode = Schema.decodeUnknownSync(jobCatalogue.schema)
    expect(jobCatalogue.runAtOf(decode(queued[4]))).toEqual(new Date("2099-01-01T00:00:00.000Z"))
    expect(queued.filter((payload) => jobCatalogue.runAtOf(decode(payload)) !== null)).toEqual([queued[4]])
  })

  it("merges confirmations only", () => {
    expect([...jobCatalogue.merges.keys()]).toEqual(["BookingsConfirmed"])
  })

  it("writes an announcement only where a webhook endpoint listens (its outbox condition); every other job always", () => {
    expect([...jobCatalogue.conditions.keys()]).toEqual(["Announcement"])
    expect(jobCatalogue.conditions.get("Announcement")).toContain("webhook_endpoints")
  })

  it("lets a retry of a webhook run at its time", () => {
    const decode = Schema.decodeUnknownSync(jobCatalogue.schema)
    const retry = { _tag: "WebhookAttempt", deliveryId: 5, attempt: 2, notBefore: "2099-01-01T00:00:05.000Z" }
    expect(jobCatalogue.runAtOf(decode(retry))).toEqual(new Date("2099-01-01T00:00:05.000Z"))
  })

  it("refuses a job of no declared type, and two types of one name", () => {
    expect(() => jobCatalogue.encode({ _tag: "Unheard" })).toThrow("no job type is named Unheard")
    const type = jobType(HoldExpiry, { queue: "holds-queue" })
    expect(() => JobCatalogue.make([type, type])).toThrow("two job types share a tag")
  })
})
