/** Hostile input that only PostgreSQL exposes (issue 8): NUL characters, vanished accounts, impossible dates. */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { fuzz, fuzzCast, fuzzRequests } from "../support/fuzz.ts"
import { createEvent, PostgresServer, request, signUp, tokenOfMissingUser, uniqueEmail } from "../support/server.ts"

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString()

/** Every row of every table the API writes, hashed: equal before and after means nothing changed. */
const snapshot = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ users: string; events: string; bookings: string; holds: string; waitlist: string; outbox: string }>`
    SELECT (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM users t) AS users,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM events t) AS events,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM bookings t) AS bookings,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM holds t) AS holds,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM waitlist_entries t) AS waitlist,
           (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM outbox t) AS outbox`
  return row!
}).pipe(Effect.orDie)

const expectRefused = (response: { status: number; body: any }, status: number, code: string, field?: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
  if (field !== undefined) expect(response.body.message).toContain(field)
}

layer(PostgresServer(), { excludeTestServices: true })((it) => {
  describe("on PostgreSQL", () => {
    it.effect("a NUL character in any text is a 400 naming the field, and nothing is written", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const before = yield* snapshot
        for (const path of ["/api/auth/register", "/api/auth/login"]) {
          const response = yield* request("POST", path, {
            json: { email: "a\u0000b@example.com", password: "securePass123", role: "CUSTOMER" }
          })
          expectRefused(response, 400, "ValidationError", "email")
        }
        const valid = { title: "Valid", description: "", date: future(5), location: "Here", totalTickets: 10 }
        for (const field of ["title", "description", "location"]) {
          expectRefused(
            yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, [field]: "a\u0000b" } }),
            400,
            "ValidationError",
            field
          )
          expectRefused(
            yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { [field]: "a\u0000b" } }),
            400,
            "ValidationError",
            field
          )
        }
        expect(yield* snapshot).toEqual(before)
      }))

    it.effect("a valid token whose account is gone: POST /events answers 401 Unauthorized, writes nothing", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const organizer = yield* signUp("ORGANIZER", uniqueEmail("gone"))
        // As after a database reset or restore under the same JWT_SECRET.
        yield* sql`DELETE FROM users WHERE id = ${organizer.user.id}`
        const before = yield* snapshot
        for (const token of [organizer.token, yield* tokenOfMissingUser("ORGANIZER")]) {
          const response = yield* request("POST", "/api/events", {
            token,
            json: { title: "Ghost", date: future(5), location: "Nowhere", totalTickets: 10 }
          })
          expectRefused(response, 401, "Unauthorized")
          expect(response.body.message).toContain("no longer exists")
        }
        expect(yield* snapshot).toEqual(before)
      }))

    it.effect("impossible dates and years past 9999 (after the zone) are refused, not rolled over", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const before = yield* snapshot
        for (const date of ["2031-02-30T10:00:00Z", "9999-12-31T23:59:59-23:59"]) {
          const response = yield* request("POST", "/api/events", {
            token: organizer.token,
            json: { title: "Dates", date, location: "Here", totalTickets: 10 }
          })
          expectRefused(response, 400, "ValidationError", "date")
        }
        expect(yield* snapshot).toEqual(before)
      }))

    it.effect("600 generated hostile requests: no 5xx, errors in the standard shape, refusals write nothing", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const tokens = yield* fuzzCast(10)
        yield* fuzz(
          {
            tokens,
            eventIds: sql<{ id: number }>`SELECT id FROM events ORDER BY id`.pipe(
              Effect.map((rows) => rows.map((row) => row.id)),
              Effect.orDie
            ),
            snapshot: Effect.provideService(snapshot, SqlClient.SqlClient, sql)
          },
          fuzzRequests(),
          600
        )
      }), 180_000)
  })
})
