/**
 * Idempotency-Key on POST /api/bookings over HTTP, on in-memory layers: replays (status, body and
 * `Idempotent-Replayed`), 422 for another body, 409 while the first runs, keys per user, bad keys,
 * which outcomes are kept, and the OpenAPI document; and on POST /api/holds, POST
 * /api/holds/:id/confirm and DELETE /api/bookings/:id.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref, Schedule } from "effect"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { MemoryStore } from "../../src/Storage/MemoryStore.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { confirmedBookings } from "../support/confirmations.ts"
import { createEvent, MemoryServer, request, serverOver, signUp } from "../support/server.ts"

const book = (token: string, json: unknown, key?: string) =>
  request("POST", "/api/bookings", { token, json, headers: key === undefined ? {} : { "idempotency-key": key } })

let keys = 0
const aKey = () => `key-${process.pid}-${++keys}-${Date.now()}`

const bookingsOf = (eventId: number) =>
  Effect.map(MemoryStore, (store) => Ref.get(store)).pipe(
    Effect.flatten,
    Effect.map((tables) => ({
      bookings: [...tables.bookings.values()].filter((b) => b.eventId === eventId),
      available: tables.events.get(eventId)!.availableTickets
    }))
  )

const aScene = (tickets = 100) =>
  Effect.gen(function*() {
    const organizer = yield* signUp("ORGANIZER")
    const customer = yield* signUp("CUSTOMER")
    const event = yield* createEvent(organizer.token, { totalTickets: tickets })
    return { organizer, customer, event }
  })

describe("Idempotency-Key (in memory)", () => {
  layer(MemoryServer(), { excludeTestServices: true })((it) => {
    it.effect("the same key and body: the first response again, byte for byte, marked as a replay; one booking, one confirmation", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        const first = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(first.status).toBe(201)
        expect(first.headers["idempotent-replayed"]).toBeUndefined()

        // The same body in another key order and spacing is the same request.
        for (const body of [{ eventId: event.id, ticketsCount: 2 }, { ticketsCount: 2, eventId: event.id }]) {
          const again = yield* book(customer.token, body, key)
          expect(again.status).toBe(201)
          expect(again.headers["idempotent-replayed"]).toBe("true")
          expect(again.headers["content-type"]).toContain("application/json")
          expect(again.text).toBe(first.text)
        }
        const spaced = yield* request("POST", "/api/bookings", {
          token: customer.token,
          body: `{ "ticketsCount" : 2 ,\n "eventId": ${event.id} }`,
          headers: { "idempotency-key": key }
        })
        expect(spaced.text).toBe(first.text)

        const { available, bookings } = yield* bookingsOf(event.id)
        expect(bookings).toHaveLength(1)
        expect(available).toBe(98)
        expect(confirmedBookings(yield* Ref.get(yield* EnqueuedJobs), event.id)).toHaveLength(1)
      }))

    it.effect("the same key with another body: 422 IdempotencyKeyReused, nothing booked for it", () =>
      Effect.gen(function*() {
        const { customer, event, organizer } = yield* aScene()
        const other = yield* createEvent(organizer.token)
        const key = aKey()
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)).status).toBe(201)
        for (const body of [{ eventId: event.id, ticketsCount: 3 }, { eventId: other.id, ticketsCount: 1 }]) {
          const reused = yield* book(customer.token, body, key)
          expect(reused.status).toBe(422)
          expect(reused.body).toEqual({ status: 422, code: "IdempotencyKeyReused", message: expect.stringContaining("different request") })
        }
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(1)
        expect((yield* bookingsOf(other.id)).bookings).toHaveLength(0)
      }))

    it.effect("keys are per user: another customer's identical key and body books for them", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const someoneElse = yield* signUp("CUSTOMER")
        const key = aKey()
        const mine = yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)
        const theirs = yield* book(someoneElse.token, { eventId: event.id, ticketsCount: 1 }, key)
        expect([mine.status, theirs.status]).toEqual([201, 201])
        expect(theirs.headers["idempotent-replayed"]).toBeUndefined()
        expect(theirs.body.id).not.toBe(mine.body.id)
        expect(theirs.body.userId).toBe(someoneElse.user.id)
        const mineAgain = yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)
        expect(mineAgain.body).toEqual(mine.body)
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(2)
      }))

    it.effect("a key must be 1-255 printable ASCII characters: else 400 naming the header, and nothing booked or kept", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        for (const bad of ["", "x".repeat(256), "café", "a\tb"]) {
          const response = yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, bad)
          expect(response.status, JSON.stringify(bad)).toBe(400)
          expect(response.body).toMatchObject({ status: 400, code: "ValidationError" })
          expect(response.body.message).toContain("idempotency-key")
          expect(response.body.message).toContain("printable ASCII")
        }
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(0)
        for (const good of ["x", "~".repeat(255), `"${aKey()}"`, ` spaced ${aKey()} `]) {
          expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, good)).status, good).toBe(201)
        }
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(4)
      }))

    it.effect("a domain refusal is kept: the retry gets the same 409 even once tickets are back; a new key books", () =>
      Effect.gen(function*() {
        const { customer, event, organizer } = yield* aScene(3)
        const key = aKey()
        const refused = yield* book(customer.token, { eventId: event.id, ticketsCount: 5 }, key)
        expect(refused.status).toBe(409)
        expect(refused.body).toMatchObject({ code: "NotEnoughTickets", available: 3 })
        const raised = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { totalTickets: 10 } })
        expect(raised.status).toBe(200)

        const again = yield* book(customer.token, { eventId: event.id, ticketsCount: 5 }, key)
        expect(again.status).toBe(409)
        expect(again.headers["idempotent-replayed"]).toBe("true")
        expect(again.text).toBe(refused.text)
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 5 }, aKey())).status).toBe(201)
      }))

    it.effect("a request refused before it could run (400 from the engine's limit) is not kept: the key then books another body", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        const tooMany = yield* book(customer.token, { eventId: event.id, ticketsCount: 11 }, key)
        expect(tooMany.status).toBe(400)
        expect(tooMany.body.code).toBe("ValidationError")
        const booked = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(booked.status).toBe(201)
        expect(booked.headers["idempotent-replayed"]).toBeUndefined()
      }))

    it.effect("without a key nothing changes: two requests, two bookings", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        yield* book(customer.token, { eventId: event.id, ticketsCount: 1 })
        yield* book(customer.token, { eventId: event.id, ticketsCount: 1 })
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(2)
      }))

    it.effect("checks before the key: an organizer is 403 and a missing token 401, whatever the key", () =>
      Effect.gen(function*() {
        const { event, organizer } = yield* aScene()
        const key = aKey()
        const forbidden = yield* book(organizer.token, { eventId: event.id, ticketsCount: 1 }, key)
        expect(forbidden.status).toBe(403)
        const anonymous = yield* request("POST", "/api/bookings", {
          json: { eventId: event.id, ticketsCount: 1 },
          headers: { "idempotency-key": key }
        })
        expect(anonymous.status).toBe(401)
      }))

    it.effect("the OpenAPI document shows the header, the two errors and Idempotent-Replayed", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        const operation = spec.paths["/api/bookings"].post
        const header = operation.parameters.find((p: any) => p.in === "header")
        expect(header).toMatchObject({ name: "Idempotency-Key", required: false, description: expect.stringContaining("retry") })
        expect(header.schema.pattern).toBeDefined()
        expect(JSON.stringify(operation.responses["409"])).toContain("IdempotencyKeyInUse")
        expect(JSON.stringify(operation.responses["422"])).toContain("IdempotencyKeyReused")
        expect(operation.responses["201"].headers["Idempotent-Replayed"]).toBeDefined()
        expect(operation.responses["409"].headers["Idempotent-Replayed"]).toBeDefined()
        expect(operation.responses["400"].headers?.["Idempotent-Replayed"]).toBeUndefined()
        expect(operation.responses["503"].headers?.["Idempotent-Replayed"]).toBeUndefined()
      }))
  })
})

const keyed = (key: string) => ({ headers: { "idempotency-key": key } })

/** The event's holds, bookings and cancellation jobs as the memory store has them. */
const ticketsOf = (eventId: number) =>
  Effect.gen(function*() {
    const tables = yield* Ref.get(yield* MemoryStore)
    const jobs = yield* Ref.get(yield* EnqueuedJobs)
    return {
      available: tables.events.get(eventId)!.availableTickets,
      holds: [...tables.holds.values()].filter((h) => h.eventId === eventId),
      bookings: [...tables.bookings.values()].filter((b) => b.eventId === eventId),
      cancellations: jobs.filter((job) => job._tag === "BookingCancelled" && job.eventId === eventId).length
    }
  })

