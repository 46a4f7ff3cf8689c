import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import { client, createEvent, PostgresServer, request, signUp } from "../support/server.ts"

const sold = (eventId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ available: number; booked: number; bookings: number }>`
      SELECT e.available_tickets AS available,
             COALESCE(SUM(b.tickets_count), 0)::int AS booked,
             COUNT(b.id)::int AS bookings
      FROM events e LEFT JOIN bookings b ON b.event_id = e.id
      WHERE e.id = ${eventId} GROUP BY e.id`
    return row!
  })

// One customer books many tickets in a test below: the per-customer limit is not the subject here.
layer(PostgresServer({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 1_000_000 }), { excludeTestServices: true, timeout: 60_000 })((it) => {
  describe("booking under concurrency (PostgreSQL)", () => {
    it.effect("100 concurrent 1-ticket bookings for 10 tickets: exactly 10 succeed", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customers = yield* Effect.all(Array.from({ length: 10 }, () => signUp("CUSTOMER")), { concurrency: 5 })
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const apis = yield* Effect.all(customers.map((c) => client(c.token)))

        const results = yield* Effect.all(
          Array.from({ length: 100 }, (_, i) =>
            apis[i % apis.length]!.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } }).pipe(Effect.either)),
          { concurrency: "unbounded" }
        )

        const succeeded = results.filter(Either.isRight)
        const failed = results.filter(Either.isLeft).map((r) =>
          r.left
        )
        expect(succeeded).toHaveLength(10)
        expect(failed).toHaveLength(90)
        expect(failed.every((error) => error._tag === "NotEnoughTickets")).toBe(true)
        expect(yield* sold(event.id)).toEqual({ available: 0, booked: 10, bookings: 10 })
      }))

    it.effect("mixed sizes never oversell and the books balance", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 25 })
        const api = yield* client(customer.token)
        const sizes = Array.from({ length: 60 }, (_, i) => (i % 4) + 1) // 1,2,3,4,... = 150 tickets asked

        const results = yield* Effect.all(
          sizes.map((ticketsCount) => api.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount } }).pipe(Effect.either)),
          { concurrency: "unbounded" }
        )

        const booked = results.filter(Either.isRight).reduce((sum, r) => sum + r.right.ticketsCount, 0)
        const state = yield* sold(event.id)
        expect(booked).toBe(state.booked)
        expect(state.available).toBe(25 - booked)
        expect(state.available).toBeGreaterThanOrEqual(0)
        // Every refusal says how many were left, and that was too few for its request.
        for (const [i, r] of results.entries()) {
          if (Either.isLeft(r)) {
            expect(r.left._tag).toBe("NotEnoughTickets")
            if (r.left._tag === "NotEnoughTickets") expect(r.left.available).toBeLessThan(sizes[i]!)
          }
        }
      }))

    it.effect("concurrent registrations of one email: one 201, the rest 409", () =>
      Effect.gen(function*() {
        const email = `race-${Date.now()}@example.com`
        // Half of them in upper case: the address is the same account whatever its case.
        const results = yield* Effect.all(
          Array.from({ length: 20 }, (_, i) =>
            request("POST", "/api/auth/register", {
              json: { email: i % 2 === 0 ? email : email.toUpperCase(), password: "correct horse battery", role: "CUSTOMER" }
            })),
          { concurrency: "unbounded" }
        )
        expect(results.filter((r) => r.status === 201)).toHaveLength(1)
        const conflicts = results.filter((r) => r.status === 409)
        expect(conflicts).toHaveLength(19)
        for (const conflict of conflicts) expect(conflict.body).toMatchObject({ status: 409, code: "EmailTaken" })
      }))
  })
})
