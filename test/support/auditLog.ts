/**
 * The audit log's contract, asserted the same way on its memory twin (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts): entries read back as written, newest
 * first, filtered by event, action (exact or an area) and time, paged with their total. Outside a
 * transaction an entry is written at once. Tests share one store: each uses events of its own.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { ADMIN, type AuditEntry } from "../../src/Audit/AuditEntry.ts"
import { AuditLog, type NewAuditEntry } from "../../src/Audit/AuditLog.ts"
import { ActingAs, SYSTEM_ORIGIN } from "../../src/Audit/Origin.ts"
import { CurrentUser } from "../../src/Domain/CurrentUser.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"

let events = 1_500_000_000 + Math.floor(Math.random() * 100_000_000)
/** An event id no other test uses (the log names ids; it checks none). */
const anEvent = () => ++events as EventId

const ann = { actor: { type: "user", userId: 7 as UserId, role: "CUSTOMER" }, requestId: "req-1", clientAddress: "203.0.113.9" } as const

const entry = (eventId: EventId, action: string, id: number, changes = {}): NewAuditEntry => ({
  action,
  subject: { type: action.split(".")[0]!, id },
  eventId,
  changes,
  origin: ann
})

const page = (filter: Parameters<AuditLog["Type"]["page"]>[0], limit = 20, offset = 0) =>
  Effect.flatMap(AuditLog, (log) => log.page(filter, { limit, offset }))

const actions = (entries: ReadonlyArray<AuditEntry>) => entries.map((e) => `${e.action} ${e.subject.id}`)

export const auditLogContract = (it: Vitest.MethodsNonLive<AuditLog, true>) => {
  it.effect("AuditLog: entries read back as written, newest first; actors user, system and admin", () =>
    Effect.gen(function*() {
      const log = yield* AuditLog
      const event = anEvent()
      yield* log.writeEach([
        entry(event, "booking.created", 1, { ticketsCount: { before: null, after: 2 }, status: { before: null, after: "CONFIRMED" } }),
        { ...entry(event, "hold.expired", 2), origin: SYSTEM_ORIGIN }
      ])
      yield* log.writeEach([{ ...entry(event, "event.updated", event), origin: { ...SYSTEM_ORIGIN, actor: { type: "admin" } } }])
      yield* log.writeEach([])
      const found = yield* page({ eventId: event })
      expect(found.total).toBe(3)
      expect(actions(found.items)).toEqual(["event.updated " + event, "hold.expired 2", "booking.created 1"])
      const [updated, expired, created] = found.items
      expect(created).toEqual({
        id: expect.any(Number),
        at: expect.any(Date),
        actor: { type: "user", userId: 7, role: "CUSTOMER" },
        action: "booking.created",
        subject: { type: "booking", id: 1 },
        eventId: event,
        changes: { ticketsCount: { before: null, after: 2 }, status: { before: null, after: "CONFIRMED" } },
        requestId: "req-1",
        clientAddress: "203.0.113.9"
      })
      expect(expired).toMatchObject({ actor: { type: "system", userId: null, role: null }, requestId: null, clientAddress: null })
      expect(updated!.actor).toEqual({ type: "admin", userId: null, role: null })
      expect(created!.id).toBeLessThan(expired!.id)
      expect(expired!.at.getTime()).toBe(created!.at.getTime()) // one statement, one transaction: one time
    }))

  it.effect("AuditLog: filters by action (exact, or an area ending with a dot), event and time; pages keep the total", () =>
    Effect.gen(function*() {
      const log = yield* AuditLog
      const [event, other] = [anEvent(), anEvent()]
      yield* log.writeEach([
        entry(event, "booking.created", 1),
        entry(event, "booking.cancelled", 1),
        entry(event, "booking_x.created", 3),
        entry(event, "hold.placed", 2),
        entry(other, "booking.created", 4)
      ])
      expect(actions((yield* page({ eventId: event, action: "booking.created" })).items)).toEqual(["booking.created 1"])
      expect(actions((yield* page({ eventId: event, action: "booking." })).items)).toEqual(["booking.cancelled 1", "booking.created 1"])
      expect((yield* page({ eventId: event, action: "booking.c" })).total).toBe(0) // not a prefix: an exact action
      expect((yield* page({ eventId: event, action: "checkin." })).total).toBe(0)
      expect((yield* page({ eventId: other })).total).toBe(1)

      const all = yield* page({ eventId: event })
      const at = all.items[0]!.at
      const hour = 3_600_000
      expect((yield* page({ eventId: event, from: at, to: at })).total).toBe(4) // both bounds include it
      expect((yield* page({ eventId: event, from: new Date(at.getTime() + 1) })).total).toBe(0)
      expect((yield* page({ eventId: event, to: new Date(at.getTime() - 1) })).total).toBe(0)
      expect((yield* page({ eventId: event, from: new Date(at.getTime() - hour), to: new Date(at.getTime() + hour) })).total).toBe(4)

      const second = yield* page({ eventId: event }, 3, 3)
      expect(second.total).toBe(4)
      expect(second.items).toEqual([all.items[3]])
      // Without an event: every event's entries, the other's included.
      const everywhere = yield* page({ from: at, action: "booking.created" }, 100)
      expect(everywhere.items.map((e) => e.eventId)).toEqual(expect.arrayContaining([event, other]))
    }))

  it.effect("AuditLog: an action that is not area.verb is refused (a defect of its writer) and nothing is written", () =>
    Effect.gen(function*() {
      const log = yield* AuditLog
      const event = anEvent()
      const exit = yield* Effect.exit(log.writeEach([entry(event, "booking.created", 1), entry(event, "Booking Created", 2)]))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect((yield* page({ eventId: event })).total).toBe(0)
    }))

  it.effect("AuditLog.record writes with the current origin: the signed-in user, the operator (ActingAs), else the system", () =>
    Effect.gen(function*() {
      const log = yield* AuditLog
      const event = anEvent()
      expect(yield* log.origin).toEqual(SYSTEM_ORIGIN)
      yield* AuditLog.record({ action: "event.cancelled", subject: { type: "event", id: event }, eventId: event })
      const [only] = (yield* page({ eventId: event })).items
      expect(only).toMatchObject({ action: "event.cancelled", actor: { type: "system" }, changes: {}, requestId: null })
      // A signed-in user is the actor; an operator's middleware says who acts instead.
      const published = { action: "event.published", subject: { type: "event", id: event }, eventId: event }
      yield* AuditLog.record(published).pipe(Effect.provideService(CurrentUser, { id: 9 as UserId, role: "ORGANIZER" }))
      yield* AuditLog.record({ ...published, action: "admin.event_hidden" }).pipe(
        Effect.provideService(ActingAs, ADMIN),
        Effect.provideService(CurrentUser, { id: 9 as UserId, role: "ORGANIZER" })
      )
      expect((yield* page({ eventId: event })).items.map((e) => [e.action, e.actor])).toEqual([
        ["admin.event_hidden", { type: "admin", userId: null, role: null }],
        ["event.published", { type: "user", userId: 9, role: "ORGANIZER" }],
        ["event.cancelled", { type: "system", userId: null, role: null }]
      ])
    }))
}