/** The first response again, byte for byte, and marked as a replay. */
const expectReplay = (
  again: { status: number; headers: Record<string, string>; text: string },
  first: { status: number; text: string }
) => {
  expect(again.status).toBe(first.status)
  expect(again.headers["idempotent-replayed"]).toBe("true")
  expect(again.text).toBe(first.text)
}

describe("Idempotency-Key on holds, confirmations and cancellations (in memory)", () => {
  layer(MemoryServer(), { excludeTestServices: true })((it) => {
    it.effect("POST /holds: the same key and body replay the 201, one hold; another body is 422 and holds nothing", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(10)
        const key = aKey()
        const hold = (json: unknown) => request("POST", "/api/holds", { token: customer.token, json, ...keyed(key) })
        const first = yield* hold({ eventId: event.id, ticketsCount: 2 })
        expect(first.status).toBe(201)
        expect(first.headers["idempotent-replayed"]).toBeUndefined()
        expectReplay(yield* hold({ ticketsCount: 2, eventId: event.id }), first)
        const reused = yield* hold({ eventId: event.id, ticketsCount: 3 })
        expect(reused.status).toBe(422)
        expect(reused.body).toMatchObject({ status: 422, code: "IdempotencyKeyReused" })
        const { available, holds } = yield* ticketsOf(event.id)
        expect(holds.map((h) => h.id)).toEqual([first.body.id])
        expect(available).toBe(8)
      }))

    it.effect("POST /holds/:id/confirm: the retry replays the 201 booking, not 409 HoldAlreadyConfirmed; the key on another hold is 422", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(10)
        const [held, other] = [
          (yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 2 } })).body,
          (yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 } })).body
        ]
        const key = aKey()
        const confirm = (holdId: number) => request("POST", `/api/holds/${holdId}/confirm`, { token: customer.token, ...keyed(key) })
        const first = yield* confirm(held.id)
        expect(first.status).toBe(201)
        expect(first.body).toMatchObject({ status: "CONFIRMED", ticketsCount: 2 })
        expectReplay(yield* confirm(held.id), first)
        expect(yield* confirm(other.id)).toMatchObject({ status: 422, body: { code: "IdempotencyKeyReused" } })
        // Without the key, a second confirmation says what happened.
        const unkeyed = yield* request("POST", `/api/holds/${held.id}/confirm`, { token: customer.token })
        expect(unkeyed).toMatchObject({ status: 409, body: { code: "HoldAlreadyConfirmed" } })
        const { available, bookings, holds } = yield* ticketsOf(event.id)
        expect(bookings.map((b) => b.id)).toEqual([first.body.id])
        expect(holds.map((h) => h.status).sort()).toEqual(["CONFIRMED", "HELD"])
        expect(available).toBe(7)
      }))

    it.effect("DELETE /bookings/:id: the retry replays the 200, not 409; tickets come back and the email goes out once", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(10)
        const [booking, other] = [
          (yield* book(customer.token, { eventId: event.id, ticketsCount: 3 })).body,
          (yield* book(customer.token, { eventId: event.id, ticketsCount: 1 })).body
        ]
        const key = aKey()
        const cancel = (bookingId: number) => request("DELETE", `/api/bookings/${bookingId}`, { token: customer.token, ...keyed(key) })
        const first = yield* cancel(booking.id)
        expect(first.status).toBe(200)
        expect(first.body).toMatchObject({ id: booking.id, status: "CANCELLED" })
        expectReplay(yield* cancel(booking.id), first)
        expect(yield* cancel(other.id)).toMatchObject({ status: 422, body: { code: "IdempotencyKeyReused" } })
        expect(yield* request("DELETE", `/api/bookings/${booking.id}`, { token: customer.token }))
          .toMatchObject({ status: 409, body: { code: "BookingAlreadyCancelled" } })
        expect(yield* ticketsOf(event.id)).toMatchObject({ available: 9, cancellations: 1 })
      }))

    it.effect("refusals are kept too: a hold refused for want of tickets is refused again by its key after tickets come back", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(2)
        const booking = (yield* book(customer.token, { eventId: event.id, ticketsCount: 2 })).body
        const key = aKey()
        const hold = () =>
          request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 }, ...keyed(key) })
        const refused = yield* hold()
        expect(refused).toMatchObject({ status: 409, body: { code: "NotEnoughTickets" } })
        expect((yield* request("DELETE", `/api/bookings/${booking.id}`, { token: customer.token })).status).toBe(200)
        expectReplay(yield* hold(), refused)
        expect((yield* ticketsOf(event.id)).holds).toHaveLength(0)
      }))

    it.effect("the OpenAPI document shows the header and Idempotent-Replayed on all three", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        for (
          const [operation, success] of [
            [spec.paths["/api/holds"].post, "201"],
            [spec.paths["/api/holds/{id}/confirm"].post, "201"],
            [spec.paths["/api/bookings/{id}"].delete, "200"]
          ] as const
        ) {
          expect(operation.parameters.find((p: any) => p.in === "header")).toMatchObject({ name: "Idempotency-Key", required: false })
          expect(JSON.stringify(operation.responses["422"])).toContain("IdempotencyKeyReused")
          expect(operation.responses[success].headers["Idempotent-Replayed"]).toBeDefined()
        }
        expect(spec.paths["/api/bookings/{id}"].patch.parameters.some((p: any) => p.in === "header")).toBe(false)
      }))
  })
})

