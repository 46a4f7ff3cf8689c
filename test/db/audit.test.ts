/**
 * The audit trail on PostgreSQL, through the API: the table refuses to be rewritten; each change
 * writes its entries in its own transaction (none when it rolls back), naming its actor, the
 * request id its response carried and the client address; the engine's batches write one entry
 * per change; the organizer's and the operator's reads.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import type { EventId, HoldId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { createEvent, PostgresServer, request, signUp } from "../support/server.ts"

const ADMIN_TOKEN = "an-operator-token-for-audit-tests"

const entriesOf = (eventId: number, action?: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<
        {
          action: string
          actorType: string
          actorUserId: number | null
          actorRole: string | null
          subjectType: string
          subjectId: string
          changes: any
          requestId: string | null
          clientAddress: string | null
        }
      >`
      SELECT action, actor_type AS "actorType", actor_user_id AS "actorUserId", actor_role AS "actorRole",
             subject_type AS "subjectType", subject_id::text AS "subjectId", changes, request_id AS "requestId",
             client_address AS "clientAddress"
      FROM audit_log WHERE event_id = ${eventId} ${action === undefined ? sql`` : sql`AND action = ${action}`} ORDER BY id`
  ).pipe(Effect.orDie)

const book = (token: string, eventId: number, ticketsCount = 1) =>
  request("POST", "/api/bookings", { token, json: { eventId, ticketsCount } })

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code })
}

describe("the audit trail on PostgreSQL", () => {
  layer(PostgresServer({ ADMIN_TOKEN }), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("audit_log is append-only: UPDATE, DELETE and TRUNCATE fail at the database, saying so", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const [written] = yield* entriesOf(event.id)
        expect(written!.action).toBe("event.created")
        for (
          const statement of [
            sql`UPDATE audit_log SET action = 'event.updated' WHERE event_id = ${event.id}`,
            sql`DELETE FROM audit_log WHERE event_id = ${event.id}`,
            sql`TRUNCATE audit_log`
          ]
        ) {
          const refused = yield* Effect.flip(statement)
          expect(String((refused.cause as Error).message)).toMatch(/^audit_log is append-only: (UPDATE|DELETE|TRUNCATE) is refused$/)
        }
        expect(yield* entriesOf(event.id)).toEqual([written])
      }))

    it.effect("one booking through the API writes one booking.created entry: the customer, the response's X-Request-Id, the client address", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 5 })
        const response = yield* book(customer.token, event.id, 2)
        expect(response.status).toBe(201)
        const requestId = response.headers["x-request-id"]
        expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
        expect(yield* entriesOf(event.id, "booking.created")).toEqual([{
          action: "booking.created",
          actorType: "user",
          actorUserId: customer.user.id,
          actorRole: "CUSTOMER",
          subjectType: "booking",
          subjectId: String(response.body.id),
          changes: { status: { before: null, after: "CONFIRMED" }, ticketsCount: { before: null, after: 2 } },
          requestId,
          clientAddress: "127.0.0.1"
        }])
        // A request id the caller sent is the one recorded.
        const cancelled = yield* request("DELETE", `/api/bookings/${response.body.id}`, {
          token: customer.token,
          headers: { "x-request-id": "client-chosen-id-1" }
        })
        expect(cancelled.status).toBe(200)
        expect(yield* entriesOf(event.id, "booking.cancelled")).toMatchObject([{
          actorUserId: customer.user.id,
          changes: { status: { before: "CONFIRMED", after: "CANCELLED" } },
          requestId: "client-chosen-id-1"
        }])
      }))

    it.effect("30 concurrent bookings of one event write 30 entries, each with its own booking and request id", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customers = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER"), signUp("CUSTOMER")])
        const event = yield* createEvent(organizer.token, { totalTickets: 100 })
        const responses = yield* Effect.all(
          Array.from({ length: 30 }, (_, i) => book(customers[i % 3]!.token, event.id)),
          { concurrency: "unbounded" }
        )
        expect(responses.every((r) => r.status === 201)).toBe(true)
        const entries = yield* entriesOf(event.id, "booking.created")
        expect(entries).toHaveLength(30)
        expect(new Set(entries.map((e) => e.subjectId))).toEqual(new Set(responses.map((r) => String(r.body.id))))
        expect(new Set(entries.map((e) => e.requestId))).toEqual(new Set(responses.map((r) => r.headers["x-request-id"])))
        // Each names the customer whose booking it is.
        const owner = new Map(responses.map((r) => [String(r.body.id), r.body.userId]))
        for (const e of entries) expect(e.actorUserId).toBe(owner.get(e.subjectId))
      }))

    it.effect("a hold placed is the customer's; its expiry (a job, no request) the system's; the waiting list's offer too", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const organizer = yield* signUp("ORGANIZER")
        const [holder, waiter] = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER")])
        const event = yield* createEvent(organizer.token, { totalTickets: 1 })
        const held = yield* request("POST", "/api/holds", { token: holder.token, json: { eventId: event.id, ticketsCount: 1 } })
        expect(held.status).toBe(201)
        const joined = yield* request("POST", `/api/events/${event.id}/waitlist`, { token: waiter.token, json: { ticketsCount: 1 } })
        expect(joined.status).toBe(201)
        // Its time is up; its delayed job comes.
        yield* sql`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = ${held.body.id}`
        const inventory = yield* Inventory
        expect(yield* inventory.submit(event.id as EventId, { _tag: "Expire", holdId: held.body.id as HoldId })).toBe("expired")

        const entries = yield* entriesOf(event.id)
        expect(entries.map((e) => [e.action, e.actorType, e.actorUserId])).toEqual([
          ["event.created", "user", organizer.user.id],
          ["hold.placed", "user", holder.user.id],
          ["waitlist.joined", "user", waiter.user.id],
          ["hold.expired", "system", null],
          ["hold.placed", "system", null],
          ["waitlist.offered", "system", null]
        ])
        const expired = entries[3]!
        expect(expired).toMatchObject({
          subjectId: String(held.body.id),
          changes: { status: { before: "HELD", after: "EXPIRED" } },
          requestId: null,
          clientAddress: null
        })
        expect(entries[4]!.changes).toMatchObject({ entryId: { before: null, after: joined.body.id } })
        expect(entries[5]!.subjectId).toBe(String(joined.body.id))
      }))

    it.effect("a booking batch that fails at COMMIT writes no entry; nor does an event update that fails at COMMIT", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        // Checked at COMMIT, after every statement of the transaction (the audit INSERT included) ran.
        yield* sql`
          CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'refused at commit'; END $$`
        for (const table of ["bookings", "events"]) {
          yield* sql.unsafe(`
            CREATE CONSTRAINT TRIGGER refuse_${table} AFTER INSERT OR UPDATE ON ${table} DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.${table === "events" ? "id" : "event_id"} = ${event.id}) EXECUTE FUNCTION refuse_at_commit()`)
        }
        const refused = yield* book(customer.token, event.id).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.None)))
        expectError(refused, 503, "BookingFailed")
        const update = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "Renamed" } })
          .pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.None)))
        expect(update.status).toBe(500)
        for (const table of ["bookings", "events"]) yield* sql.unsafe(`DROP TRIGGER refuse_${table} ON ${table}`)

        expect((yield* entriesOf(event.id)).map((e) => e.action)).toEqual(["event.created"])
        const [{ bookings }] = yield* sql<{ bookings: number }>`SELECT count(*)::int AS bookings FROM bookings WHERE event_id = ${event.id}`
        expect(bookings).toBe(0)
        // The same changes, committed, are written.
        expect((yield* book(customer.token, event.id)).status).toBe(201)
        expect((yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "Renamed" } })).status).toBe(200)
        expect((yield* entriesOf(event.id)).map((e) => e.action)).toEqual(["event.created", "booking.created", "event.updated"])
      }))

    it.effect("an event's life: created, updated (only the fields that changed), published, cancelled, each its organizer's", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const draft = yield* createEvent(organizer.token, { status: "DRAFT", title: "Before", totalTickets: 10 })
        const put = (json: object) => request("PUT", `/api/events/${draft.id}`, { token: organizer.token, json })
        expect((yield* put({ title: "After", location: draft.location, totalTickets: 12 })).status).toBe(200)
        expect((yield* put({ title: "After" })).status).toBe(200) // changes nothing: no entry
        expect((yield* request("POST", `/api/events/${draft.id}/publish`, { token: organizer.token })).status).toBe(200)
        expect((yield* request("DELETE", `/api/events/${draft.id}`, { token: organizer.token })).status).toBe(204)
        const entries = yield* entriesOf(draft.id)
        expect(entries.map((e) => e.action)).toEqual(["event.created", "event.updated", "event.published", "event.cancelled"])
        expect(entries.every((e) => e.actorUserId === organizer.user.id && e.actorRole === "ORGANIZER")).toBe(true)
        expect(entries[0]!.changes).toMatchObject({ title: { before: null, after: "Before" }, status: { before: null, after: "DRAFT" } })
        expect(entries[1]!.changes).toEqual({ title: { before: "Before", after: "After" }, totalTickets: { before: 10, after: 12 } })
        expect(entries[2]!.changes).toEqual({ status: { before: "DRAFT", after: "PUBLISHED" } })
        expect(entries[3]!.changes).toEqual({ status: { before: "PUBLISHED", after: "CANCELLED" } })
      }))

    it.effect("a ticket type's change writes its entry in its transaction: one refused at the database writes none", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const create = (name: string) =>
          request("POST", `/api/events/${event.id}/ticket-types`, { token: organizer.token, json: { name, priceCents: 100 } })
        const vip = yield* create("VIP")
        expect(vip.status).toBe(201)
        // The name is unique per event ignoring case: the INSERT fails at the database.
        expectError(yield* create("vip"), 409, "TicketTypeNameTaken")
        const patched = yield* request("PATCH", `/api/events/${event.id}/ticket-types/${vip.body.id}`, {
          token: organizer.token,
          json: { name: "General admission" }
        })
        expectError(patched, 409, "TicketTypeNameTaken")
        const entries = yield* entriesOf(event.id, "ticket_type.created")
        expect(entries.map((e) => [e.subjectType, e.subjectId, e.actorUserId])).toEqual([[
          "ticket_type",
          String(vip.body.id),
          organizer.user.id
        ]])
        expect(yield* entriesOf(event.id, "ticket_type.updated")).toEqual([])
      }))

    it.effect("GET /api/events/:id/audit: its organizer's only, newest first, filtered and paged; malformed filters are 400", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [other, customer] = yield* Effect.all([signUp("ORGANIZER"), signUp("CUSTOMER")])
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const draft = yield* createEvent(organizer.token, { status: "DRAFT" })
        for (const n of [1, 2, 3]) expect((yield* book(customer.token, event.id, n)).status).toBe(201)
        const audit = (query = "", token = organizer.token, id: number = event.id) =>
          request("GET", `/api/events/${id}/audit${query}`, { token })

        const all = yield* audit()
        expect(all.status).toBe(200)
        expect(all.headers["x-total-count"]).toBe("4")
        expect(all.body.map((e: any) => e.action)).toEqual(["booking.created", "booking.created", "booking.created", "event.created"])
        expect(all.body.map((e: any) => (e.changes.ticketsCount ?? e.changes.totalTickets).after)).toEqual([3, 2, 1, 10])
        expect(all.body[0]).toMatchObject({ actor: { type: "user", userId: customer.user.id, role: "CUSTOMER" }, eventId: event.id })

        const bookings = yield* audit("?action=booking.&limit=2&offset=1")
        expect(bookings.headers["x-total-count"]).toBe("3")
        expect(bookings.body.map((e: any) => e.changes.ticketsCount.after)).toEqual([2, 1])
        expect(bookings.headers.link).toContain(`rel="prev"`)
        expect((yield* audit("?action=event.created")).body.map((e: any) => e.action)).toEqual(["event.created"])
        const newest = all.body[0].at
        expect((yield* audit(`?from=${newest}`)).headers["x-total-count"]).not.toBe("0")
        expect((yield* audit(`?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00%2B02:00`)).body).toEqual([])

        expectError(yield* audit("", other.token), 403, "Forbidden")
        expectError(yield* audit("", customer.token), 403, "Forbidden")
        expectError(yield* audit("", other.token, draft.id), 404, "EventNotFound")
        expectError(yield* audit("", organizer.token, 2_147_483_647), 404, "EventNotFound")
        expect((yield* audit("", organizer.token, draft.id)).status).toBe(200)
        expect((yield* request("GET", `/api/events/${event.id}/audit`)).status).toBe(401)
        for (
          const bad of [
            "?from=yesterday",
            "?to=2030-13-01T00:00:00Z",
            "?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z",
            "?action=Booking",
            "?action=booking",
            "?limit=0"
          ]
        ) {
          const response = yield* audit(bad)
          expectError(response, 400, "ValidationError")
        }
      }))

    it.effect("GET /api/admin/audit: the ADMIN_TOKEN's only; every event's entries, or one event's", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [first, second] = yield* Effect.all([createEvent(organizer.token), createEvent(organizer.token)])
        const admin = (query: string, token = ADMIN_TOKEN) => request("GET", `/api/admin/audit${query}`, { token })
        const one = yield* admin(`?eventId=${second.id}`)
        expect(one.status).toBe(200)
        expect(one.body).toMatchObject([{ action: "event.created", eventId: second.id, subject: { type: "event", id: second.id } }])
        expect(one.headers["x-total-count"]).toBe("1")
        const created = yield* admin("?action=event.created&limit=100")
        expect(created.body.map((e: any) => e.eventId)).toEqual(expect.arrayContaining([first.id, second.id]))
        expect((yield* admin("", organizer.token)).status).toBe(401)
        expectError(yield* admin("?eventId=abc"), 400, "ValidationError")
        expectError(yield* admin("?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z"), 400, "ValidationError")
      }))
  })
})
