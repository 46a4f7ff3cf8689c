/**
 * The ticket types' contract (TicketTypesRepo, the default type EventsRepo makes, the stats and
 * attendees SalesRepo reads per type), asserted alike on the in-memory layers
 * (test/unit/repositories.test.ts) and on PostgreSQL (test/db/repository-contract.test.ts).
 * What the engine writes that this branch's engine does not yet (what is taken of a type, the
 * tickets of a booking) is put in place by the store's own `TicketFixtures`.
 */
import { SqlClient } from "@effect/sql"
import { expect, type Vitest } from "@effect/vitest"
import { Chunk, Effect, Option, Ref, Stream } from "effect"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { EventId, TicketTypeId, UserId } from "../../src/Domain/Ids.ts"
import { newTicketCode } from "../../src/Domain/TicketCode.ts"
import type { TicketStatus } from "../../src/Domain/TicketRows.ts"
import { EventsRepo, type NewEvent } from "../../src/Events/EventsRepo.ts"
import { SalesRepo } from "../../src/Events/SalesRepo.ts"
import type { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { MemoryStore, withEntry } from "../../src/Storage/MemoryStore.ts"
import { type NewTicketType, TicketTypesRepo } from "../../src/TicketTypes/TicketTypesRepo.ts"
import { bookOne } from "./bookings.ts"

type Repositories = UsersRepo | EventsRepo | SalesRepo | InventoryRepo | TicketTypesRepo

export interface NewTicket {
  readonly ticketTypeId: TicketTypeId
  readonly status: TicketStatus
  /** When a CANCELLED ticket was cancelled (default: now, or when its booking was). */
  readonly cancelledAt?: Date
}

/** The ticket rows of a fixture booking, and how many tickets the booking has. */
/** A booking's items (bookings.items): these tickets by type, in first-seen order. */
const itemsOf = (tickets: ReadonlyArray<{ readonly ticketTypeId: number }>) => {
  const counts = new Map<number, number>()
  for (const { ticketTypeId } of tickets) counts.set(ticketTypeId, (counts.get(ticketTypeId) ?? 0) + 1)
  return [...counts].map(([ticketTypeId, count]) => ({ ticketTypeId, count }))
}

const ticketsOf = (tickets: ReadonlyArray<NewTicket>, cancelledAt: Date | undefined, at: Date) => {
  const rows = tickets.map((ticket) => ({
    ticketTypeId: ticket.ticketTypeId,
    status: ticket.status,
    checkedInAt: ticket.status === "CHECKED_IN" ? at : null,
    cancelledAt: ticket.status === "CANCELLED" ? ticket.cancelledAt ?? cancelledAt ?? at : null
  }))
  const counted = cancelledAt === undefined
    ? rows.filter((row) => row.status !== "CANCELLED")
    : rows.filter((row) => row.cancelledAt?.getTime() === cancelledAt.getTime())
  return { rows, count: counted.length, items: itemsOf(counted) }
}

/** What the engine keeps and this suite sets directly, in each store. */
export interface TicketFixtures<R> {
  /** Sets what is taken of a type (sold, held, kept back), as the engine does. */
  readonly setTaken: (id: TicketTypeId, taken: number) => Effect.Effect<void, never, R>
  /**
   * A booking with tickets of these types and statuses, as the engine makes it; its id. Confirmed,
   * its tickets not cancelled gone from the event's; or cancelled at `cancelledAt` (its tickets
   * cancelled then, unless they say when).
   */
  readonly addBooking: (
    eventId: EventId,
    userId: UserId,
    tickets: ReadonlyArray<NewTicket>,
    cancelledAt?: Date
  ) => Effect.Effect<number, never, R>
}

const DAY = 86_400_000
let counter = 0

const aUser = (role: "ORGANIZER" | "CUSTOMER" = "CUSTOMER") =>
  Effect.flatMap(
    UsersRepo,
    (users) => users.create({ email: `types-${Date.now().toString(36)}-${++counter}@example.com`, passwordHash: "$2a$04$hash", role })
  ).pipe(Effect.orDie)

const anEvent = (fields: Partial<NewEvent> = {}) =>
  Effect.gen(function*() {
    const organizer = yield* aUser("ORGANIZER")
    return yield* (yield* EventsRepo).create({
      organizerId: organizer.id,
      title: "Types",
      description: "",
      date: new Date(Date.now() + 30 * DAY),
      location: "Hall",
      totalTickets: 10,
      ...fields
    })
  }).pipe(Effect.orDie)

const vip: NewTicketType = { name: "VIP", priceCents: 5000, quota: 4, salesStart: null, salesEnd: null, maxPerBooking: 2 }

export const ticketTypesContract = <R>(it: Vitest.MethodsNonLive<Repositories | R, true>, fixtures: TicketFixtures<R>) => {
  it.effect("EventsRepo: a new event has its default type (General admission, free, its quota the capacity) and a currency, EUR unless given", () =>
    Effect.gen(function*() {
      const types = yield* TicketTypesRepo
      const event = yield* anEvent({ totalTickets: 7 })
      expect(event.currency).toBe("EUR")
      const listed = yield* types.listByEvent(event.id)
      expect(listed).toEqual([{
        id: expect.any(Number),
        eventId: event.id,
        name: "General admission",
        priceCents: 0,
        currency: "EUR",
        quota: 7,
        salesStart: null,
        salesEnd: null,
        maxPerBooking: null,
        isDefault: true,
        left: 7
      }])
      expect(yield* types.findById(event.id, listed[0]!.id)).toEqual(Option.some(listed[0]))
      const dollars = yield* anEvent({ currency: "USD", status: "DRAFT" })
      expect(dollars.currency).toBe("USD")
      expect((yield* types.listByEvent(dollars.id)).map((type) => [type.currency, type.isDefault])).toEqual([["USD", true]])
      const events = yield* EventsRepo
      expect((yield* events.update(dollars.id, { currency: "GBP" })).currency).toBe("GBP")
      expect((yield* types.listByEvent(dollars.id))[0]!.currency).toBe("GBP")
      expect(yield* types.listByEvent(2_000_000_000 as EventId)).toEqual([])
    }))

  it.effect("TicketTypesRepo: create answers what findById and the list read back, the default first; names are unique ignoring case", () =>
    Effect.gen(function*() {
      const types = yield* TicketTypesRepo
      const event = yield* anEvent()
      const salesEnd = new Date(Date.now() + 10 * DAY)
      const created = yield* types.create(event.id, { ...vip, salesEnd })
      expect(created).toEqual({
        id: expect.any(Number),
        eventId: event.id,
        name: "VIP",
        priceCents: 5000,
        currency: "EUR",
        quota: 4,
        salesStart: null,
        salesEnd,
        maxPerBooking: 2,
        isDefault: false,
        left: 4
      })
      const free = yield* types.create(event.id, { ...vip, name: "Students", priceCents: 0, quota: null, maxPerBooking: null })
      expect(free).toMatchObject({ quota: null, left: 10 })
      expect((yield* types.listByEvent(event.id)).map((type) => type.name)).toEqual(["General admission", "VIP", "Students"])
      expect(yield* types.findById(event.id, created.id)).toEqual(Option.some(created))
      // Another event's type is not this event's.
      const other = yield* anEvent()
      expect(yield* types.findById(other.id, created.id)).toEqual(Option.none())

      expect(yield* Effect.flip(types.create(event.id, { ...vip, name: "vip" }))).toMatchObject({ _tag: "TicketTypeNameTaken" })
      expect(yield* Effect.flip(types.create(event.id, { ...vip, name: "GENERAL ADMISSION" }))).toMatchObject({
        _tag: "TicketTypeNameTaken"
      })
      // The same name in another event is fine.
      expect((yield* types.create(other.id, vip)).name).toBe("VIP")
      const window = yield* Effect.flip(types.create(event.id, { ...vip, name: "Late", salesStart: salesEnd, salesEnd }))
      expect(window).toMatchObject({ _tag: "ValidationError", message: "salesEnd: must be after salesStart" })
      yield* (yield* EventsRepo).cancel(other.id)
      expect(yield* Effect.flip(types.create(other.id, { ...vip, name: "After" }))).toMatchObject({ _tag: "EventNotFound" })
      expect(yield* Effect.flip(types.create(2_000_000_000 as EventId, vip))).toMatchObject({ _tag: "EventNotFound" })
      expect((yield* types.listByEvent(event.id)).length).toBe(3)
    }))

  it.effect("TicketTypesRepo: update changes the fields given, null removes; a quota never below what is taken; names stay unique", () =>
    Effect.gen(function*() {
      const types = yield* TicketTypesRepo
      const event = yield* anEvent()
      const created = yield* types.create(event.id, vip)
      const start = new Date(Date.now() + DAY)
      const changed = yield* types.update(event.id, created.id, {
        name: "Very VIP",
        priceCents: 7500,
        salesStart: start,
        maxPerBooking: null
      })
      // As it was (for the audit trail) and as it is.
      expect(changed).toEqual({
        before: created,
        after: { ...created, name: "Very VIP", priceCents: 7500, salesStart: start, maxPerBooking: null }
      })
      expect(yield* types.findById(event.id, created.id)).toEqual(Option.some(changed.after))
      // Its own name in another case is its own.
      expect((yield* types.update(event.id, created.id, { name: "VERY vip" })).after.name).toBe("VERY vip")
      expect(yield* Effect.flip(types.update(event.id, created.id, { name: "general Admission" }))).toMatchObject({
        _tag: "TicketTypeNameTaken"
      })
      // The window as it ends up: a new end before the start kept is refused.
      expect(yield* Effect.flip(types.update(event.id, created.id, { salesEnd: start }))).toMatchObject({
        _tag: "ValidationError",
        message: "salesEnd: must be after salesStart"
      })

      yield* fixtures.setTaken(created.id, 3)
      expect(yield* types.findById(event.id, created.id)).toEqual(Option.some(expect.objectContaining({ quota: 4, left: 1 })))
      expect(yield* Effect.flip(types.update(event.id, created.id, { quota: 2 }))).toMatchObject({
        _tag: "TicketsAlreadySold",
        sold: 3,
        message: `The quota of ticket type ${created.id} cannot be 2: 3 of its tickets are already sold or held`
      })
      expect((yield* types.update(event.id, created.id, { quota: 3 })).after).toMatchObject({ quota: 3, left: 0 })
      expect((yield* types.update(event.id, created.id, { quota: null })).after).toMatchObject({ quota: null, left: 10 })

      const other = yield* anEvent()
      expect(yield* Effect.flip(types.update(other.id, created.id, { priceCents: 1 }))).toMatchObject({ _tag: "TicketTypeNotFound" })
      yield* (yield* EventsRepo).cancel(event.id)
      expect(yield* Effect.flip(types.update(event.id, created.id, { priceCents: 1 }))).toMatchObject({ _tag: "EventNotFound" })
      expect(Option.map(yield* types.findById(event.id, created.id), (type) => type.priceCents)).toEqual(Option.some(7500))
    }))

  it.effect("TicketTypesRepo: what is left of a type is the smaller of its quota's rest and the event's tickets left", () =>
    Effect.gen(function*() {
      const types = yield* TicketTypesRepo
      const event = yield* anEvent({ totalTickets: 5 })
      const created = yield* types.create(event.id, { ...vip, quota: 4 })
      expect(created.left).toBe(4)
      yield* bookOne({ userId: (yield* aUser()).id, eventId: event.id, ticketsCount: 3 })
      expect(Option.map(yield* types.findById(event.id, created.id), (type) => type.left)).toEqual(Option.some(2))
      yield* fixtures.setTaken(created.id, 4)
      expect(Option.map(yield* types.findById(event.id, created.id), (type) => type.left)).toEqual(Option.some(0))
    }))

  it.effect("TicketTypesRepo: remove deletes a type nothing was sold or held of; not the default, not one in use", () =>
    Effect.gen(function*() {
      const types = yield* TicketTypesRepo
      const event = yield* anEvent()
      const [general] = yield* types.listByEvent(event.id)
      const unused = yield* types.create(event.id, vip)
      expect(yield* types.remove(event.id, unused.id)).toEqual(unused) // as it was, for the audit trail
      expect(yield* types.findById(event.id, unused.id)).toEqual(Option.none())
      expect(yield* Effect.flip(types.remove(event.id, unused.id))).toMatchObject({ _tag: "TicketTypeNotFound" })
      expect(yield* Effect.flip(types.remove(event.id, general!.id))).toMatchObject({ _tag: "TicketTypeIsDefault" })

      const held = yield* types.create(event.id, { ...vip, name: "Held" })
      yield* fixtures.setTaken(held.id, 1)
      expect(yield* Effect.flip(types.remove(event.id, held.id))).toMatchObject({ _tag: "TicketTypeInUse" })
      // Sold then given back: nothing taken, but its tickets stay.
      const sold = yield* types.create(event.id, { ...vip, name: "Sold" })
      yield* fixtures.addBooking(event.id, (yield* aUser()).id, [
        { ticketTypeId: sold.id, status: "CANCELLED" },
        { ticketTypeId: general!.id, status: "VALID" }
      ])
      expect(yield* Effect.flip(types.remove(event.id, sold.id))).toMatchObject({ _tag: "TicketTypeInUse" })
      expect((yield* types.listByEvent(event.id)).map((type) => type.name)).toEqual(["General admission", "Held", "Sold"])
    }))

  it.effect("EventsRepo: the default type's quota follows totalTickets while it equals it; a quota the organizer set stays", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const types = yield* TicketTypesRepo
      const quotaOf = (eventId: EventId) => Effect.map(types.listByEvent(eventId), ([general]) => general!.quota)
      const event = yield* anEvent({ totalTickets: 10 })
      yield* bookOne({ userId: (yield* aUser()).id, eventId: event.id, ticketsCount: 4 })
      yield* events.update(event.id, { totalTickets: 15 })
      expect(yield* quotaOf(event.id)).toBe(15)
      yield* events.update(event.id, { totalTickets: 4 })
      expect(yield* quotaOf(event.id)).toBe(4)
      yield* events.update(event.id, { title: "Renamed" })
      expect(yield* quotaOf(event.id)).toBe(4)

      const [general] = yield* types.listByEvent(event.id)
      // (4 are sold: the engine counts them in the type's taken, so its quota cannot go below 4.)
      expect(yield* Effect.flip(types.update(event.id, general!.id, { quota: 3 }))).toMatchObject({ _tag: "TicketsAlreadySold" })
      yield* types.update(event.id, general!.id, { quota: 5 })
      yield* events.update(event.id, { totalTickets: 20 })
      expect(yield* quotaOf(event.id)).toBe(5)
      yield* types.update(event.id, general!.id, { quota: null })
      yield* events.update(event.id, { totalTickets: 21 })
      expect(yield* quotaOf(event.id)).toBeNull()
    }))

  it.effect("SalesRepo: stats per type count sold and checked-in tickets, not cancelled ones; revenue is price x sold; attendees list their types", () =>
    Effect.gen(function*() {
      const sales = yield* SalesRepo
      const types = yield* TicketTypesRepo
      const event = yield* anEvent({ totalTickets: 10, currency: "CHF" })
      const [general] = yield* types.listByEvent(event.id)
      const premium = yield* types.create(event.id, { ...vip, quota: 5 })
      const [ann, bob] = [yield* aUser(), yield* aUser()]
      const first = yield* fixtures.addBooking(event.id, ann.id, [
        { ticketTypeId: premium.id, status: "VALID" },
        { ticketTypeId: premium.id, status: "CHECKED_IN" },
        { ticketTypeId: general!.id, status: "VALID" },
        // Given back earlier: neither sold nor listed.
        { ticketTypeId: premium.id, status: "CANCELLED" }
      ])
      const second = yield* fixtures.addBooking(event.id, bob.id, [
        { ticketTypeId: general!.id, status: "CHECKED_IN" },
        { ticketTypeId: general!.id, status: "VALID" }
      ])
      // One ticket given back, then the rest cancelled with the booking: it lists what it had when cancelled.
      const third = yield* fixtures.addBooking(event.id, bob.id, [
        { ticketTypeId: premium.id, status: "CANCELLED", cancelledAt: new Date(Date.now() - DAY) },
        { ticketTypeId: general!.id, status: "CANCELLED" },
        { ticketTypeId: general!.id, status: "CANCELLED" }
      ], new Date(Date.now() - 1000))
      yield* fixtures.setTaken(premium.id, 2)

      const stats = Option.getOrThrow(yield* sales.stats(event.id))
      expect(stats.currency).toBe("CHF")
      expect(stats.ticketTypes).toEqual([
        {
          ticketTypeId: general!.id,
          name: "General admission",
          priceCents: 0,
          sold: 3,
          held: 0,
          left: 5,
          checkedIn: 1,
          revenueCents: 0
        },
        { ticketTypeId: premium.id, name: "VIP", priceCents: 5000, sold: 2, held: 0, left: 3, checkedIn: 1, revenueCents: 10_000 }
      ])

      const listed = (yield* sales.attendees(event.id, { limit: 10, offset: 0 })).items.map((a) => [a.bookingId, a.ticketTypes])
      expect(listed).toEqual([
        [first, [{ ticketTypeId: general!.id, name: "General admission", count: 1 }, {
          ticketTypeId: premium.id,
          name: "VIP",
          count: 2
        }]],
        [second, [{ ticketTypeId: general!.id, name: "General admission", count: 2 }]],
        [third, [{ ticketTypeId: general!.id, name: "General admission", count: 2 }]]
      ])
      const streamed = Chunk.toReadonlyArray(yield* Stream.runCollect(sales.allAttendees(event.id)))
      expect(streamed.map((a) => [a.bookingId, a.ticketTypes])).toEqual(listed)
    }))
}