// Transactions (a booking's batch) wait for this latch: a request can be held mid-flight.
const gate = Effect.runSync(Effect.makeLatch(true))
const arrivedAtGate = Effect.runSync(Ref.make(0))
const GatedTransactions = Layer.succeed(Transactions, {
  run: (work) => Ref.update(arrivedAtGate, (n) => n + 1).pipe(Effect.zipRight(gate.await), Effect.zipRight(work))
})

describe("Idempotency-Key while the first request still runs (in memory)", () => {
  layer(serverOver(Layer.merge(PersistenceMemory, GatedTransactions), {}), { excludeTestServices: true })((it) => {
    it.effect("409 IdempotencyKeyInUse (422 for another body), then the first's response once it is done", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        yield* gate.close
        const before = yield* Ref.get(arrivedAtGate)
        const first = yield* Effect.fork(book(customer.token, { eventId: event.id, ticketsCount: 2 }, key))
        // Once its batch waits at the gate, the first request holds the key.
        yield* Ref.get(arrivedAtGate).pipe(Effect.repeat({ until: (n) => n > before, schedule: Schedule.spaced("5 millis") }))
        const inUse = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(inUse.status).toBe(409)
        expect(inUse.body).toEqual({ status: 409, code: "IdempotencyKeyInUse", message: expect.stringContaining("still being processed") })
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 3 }, key)).status).toBe(422)
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(0)

        yield* gate.open
        const done = yield* Fiber.join(first)
        expect(done.status).toBe(201)
        const replayed = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(replayed.headers["idempotent-replayed"]).toBe("true")
        expect(replayed.text).toBe(done.text)
        expect((yield* bookingsOf(event.id)).bookings).toHaveLength(1)
      }).pipe(Effect.ensuring(gate.open)))
  })
})

describe("Idempotency-Key when the first request runs past its deadline (in memory)", () => {
  const settings = { server: { ...AppConfig.make().server, deadlineMs: 1_000 } }
  layer(serverOver(Layer.merge(PersistenceMemory, GatedTransactions), settings), { excludeTestServices: true })((it) => {
    it.effect("503 RequestTimeout lets go of the key; the retry gets the booking the first one made after all, never a second", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        yield* gate.close
        // Its batch is taken (waiting at the gate) when the deadline interrupts it: it commits later.
        const timedOut = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(timedOut.status).toBe(503)
        expect(timedOut.body.code).toBe("RequestTimeout")
        yield* gate.open

        const retried = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(retried.status).toBe(201)
        const { available, bookings } = yield* bookingsOf(event.id)
        expect(bookings).toHaveLength(1)
        expect(available).toBe(98)
        expect(retried.body.id).toBe(bookings[0]!.id)
        const replayed = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(replayed.headers["idempotent-replayed"]).toBe("true")
        expect(replayed.body.id).toBe(bookings[0]!.id)
      }).pipe(Effect.ensuring(gate.open)))
  })
})
