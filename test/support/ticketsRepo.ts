/**
 * TicketsRepo's contract, asserted the same way on its in-memory twin (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts): a booking's tickets, the door (check-in,
 * its undo, an Idempotency-Key's id answering again) and an event's cancellation voiding its tickets.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Option } from "effect"
import { randomUUID } from "node:crypto"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { BookingId, IdempotencyId, UserId } from "../../src/Domain/Ids.ts"
import { EventsRepo } from "../../src/Events/EventsRepo.ts"
import type { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { TicketsRepo } from "../../src/Tickets/TicketsRepo.ts"
import { applyOne, bookOne } from "./bookings.ts"
import { DEFAULT_TYPE, ticketCodes } from "./tickets.ts"

type Repositories = UsersRepo | EventsRepo | InventoryRepo | TicketsRepo

let counter = 0
const aUser = (role: "ORGANIZER" | "CUSTOMER" = "CUSTOMER") =>
  Effect.flatMap(
    UsersRepo,
    (users) => users.create({ email: `tickets-${Date.now().toString(36)}x${++counter}@example.com`, passwordHash: "$2a$04$hash", role })
  )
    .pipe(Effect.orDie)

const anEvent = (organizerId: UserId) =>
  Effect.flatMap(EventsRepo, (events) =>
    events.create({
      organizerId,
      title: "Door",
      description: "",
      date: new Date(Date.now() + 30 * 86_400_000),
      location: "Hall",
      totalTickets: 10
    })).pipe(Effect.orDie)

/** An event with a booking of `ticketsCount` by a new customer: its codes. */
const aBooking = (ticketsCount: number) =>
  Effect.gen(function*() {
    const organizer = yield* aUser("ORGANIZER")
    const customer = yield* aUser()
    const event = yield* anEvent(organizer.id)
    const booking = yield* bookOne({ userId: customer.id, eventId: event.id, ticketsCount })
    const codes = yield* ticketCodes(booking)
    return { organizer, customer, event, booking, codes }
  })

const newKey = () => randomUUID() as IdempotencyId