/** The fixtures on the in-memory store. */
export const memoryTicketFixtures: TicketFixtures<MemoryStore> = {
  setTaken: (id, taken) =>
    Effect.flatMap(MemoryStore, (store) =>
      Ref.update(store, (tables) => ({
        ...tables,
        ticketTypes: withEntry(tables.ticketTypes, id, { ...tables.ticketTypes.get(id)!, taken })
      }))),
  addBooking: (eventId, userId, tickets, cancelledAt) =>
    Effect.flatMap(MemoryStore, (store) =>
      Ref.modify(store, (tables) => {
        const at = new Date()
        const { count, items, rows } = ticketsOf(tickets, cancelledAt, at)
        let lastId = tables.lastId
        const bookingId = ++lastId
        const all = new Map(tables.tickets)
        for (const row of rows) {
          const id = ++lastId
          all.set(id, { ...row, id, code: newTicketCode(), bookingId, eventId, createdAt: at })
        }
        const event = tables.events.get(eventId)!
        const taken = cancelledAt === undefined ? count : 0
        return [bookingId, {
          ...tables,
          lastId,
          tickets: all,
          events: withEntry(tables.events, eventId, { ...event, availableTickets: event.availableTickets - taken }),
          bookings: withEntry(tables.bookings, bookingId, {
            id: bookingId,
            eventId,
            userId,
            ticketsCount: count,
            items,
            status: cancelledAt === undefined ? "CONFIRMED" : "CANCELLED",
            cancelledAt: cancelledAt ?? null,
            holdId: null,
            createdAt: at,
            idempotencyId: null,
            cancelIdempotencyId: null
          })
        }] as const
      }))
}

