import { describe, expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { client, createEvent, MemoryServer, signUp } from "../support/server.ts"

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("booking flow over HTTP (in-memory)", () => {
    it.effect("books tickets and enqueues one confirmation", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 5 })
        const api = yield* client(customer.token)
        const booking = yield* api.bookings.book({ payload: { eventId: event.id, ticketsCount: 2 } })
        expect(booking.event.availableTickets).toBe(3)
        const jobs = yield* Ref.get(yield* EnqueuedJobs)
        expect(jobs.filter((job) => job._tag === "BookingConfirmed" && job.bookingId === booking.id)).toHaveLength(1)
      }))
  })
})