export const ticketsRepoContract = (it: Vitest.MethodsNonLive<Repositories, true>) => {
  it.effect("TicketsRepo: a booking's tickets in issue order, with their type; found by code in their booking only", () =>
    Effect.gen(function*() {
      const tickets = yield* TicketsRepo
      const { booking, codes, event } = yield* aBooking(3)
      const other = yield* aBooking(1)
      expect(codes).toHaveLength(3)
      expect(new Set(codes).size).toBe(3)
      const listed = yield* tickets.listByBooking(booking.id)
      expect(listed).toEqual(codes.map((code) => ({
        code,
        bookingId: booking.id,
        eventId: event.id,
        ticketTypeId: expect.any(Number),
        ticketTypeName: "General admission",
        status: "VALID",
        checkedInAt: null,
        cancelledAt: null
      })))
      expect(yield* tickets.findInBooking(booking.id, codes[1]!)).toEqual(Option.some(listed[1]))
      expect(yield* tickets.findInBooking(booking.id, other.codes[0]!)).toEqual(Option.none())
      expect(yield* tickets.findInBooking(other.booking.id, codes[0]!)).toEqual(Option.none())
      expect(yield* tickets.listByBooking(2_000_000_000 as BookingId)).toEqual([])
    }))

  it.effect("TicketsRepo: a check-in answers the ticket with the attendee's email; again 409 with the first time; other events' codes unknown", () =>
    Effect.gen(function*() {
      const tickets = yield* TicketsRepo
      const { booking, codes, customer, event } = yield* aBooking(2)
      const other = yield* aBooking(1)
      const before = Date.now()
      const { checkIn: checkedIn, repeat } = yield* tickets.checkIn(event.id, codes[0]!)
      expect(repeat).toBe(false)
      expect(checkedIn).toEqual({
        code: codes[0],
        bookingId: booking.id,
        eventId: event.id,
        ticketTypeId: expect.any(Number),
        ticketTypeName: "General admission",
        status: "CHECKED_IN",
        checkedInAt: expect.any(Date),
        cancelledAt: null,
        email: customer.email
      })
      // The database's clock may differ from this process's a little: a minute either way.
      expect(Math.abs(checkedIn.checkedInAt.getTime() - before)).toBeLessThan(60_000)

      const again = yield* Effect.flip(tickets.checkIn(event.id, codes[0]!))
      expect(again).toMatchObject({ _tag: "AlreadyCheckedIn", checkedInAt: checkedIn.checkedInAt })
      expect(yield* Effect.flip(tickets.checkIn(event.id, other.codes[0]!))).toMatchObject({ _tag: "TicketNotFound" })
      expect(yield* Effect.flip(tickets.checkIn(other.event.id, codes[1]!))).toMatchObject({ _tag: "TicketNotFound" })
      expect(yield* Effect.flip(tickets.checkIn(event.id, "00000-00000-00000-00000"))).toMatchObject({ _tag: "TicketNotFound" })

      const listed = yield* tickets.listByBooking(booking.id)
      expect(listed.map((ticket) => [ticket.code, ticket.status, ticket.checkedInAt])).toEqual([
        [codes[0], "CHECKED_IN", checkedIn.checkedInAt],
        [codes[1], "VALID", null]
      ])
      // The other event's ticket was not touched by the attempt.
      expect((yield* tickets.listByBooking(other.booking.id))[0]!.status).toBe("VALID")
    }))

  it.effect("TicketsRepo: a check-in under a key answers again for that key only", () =>
    Effect.gen(function*() {
      const tickets = yield* TicketsRepo
      const { codes, event } = yield* aBooking(1)
      const key = newKey()
      const first = yield* tickets.checkIn(event.id, codes[0]!, key)
      expect(first.repeat).toBe(false)
      expect(yield* tickets.checkIn(event.id, codes[0]!, key)).toEqual({ checkIn: first.checkIn, repeat: true })
      expect(yield* Effect.flip(tickets.checkIn(event.id, codes[0]!, newKey()))).toMatchObject({ _tag: "AlreadyCheckedIn" })
      expect(yield* Effect.flip(tickets.checkIn(event.id, codes[0]!))).toMatchObject({ _tag: "AlreadyCheckedIn" })
      // Undone, the key no longer stands for a check-in: the next one is new.
      yield* tickets.undoCheckIn(event.id, codes[0]!)
      const { checkIn: other } = yield* tickets.checkIn(event.id, codes[0]!, newKey())
      expect(yield* Effect.flip(tickets.checkIn(event.id, codes[0]!, key))).toMatchObject({
        _tag: "AlreadyCheckedIn",
        checkedInAt: other.checkedInAt
      })
    }))

  it.effect("TicketsRepo: undoing a check-in makes the ticket VALID again; a ticket not checked in has none to undo", () =>
    Effect.gen(function*() {
      const tickets = yield* TicketsRepo
      const { booking, codes, event } = yield* aBooking(1)
      const other = yield* aBooking(1)
      const code = codes[0]!
      expect(yield* Effect.flip(tickets.undoCheckIn(event.id, code))).toMatchObject({ _tag: "TicketNotCheckedIn" })
      yield* tickets.checkIn(event.id, code)
      expect(yield* Effect.flip(tickets.undoCheckIn(other.event.id, code))).toMatchObject({ _tag: "TicketNotFound" })
      yield* tickets.undoCheckIn(event.id, code)
      expect(yield* tickets.findInBooking(booking.id, code)).toEqual(
        Option.some(expect.objectContaining({ status: "VALID", checkedInAt: null }))
      )
      expect(yield* Effect.flip(tickets.undoCheckIn(event.id, code))).toMatchObject({ _tag: "TicketNotCheckedIn" })
      expect((yield* tickets.checkIn(event.id, code)).checkIn.status).toBe("CHECKED_IN")
    }))

  it.effect("TicketsRepo: a cancelled ticket (its booking cancelled) is refused at the door", () =>
    Effect.gen(function*() {
      const tickets = yield* TicketsRepo
      const customer = yield* aUser()
      const event = yield* anEvent((yield* aUser("ORGANIZER")).id)
      const booking = yield* bookOne({ userId: customer.id, eventId: event.id, ticketsCount: 2 })
      yield* applyOne(event.id, { _tag: "Cancel", userId: customer.id, bookingId: booking.id })
      // Cancelled as the engine cancels a cancelled booking's tickets (if it wrote them, they are read back).
      const codes = yield* ticketCodes(booking, [{ type: DEFAULT_TYPE, count: 2, status: "CANCELLED" }])
      expect((yield* tickets.listByBooking(booking.id)).map((ticket) => ticket.status)).toEqual(["CANCELLED", "CANCELLED"])
      expect(yield* Effect.flip(tickets.checkIn(event.id, codes[0]!))).toMatchObject({ _tag: "TicketCancelled" })
      expect(yield* Effect.flip(tickets.undoCheckIn(event.id, codes[0]!))).toMatchObject({ _tag: "TicketCancelled" })
    }))

  it.effect("EventsRepo.cancel voids the event's tickets, checked-in ones too, and no other event's", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const tickets = yield* TicketsRepo
      const { booking, codes, event } = yield* aBooking(3)
      const other = yield* aBooking(1)
      yield* tickets.checkIn(event.id, codes[0]!)
      yield* events.cancel(event.id)
      const voided = yield* tickets.listByBooking(booking.id)
      expect(voided.map((ticket) => [ticket.status, ticket.checkedInAt])).toEqual([
        ["CANCELLED", null],
        ["CANCELLED", null],
        ["CANCELLED", null]
      ])
      expect(Option.map(yield* events.findById(event.id), (found) => found.status)).toEqual(Option.some("CANCELLED"))
      for (const ticket of voided) expect(ticket.cancelledAt).toBeInstanceOf(Date)
      expect(yield* Effect.flip(tickets.checkIn(event.id, codes[1]!))).toMatchObject({ _tag: "TicketCancelled" })
      expect(yield* Effect.flip(tickets.undoCheckIn(event.id, codes[0]!))).toMatchObject({ _tag: "TicketCancelled" })
      expect((yield* tickets.listByBooking(other.booking.id))[0]!.status).toBe("VALID")
    }))
}
