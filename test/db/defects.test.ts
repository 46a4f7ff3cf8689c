/** An infrastructure failure is a logged defect, answered as a plain 500 that leaks nothing. */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { PostgresServer, request, signUp } from "../support/server.ts"

layer(PostgresServer(), { excludeTestServices: true })((it) => {
  describe("when the database fails a query", () => {
    it.effect("the client gets 500 InternalServerError (503 BookingFailed for a booking) and no SQL detail", () =>
      Effect.gen(function*() {
        const customer = yield* signUp("CUSTOMER")
        const sql = yield* SqlClient.SqlClient
        yield* sql`ALTER TABLE events RENAME TO events_gone`

        const listing = yield* request("GET", "/api/events")
        expect(listing.status).toBe(500)
        expect(listing.body).toEqual({ message: "Internal server error", status: 500, code: "InternalServerError" })
        // A booking batch that fails (twice) answers each of its requests with a typed 503.
        const booking = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: 1, ticketsCount: 1 } })
        expect(booking.status).toBe(503)
        expect(booking.body).toEqual({
          message: "The booking could not be recorded; nothing was booked. Try again",
          status: 503,
          code: "BookingFailed"
        })
        // Sign-in does not touch events and still works.
        expect((yield* request("POST", "/api/auth/login", { json: { email: customer.user.email, password: customer.password } })).status)
          .toBe(200)
      }))
  })
})