/** The fixtures on PostgreSQL. */
export const sqlTicketFixtures: TicketFixtures<SqlClient.SqlClient> = {
  setTaken: (id, taken) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE ticket_types SET taken = ${taken} WHERE id = ${id}`).pipe(Effect.orDie),
  addBooking: (eventId, userId, tickets, cancelledAt) =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { count, items, rows } = ticketsOf(tickets, cancelledAt, new Date())
      const [booking] = yield* sql<{ id: number }>`
        INSERT INTO bookings (user_id, event_id, tickets_count, items, status, cancelled_at)
        VALUES (${userId}, ${eventId}, ${count}, ${JSON.stringify(items)}::jsonb, ${cancelledAt === undefined ? "CONFIRMED" : "CANCELLED"},
                ${cancelledAt ?? null})
        RETURNING id`
      if (cancelledAt === undefined) {
        yield* sql`UPDATE events SET available_tickets = available_tickets - ${count} WHERE id = ${eventId}`
      }
      yield* sql`INSERT INTO tickets ${
        sql.insert(rows.map((row) => ({
          code: newTicketCode(),
          booking_id: booking!.id,
          event_id: eventId,
          ticket_type_id: row.ticketTypeId,
          status: row.status,
          checked_in_at: row.checkedInAt,
          cancelled_at: row.cancelledAt
        })))
      }`
      return booking!.id
    }).pipe(Effect.orDie)
}
