/** An infrastructure failure is a logged defect, answered as a plain 500 that leaks nothing. */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { PostgresServer, request, signUp } from "../support/server.ts"

layer(PostgresServer(), { excludeTestServices: true })((it) => {
  describe("when the database fails a query", () => {
    it.effect("the client gets 500 InternalServerError and no SQL detail", () =>
      Effect.gen(function*() {
        const customer = yield* signUp("CUSTOMER")
        const sql = yield* SqlClient.SqlClient
        yield* sql`ALTER TABLE events RENAME TO events_gone`

        for (const response of [
          yield* request("GET", "/api/events"),
          yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: 1, ticketsCount: 1 } })
        ]) {
          expect(response.status).toBe(500)
          expect(response.body).toEqual({ message: "Internal server error", status: 500, code: "InternalServerError" })
        }
        // Sign-in does not touch events and still works.
        expect((yield* request("POST", "/api/auth/login", { json: { email: customer.user.email, password: customer.password } })).status).toBe(200)
      }))
  })
})
