/** Cancellation, holds and the waiting list over HTTP (in-memory): statuses, bodies, error shapes, who may do what, OpenAPI. */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import type { EventId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { MemoryStore, withEntry } from "../../src/Storage/MemoryStore.ts"
import { client, createEvent, MemoryServer, request, signUp } from "../support/server.ts"

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
}

describe("tickets over HTTP", () => {
  layer(MemoryServer({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 6 }), { excludeTestServices: true })((it) => {
    it.effect("DELETE /bookings/:id: 200 with the booking CANCELLED; again 409; another customer's 404; my-bookings shows both states", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [ann, bob] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const booked = yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 3 } })
        expect(booked.body).toMatchObject({ status: "CONFIRMED", cancelledAt: null })

        expectError(yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: bob.token }), 404, "BookingNotFound")
        expectError(yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: organizer.token }), 404, "BookingNotFound")
        const cancelled = yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: ann.token })
        expect(cancelled.status).toBe(200)
        expect(cancelled.body).toMatchObject({
          id: booked.body.id,
          status: "CANCELLED",
          cancelledAt: expect.any(String),
          ticketsCount: 3,
          event: { id: event.id, availableTickets: 10 }
        })
        expectError(yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: ann.token }), 409, "BookingAlreadyCancelled")
        expectError(yield* request("DELETE", "/api/bookings/abc", { token: ann.token }), 400, "ValidationError")
        expectError(yield* request("DELETE", `/api/bookings/${booked.body.id}`), 401, "Unauthorized")

        yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 1 } })
        const mine = yield* request("GET", "/api/bookings/my-bookings", { token: ann.token })
        expect(mine.body.map((b: any) => b.status)).toEqual(["CONFIRMED", "CANCELLED"])
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "BookingCancelled" && job.eventId === event.id)
        expect(jobs).toHaveLength(1)
      }))

    it.effect("GET /events shows every change to the tickets left at once: the listing's cache hears of each committed batch", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const title = `Cache ${Math.random().toString(36).slice(2)}`
        const event = yield* createEvent(organizer.token, { title, totalTickets: 10 })
        // Kept up to a second unless invalidated: each read follows its write at once.
        const left = Effect.map(request("GET", `/api/events?q=${encodeURIComponent(title)}`), ({ body }) => body[0].availableTickets)
        const send = (method: "POST" | "DELETE", path: string, json?: unknown) =>
          Effect.map(request(method, path, { token: ann.token, json }), ({ body }) => body)
        expect(yield* left).toBe(10)
        const booking = yield* send("POST", "/api/bookings", { eventId: event.id, ticketsCount: 2 })
        expect(yield* left).toBe(8)
        const hold = yield* send("POST", "/api/holds", { eventId: event.id, ticketsCount: 2 })
        expect(yield* left).toBe(6)
        yield* send("DELETE", `/api/holds/${hold.id}`)
        expect(yield* left).toBe(8)
        yield* send("DELETE", `/api/bookings/${booking.id}`)
        expect(yield* left).toBe(10)

        // A hold whose time is up, expired by the sweep's Refresh (its job would do the same).
        const expiring = yield* send("POST", "/api/holds", { eventId: event.id, ticketsCount: 3 })
        expect(yield* left).toBe(7)
        const store = yield* MemoryStore
        yield* Ref.update(store, (tables) => ({
          ...tables,
          holds: withEntry(tables.holds, expiring.id, { ...tables.holds.get(expiring.id)!, expiresAt: new Date(Date.now() - 1000) })
        }))
        yield* Effect.flatMap(Inventory, (inventory) => inventory.submit(event.id as EventId, { _tag: "Refresh" }))
        expect(yield* left).toBe(10)

        yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { totalTickets: 12 } })
        expect(yield* left).toBe(12)
      }))

    it.effect("PATCH /bookings/:id: keeps ticketsCount, gives the rest back; not fewer than now is a 400 naming ticketsCount", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const booked = yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 4 } })
        const patch = (json: unknown) => request("PATCH", `/api/bookings/${booked.body.id}`, { token: ann.token, json })
        const changed = yield* patch({ ticketsCount: 1 })
        expect(changed.status).toBe(200)
        expect(changed.body).toMatchObject({ ticketsCount: 1, status: "CONFIRMED", event: { availableTickets: 9 } })
        for (
          const json of [{ ticketsCount: 1 }, { ticketsCount: 5 }, { ticketsCount: 0 }, { ticketsCount: 1.5 }, {}, {
            ticketsCount: 1,
            extra: 1
          }]
        ) {
          const response = yield* patch(json)
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toMatch(/ticketsCount|extra/)
        }
      }))

    it.effect("holds: 201 HELD with expiresAt, tickets gone from the event; mine; confirm 201 booking; release 204; organizers 403", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const before = Date.now()
        const held = yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: event.id, ticketsCount: 2 } })
        expect(held.status).toBe(201)
        expect(held.body).toEqual({
          id: expect.any(Number),
          eventId: event.id,
          ticketsCount: 2,
          items: [{ ticketTypeId: expect.any(Number), name: "General admission", count: 2 }],
          status: "HELD",
          expiresAt: expect.any(String),
          createdAt: expect.any(String)
        })
        expect(Date.parse(held.body.expiresAt) - before).toBeGreaterThanOrEqual(600_000 - 1000)
        const listed = yield* request("GET", "/api/events")
        expect(listed.body.find((e: any) => e.id === event.id).availableTickets).toBe(8)
        expect((yield* request("GET", "/api/holds/mine", { token: ann.token })).body).toEqual([held.body])

        expectError(
          yield* request("POST", "/api/holds", { token: organizer.token, json: { eventId: event.id, ticketsCount: 1 } }),
          403,
          "Forbidden"
        )
        expectError(
          yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: event.id, ticketsCount: 11 } }),
          400,
          "ValidationError"
        )
        expectError(
          yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: 999999, ticketsCount: 1 } }),
          404,
          "EventNotFound"
        )
        expectError(yield* request("POST", `/api/holds/${held.body.id}/confirm`, { token: organizer.token }), 404, "HoldNotFound")

        const confirmed = yield* request("POST", `/api/holds/${held.body.id}/confirm`, { token: ann.token })
        expect(confirmed.status).toBe(201)
        expect(confirmed.body).toMatchObject({ eventId: event.id, ticketsCount: 2, status: "CONFIRMED", event: { availableTickets: 8 } })
        expectError(yield* request("POST", `/api/holds/${held.body.id}/confirm`, { token: ann.token }), 409, "HoldAlreadyConfirmed")
        expect((yield* request("GET", "/api/holds/mine", { token: ann.token })).body).toEqual([])

        const another = yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: event.id, ticketsCount: 3 } })
        const released = yield* request("DELETE", `/api/holds/${another.body.id}`, { token: ann.token })
        expect(released.status).toBe(204)
        expect(released.body).toBeUndefined()
        expectError(yield* request("DELETE", `/api/holds/${another.body.id}`, { token: ann.token }), 404, "HoldNotFound")
        expect((yield* request("GET", "/api/events")).body.find((e: any) => e.id === event.id).availableTickets).toBe(8)
      }))

    it.effect("waiting list: 409 while enough are left; 201 WAITING with a position; mine; offers as holds; DELETE leaves", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [ann, bob] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
        const event = yield* createEvent(organizer.token, { totalTickets: 4 })
        const waitlist = `/api/events/${event.id}/waitlist`
        const enough = yield* request("POST", waitlist, { token: bob.token, json: { ticketsCount: 2 } })
        expectError(enough, 409, "TicketsAvailable")
        expect(enough.body.available).toBe(4)
        const booked = yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 4 } })

        const joined = yield* request("POST", waitlist, { token: bob.token, json: { ticketsCount: 2 } })
        expect(joined.status).toBe(201)
        expect(joined.body).toEqual({
          id: expect.any(Number),
          eventId: event.id,
          ticketsCount: 2,
          items: [{ ticketTypeId: expect.any(Number), name: "General admission", count: 2 }],
          position: 1,
          status: "WAITING",
          holdId: null
        })
        expectError(yield* request("POST", waitlist, { token: bob.token, json: { ticketsCount: 1 } }), 409, "AlreadyOnWaitlist")
        expectError(yield* request("POST", waitlist, { token: organizer.token, json: { ticketsCount: 1 } }), 403, "Forbidden")
        expectError(
          yield* request("POST", "/api/events/999999/waitlist", { token: bob.token, json: { ticketsCount: 1 } }),
          404,
          "EventNotFound"
        )

        yield* request("PATCH", `/api/bookings/${booked.body.id}`, { token: ann.token, json: { ticketsCount: 2 } })
        const [entry] = (yield* request("GET", "/api/waitlist/mine", { token: bob.token })).body
        const [offer] = (yield* request("GET", "/api/holds/mine", { token: bob.token })).body
        expect(entry).toMatchObject({ status: "OFFERED", holdId: offer.id, position: 1 })
        expect(offer).toMatchObject({ eventId: event.id, ticketsCount: 2, status: "HELD" })
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "WaitlistOffer" && job.eventId === event.id)
        expect(jobs).toEqual([{
          _tag: "WaitlistOffer",
          holdId: offer.id,
          userId: bob.user.id,
          eventId: event.id,
          ticketsCount: 2,
          expiresAt: expect.any(Date)
        }])

        const left = yield* request("DELETE", waitlist, { token: bob.token })
        expect(left.status).toBe(204)
        expectError(yield* request("DELETE", waitlist, { token: bob.token }), 404, "NotOnWaitlist")
        expect((yield* request("GET", "/api/holds/mine", { token: bob.token })).body).toEqual([]) // the offer went with it
        expect((yield* request("GET", "/api/waitlist/mine", { token: bob.token })).body).toEqual([])
      }))

    it.effect("limits: 409 CustomerLimitReached with limit and remaining; 409 SalesClosed outside the window; 400 for a window that cannot open", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 20 })
        yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 5 } })
        const over = yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: event.id, ticketsCount: 2 } })
        expectError(over, 409, "CustomerLimitReached")
        expect(over.body).toMatchObject({ limit: 6, remaining: 1 })

        const api = yield* client(organizer.token)
        const later = yield* api.events.create({
          payload: {
            title: "Later",
            description: "",
            date: new Date(Date.now() + 30 * 86_400_000),
            location: "Hall",
            totalTickets: 10,
            salesStart: new Date(Date.now() + 86_400_000)
          }
        })
        expect(later.salesStart).toBeInstanceOf(Date)
        expectError(
          yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: later.id, ticketsCount: 1 } }),
          409,
          "SalesClosed"
        )
        const reopened = yield* request("PUT", `/api/events/${later.id}`, { token: organizer.token, json: { salesStart: null } })
        expect(reopened.body).toMatchObject({ salesStart: null, salesEnd: null })
        expect((yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: later.id, ticketsCount: 1 } })).status).toBe(
          201
        )

        const ended = yield* request("PUT", `/api/events/${later.id}`, {
          token: organizer.token,
          json: { salesEnd: "2001-01-01T00:00:00Z" }
        })
        expect(ended.status).toBe(200)
        expectError(
          yield* request("POST", "/api/holds", { token: ann.token, json: { eventId: later.id, ticketsCount: 1 } }),
          409,
          "SalesClosed"
        )

        const backwards = yield* request("PUT", `/api/events/${later.id}`, {
          token: organizer.token,
          json: { salesStart: "2002-01-01T00:00:00Z" }
        })
        expectError(backwards, 400, "ValidationError")
        expect(backwards.body.message).toContain("salesEnd")
      }))

    it.effect("the OpenAPI document lists the new endpoints with their errors", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        const codes = (path: string, method: string) => Object.keys(spec.paths[path]?.[method]?.responses ?? {})
        expect(codes("/api/bookings/{id}", "delete")).toEqual(expect.arrayContaining(["200", "404", "409", "503"]))
        expect(codes("/api/bookings/{id}", "patch")).toEqual(expect.arrayContaining(["200", "400", "404", "409"]))
        expect(codes("/api/holds", "post")).toEqual(expect.arrayContaining(["201", "403", "404", "409", "503"]))
        expect(codes("/api/holds/{id}/confirm", "post")).toEqual(expect.arrayContaining(["201", "404", "409"]))
        expect(codes("/api/holds/{id}", "delete")).toEqual(expect.arrayContaining(["204", "404", "409"]))
        expect(codes("/api/holds/mine", "get")).toContain("200")
        expect(codes("/api/events/{id}/waitlist", "post")).toEqual(expect.arrayContaining(["201", "403", "404", "409"]))
        expect(codes("/api/events/{id}/waitlist", "delete")).toEqual(expect.arrayContaining(["204", "404"]))
        expect(codes("/api/waitlist/mine", "get")).toContain("200")
        const schemas = JSON.stringify(spec.components.schemas)
        for (const code of ["HoldExpired", "CustomerLimitReached", "SalesClosed", "BookingAlreadyCancelled", "TicketsAvailable"]) {
          expect(schemas).toContain(code)
        }
      }))
  })
})
