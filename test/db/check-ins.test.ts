/**
 * The door on PostgreSQL, over HTTP: the suite the in-memory tier runs (test/support/door.ts), then
 * scanners sending one code at the same moment (exactly one 200), an Idempotency-Key's retries
 * racing each other, and check-ins racing the event's cancellation.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { doorSuite } from "../support/door.ts"
import { lockWaiters, otherConnection } from "../support/locks.ts"
import { createEvent, PostgresServer, request, signUp } from "../support/server.ts"
import { ticketCodes } from "../support/tickets.ts"

const aScene = (ticketsCount: number) =>
  Effect.gen(function*() {
    const organizer = yield* signUp("ORGANIZER")
    const customer = yield* signUp("CUSTOMER")
    const event = yield* createEvent(organizer.token, { totalTickets: 50 })
    const booked = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount } })
    expect(booked.status).toBe(201)
    const codes = yield* ticketCodes(booked.body)
    return { organizer, event, booking: booked.body as { id: number }, codes }
  })

const checkIn = (token: string, eventId: number, code: string, key?: string) =>
  request("POST", `/api/events/${eventId}/check-ins`, {
    token,
    json: { code },
    headers: key === undefined ? {} : { "idempotency-key": key }
  })

const ticketRows = (bookingId: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: string; checkedIn: boolean }>`
      SELECT status, checked_in_at IS NOT NULL AS "checkedIn" FROM tickets WHERE booking_id = ${bookingId} ORDER BY id`)

describe("tickets and check-ins over HTTP (PostgreSQL)", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })(doorSuite)
})

describe("check-ins under concurrency (PostgreSQL)", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.scoped("20 scanners send one code at the same moment: exactly one 200, 19 × 409 AlreadyCheckedIn with its checkedInAt", () =>
      Effect.gen(function*() {
        const { booking, codes, event, organizer } = yield* aScene(1)
        const code = codes[0]!
        // The ticket's row is locked elsewhere until all 20 check-ins wait for it: then they race for it at once.
        const [locker, watcher] = [yield* otherConnection, yield* otherConnection]
        yield* Effect.promise(() => locker.query("BEGIN"))
        yield* Effect.promise(() => locker.query("SELECT 1 FROM tickets WHERE code = $1 FOR UPDATE", [code]))
        const scans = yield* Effect.fork(
          Effect.all(Array.from({ length: 20 }, () => checkIn(organizer.token, event.id, code)), { concurrency: "unbounded" })
        )
        yield* lockWaiters(watcher, 20)
        yield* Effect.promise(() => locker.query("COMMIT"))
        const answers = yield* Fiber.join(scans)

        const admitted = answers.filter((answer) => answer.status === 200)
        const refused = answers.filter((answer) => answer.status !== 200)
        expect(admitted).toHaveLength(1)
        expect(refused).toHaveLength(19)
        const checkedInAt = admitted[0]!.body.checkedInAt
        for (const answer of refused) {
          expect(answer.status).toBe(409)
          expect(answer.body).toMatchObject({ code: "AlreadyCheckedIn", status: 409, checkedInAt })
        }
        expect(yield* ticketRows(booking.id)).toEqual([{ status: "CHECKED_IN", checkedIn: true }])
      }))

    it.effect("retries of one check-in under one Idempotency-Key, at once: one check-in; every answer 200 or 409 IdempotencyKeyInUse", () =>
      Effect.gen(function*() {
        const { booking, codes, event, organizer } = yield* aScene(1)
        const key = `retry-${process.pid}-${Date.now()}`
        const answers = yield* Effect.all(Array.from({ length: 10 }, () => checkIn(organizer.token, event.id, codes[0]!, key)), {
          concurrency: "unbounded"
        })
        const ok = answers.filter((answer) => answer.status === 200)
        expect(ok.length).toBeGreaterThanOrEqual(1)
        for (const answer of ok) expect(answer.body).toEqual(ok[0]!.body)
        for (const answer of answers.filter((answer) => answer.status !== 200)) {
          expect(answer.body).toMatchObject({ status: 409, code: "IdempotencyKeyInUse" })
        }
        // Later, the same key answers the same 200.
        const later = yield* checkIn(organizer.token, event.id, codes[0]!, key)
        expect(later.status).toBe(200)
        expect(later.body).toEqual(ok[0]!.body)
        expect(yield* ticketRows(booking.id)).toEqual([{ status: "CHECKED_IN", checkedIn: true }])
      }))

    it.effect("check-ins racing the event's cancellation: each is 200 or 409 TicketCancelled, and every ticket ends void", () =>
      Effect.gen(function*() {
        const { booking, codes, event, organizer } = yield* aScene(10)
        const [scans, cancelled] = yield* Effect.all([
          Effect.all(codes.map((code) => checkIn(organizer.token, event.id, code)), { concurrency: "unbounded" }),
          request("DELETE", `/api/events/${event.id}`, { token: organizer.token })
        ], { concurrency: "unbounded" })
        expect(cancelled.status).toBe(204)
        for (const scan of scans) {
          if (scan.status !== 200) expect(scan.body).toMatchObject({ status: 409, code: "TicketCancelled" })
        }
        expect(yield* ticketRows(booking.id)).toEqual(codes.map(() => ({ status: "CANCELLED", checkedIn: false })))
      }))
  })
})
