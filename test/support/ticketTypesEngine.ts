/**
 * The engine selling ticket types (issue 19), asserted the same way on the memory store
 * (test/unit/engine-types.test.ts) and on PostgreSQL (test/db/engine-types.test.ts): items all or
 * nothing, types sharing the event's capacity, the refusals naming the type, the per-customer
 * limit over all types, a ticket row per ticket, reductions and cancellations and check-ins, the
 * waiting list waiting for its type.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { BookingId, EventId, HoldId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import type { ItemRequest } from "../../src/Inventory/Operation.ts"

/** The per-customer limit the tiers configure (MAX_TICKETS_PER_CUSTOMER_PER_EVENT). */
export const TYPES_LIMIT = 8

export interface TypeSpec {
  readonly name: string
  readonly quota?: number | null
  readonly maxPerBooking?: number | null
  readonly salesStart?: Date | null
  readonly salesEnd?: Date | null
  readonly isDefault?: boolean
}

export interface TicketSeen {
  readonly id: number
  readonly code: string
  readonly ticketTypeId: number
  readonly status: string
}

/** How a tier makes an event with ticket types and reads what the engine wrote. */
export interface TypesFixture<R> {
  /** An event of `total` tickets with these types (ids in this order), and two customers. */
  readonly scene: (total: number, types: ReadonlyArray<TypeSpec>) => Effect.Effect<
    { readonly eventId: EventId; readonly customers: readonly [UserId, UserId]; readonly types: ReadonlyArray<number> },
    never,
    R
  >
  /** The event's tickets left and each type's taken, by type id. */
  readonly counts: (
    eventId: EventId
  ) => Effect.Effect<{ readonly available: number; readonly taken: ReadonlyMap<number, number> }, never, R>
  /** A booking's tickets, in issue order. */
  readonly tickets: (bookingId: number) => Effect.Effect<ReadonlyArray<TicketSeen>, never, R>
  /** The ticket is scanned at the door (what the check-in endpoint does, here set directly). */
  readonly checkIn: (ticketId: number) => Effect.Effect<void, never, R>
}

const tagOf = <A, E extends { readonly _tag: string }>(either: Either.Either<A, E>) => Either.isLeft(either) ? either.left._tag : "ok"

export const ticketTypesEngineContract = <R>(
  it: Vitest.MethodsNonLive<R | Inventory, true>,
  fixture: TypesFixture<R>
) => {
  const items = (...pairs: ReadonlyArray<readonly [number | "default", number]>): ReadonlyArray<ItemRequest> =>
    pairs.map(([ticketTypeId, count]) => ({ ticketTypeId, count }))

  it.effect("items are all or nothing: one item short takes nothing, and the refusal names the type and what is left of it", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann], eventId, types: [general, vip] } = yield* fixture.scene(10, [
        { name: "General admission", quota: 10, isDefault: true },
        { name: "VIP", quota: 2 }
      ])
      const short = yield* Effect.flip(inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3], [vip!, 3]) }))
      expect(short).toMatchObject({ _tag: "NotEnoughTickets", ticketTypeId: vip, available: 2 })
      expect(short.message).toContain("VIP")
      expect(yield* fixture.counts(eventId)).toEqual({ available: 10, taken: new Map([[general!, 0], [vip!, 0]]) })

      const booking = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3], [vip!, 2]) })
      expect(booking.ticketsCount).toBe(5)
      expect(booking.items).toEqual([
        { ticketTypeId: general, name: "General admission", count: 3 },
        { ticketTypeId: vip, name: "VIP", count: 2 }
      ])
      expect(booking.event.availableTickets).toBe(5)
      expect(yield* fixture.counts(eventId)).toEqual({ available: 5, taken: new Map([[general!, 3], [vip!, 2]]) })
      // A ticket per ticket, in the items' order, each with its own code.
      const tickets = yield* fixture.tickets(booking.id)
      expect(tickets.map((t) => [t.ticketTypeId, t.status])).toEqual([
        [general, "VALID"],
        [general, "VALID"],
        [general, "VALID"],
        [vip, "VALID"],
        [vip, "VALID"]
      ])
      expect(new Set(tickets.map((t) => t.code)).size).toBe(5)
      for (const { code } of tickets) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/)
    }))

  it.effect("types share the event's capacity: what is left of a type is the smaller of its quota left and the event's tickets left", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann, bob], eventId, types: [, vip] } = yield* fixture.scene(5, [
        { name: "General admission", quota: 5, isDefault: true },
        { name: "VIP", quota: 4 }
      ])
      yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3]) })
      const refused = yield* Effect.flip(inventory.submit(eventId, { _tag: "Book", userId: bob, items: items([vip!, 3]) }))
      expect(refused).toMatchObject({ _tag: "NotEnoughTickets", ticketTypeId: vip, available: 2 })
      // Each item fits its type, but not both together: the event is short.
      const together = yield* Effect.flip(
        inventory.submit(eventId, { _tag: "Book", userId: bob, items: items(["default", 1], [vip!, 2]) })
      )
      expect(together).toMatchObject({ _tag: "NotEnoughTickets", available: 2 })
      expect("ticketTypeId" in together && together.ticketTypeId !== undefined).toBe(false)
      const last = yield* inventory.submit(eventId, { _tag: "Book", userId: bob, items: items([vip!, 2]) })
      expect(last.event.availableTickets).toBe(0)
      // The default is sold out by the event, not its quota: the seed's words.
      const soldOut = yield* Effect.flip(inventory.submit(eventId, { _tag: "Book", userId: bob, items: items(["default", 1]) }))
      expect(soldOut.message).toBe("The event is sold out; 1 requested")
    }))

  it.effect("a type of no event or of another event is 404 TicketTypeNotFound; one off sale is SalesClosed naming it; over maxPerBooking a 400", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const now = Date.now()
      const { customers: [ann], eventId, types: [, early, late, small] } = yield* fixture.scene(20, [
        { name: "General admission", quota: 20, isDefault: true },
        { name: "Early bird", salesEnd: new Date(now - 60_000), salesStart: new Date(now - 3_600_000) },
        { name: "Late", salesStart: new Date(now + 3_600_000) },
        { name: "Pair", maxPerBooking: 2 }
      ])
      const other = yield* fixture.scene(5, [{ name: "General admission", quota: 5, isDefault: true }])
      const book = (requested: ReadonlyArray<ItemRequest>) =>
        Effect.flip(inventory.submit(eventId, { _tag: "Book", userId: ann, items: requested }))
      expect(yield* book(items([other.types[0]!, 1]))).toMatchObject({ _tag: "TicketTypeNotFound" })
      expect(yield* book(items([2_000_000_000, 1]))).toMatchObject({ _tag: "TicketTypeNotFound" })
      expect(yield* book(items(["default", 1], [early!, 1]))).toMatchObject({ _tag: "SalesClosed", ticketTypeId: early })
      expect(yield* book(items([late!, 1]))).toMatchObject({ _tag: "SalesClosed", ticketTypeId: late })
      const tooMany = yield* book(items(["default", 1], [small!, 3]))
      expect(tooMany).toMatchObject({ _tag: "ValidationError" })
      expect(tooMany.message).toContain("items[1].count")
      // The same for a hold and the waiting list; nothing was taken.
      expect(yield* Effect.flip(inventory.submit(eventId, { _tag: "Hold", userId: ann, items: items([late!, 1]) })))
        .toMatchObject({ _tag: "SalesClosed", ticketTypeId: late })
      expect(yield* Effect.flip(inventory.submit(eventId, { _tag: "Join", userId: ann, items: items([small!, 3]) })))
        .toMatchObject({ _tag: "ValidationError" })
      expect((yield* fixture.counts(eventId)).available).toBe(20)
    }))

  it.effect("the per-customer limit counts every type: booked, held and waited for", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann], eventId, types: [, vip] } = yield* fixture.scene(30, [
        { name: "General admission", quota: 30, isDefault: true },
        { name: "VIP", quota: 10 }
      ])
      yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3], [vip!, 2]) })
      yield* inventory.submit(eventId, { _tag: "Hold", userId: ann, items: items([vip!, 2]) })
      const over = yield* Effect.flip(inventory.submit(eventId, { _tag: "Book", userId: ann, items: items([vip!, 2]) }))
      expect(over).toMatchObject({ _tag: "CustomerLimitReached", limit: TYPES_LIMIT, remaining: 1 })
      yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items([vip!, 1]) })
    }))

  it.effect("reducing cancels the last issued tickets not checked in, whatever their type; the types' taken follow", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann], eventId, types: [general, vip] } = yield* fixture.scene(10, [
        { name: "General admission", quota: 10, isDefault: true },
        { name: "VIP", quota: 5 }
      ])
      const booking = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 2], [vip!, 2]) })
      const reduced = yield* inventory.submit(eventId, { _tag: "Reduce", userId: ann, bookingId: booking.id, ticketsCount: 1 })
      expect(reduced.ticketsCount).toBe(1)
      expect(reduced.items).toEqual([{ ticketTypeId: general, name: "General admission", count: 1 }])
      expect((yield* fixture.tickets(booking.id)).map((t) => t.status)).toEqual(["VALID", "CANCELLED", "CANCELLED", "CANCELLED"])
      expect(yield* fixture.counts(eventId)).toEqual({ available: 9, taken: new Map([[general!, 1], [vip!, 0]]) })
    }))

  it.effect("a checked-in ticket is never cancelled: a reduction takes the others, a cancellation is 409 TicketCheckedIn", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann], eventId, types: [general] } = yield* fixture.scene(10, [
        { name: "General admission", quota: 10, isDefault: true }
      ])
      const booking = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3]) })
      const [first, , third] = yield* fixture.tickets(booking.id)
      yield* fixture.checkIn(third!.id)
      // Two back: the last two not checked in (the second and the first); the checked-in one stays.
      const kept = yield* inventory.submit(eventId, { _tag: "Reduce", userId: ann, bookingId: booking.id, ticketsCount: 1 })
      expect(kept.ticketsCount).toBe(1)
      expect((yield* fixture.tickets(booking.id)).map((t) => t.status)).toEqual(["CANCELLED", "CANCELLED", "CHECKED_IN"])
      expect(first).toBeDefined()

      const cancel = yield* Effect.flip(inventory.submit(eventId, { _tag: "Cancel", userId: ann, bookingId: booking.id }))
      expect(cancel).toMatchObject({ _tag: "TicketCheckedIn" })
      expect(cancel.message).toContain(third!.code)
      expect(yield* fixture.counts(eventId)).toEqual({ available: 9, taken: new Map([[general!, 1]]) })

      // Cancelling a booking none of whose tickets is checked in cancels them all.
      const other = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 2]) })
      const cancelled = yield* inventory.submit(eventId, { _tag: "Cancel", userId: ann, bookingId: other.id })
      expect(cancelled.status).toBe("CANCELLED")
      expect(cancelled.items).toEqual([{ ticketTypeId: general, name: "General admission", count: 2 }])
      expect((yield* fixture.tickets(other.id)).map((t) => t.status)).toEqual(["CANCELLED", "CANCELLED"])
      expect((yield* fixture.counts(eventId)).available).toBe(9)
    }))

  it.effect("a hold keeps its items; confirmed, its booking gets their tickets; released, the types get them back", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann], eventId, types: [general, vip] } = yield* fixture.scene(10, [
        { name: "General admission", quota: 10, isDefault: true },
        { name: "VIP", quota: 3 }
      ])
      const hold = yield* inventory.submit(eventId, { _tag: "Hold", userId: ann, items: items([vip!, 2], ["default", 1]) })
      expect(hold.items).toEqual([{ ticketTypeId: vip, name: "VIP", count: 2 }, {
        ticketTypeId: general,
        name: "General admission",
        count: 1
      }])
      expect(yield* fixture.counts(eventId)).toEqual({ available: 7, taken: new Map([[general!, 1], [vip!, 2]]) })
      const booking = yield* inventory.submit(eventId, { _tag: "Confirm", userId: ann, holdId: hold.id as HoldId })
      expect(booking.items.map((i) => [i.ticketTypeId, i.count])).toEqual([[vip, 2], [general, 1]])
      expect((yield* fixture.tickets(booking.id)).map((t) => t.ticketTypeId)).toEqual([vip, vip, general])
      expect(yield* fixture.counts(eventId)).toEqual({ available: 7, taken: new Map([[general!, 1], [vip!, 2]]) })

      const another = yield* inventory.submit(eventId, { _tag: "Hold", userId: ann, items: items([vip!, 1]) })
      yield* inventory.submit(eventId, { _tag: "Release", userId: ann, holdId: another.id as HoldId })
      expect(yield* fixture.counts(eventId)).toEqual({ available: 7, taken: new Map([[general!, 1], [vip!, 2]]) })
    }))

  it.effect("the waiting list waits for its type: tickets of another type coming back are not offered to it", () =>
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const { customers: [ann, bob], eventId, types: [general, vip] } = yield* fixture.scene(10, [
        { name: "General admission", quota: 10, isDefault: true },
        { name: "VIP", quota: 1 }
      ])
      const vipBooking = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items([vip!, 1]) })
      const general3 = yield* inventory.submit(eventId, { _tag: "Book", userId: ann, items: items(["default", 3]) })
      // VIP is sold out though the event is not: Bob may wait for a VIP ticket (and may not for a general one).
      expect(tagOf(yield* Effect.either(inventory.submit(eventId, { _tag: "Join", userId: bob, items: items(["default", 1]) }))))
        .toBe("TicketsAvailable")
      const entry = yield* inventory.submit(eventId, { _tag: "Join", userId: bob, items: items([vip!, 1]) })
      expect(entry.items).toEqual([{ ticketTypeId: vip, name: "VIP", count: 1 }])
      yield* inventory.submit(eventId, { _tag: "Cancel", userId: ann, bookingId: general3.id as BookingId })
      expect(yield* fixture.counts(eventId)).toEqual({ available: 9, taken: new Map([[general!, 0], [vip!, 1]]) })
      // The VIP ticket back: offered to Bob (a hold of his items).
      yield* inventory.submit(eventId, { _tag: "Cancel", userId: ann, bookingId: vipBooking.id as BookingId })
      expect(yield* fixture.counts(eventId)).toEqual({ available: 9, taken: new Map([[general!, 0], [vip!, 1]]) })
      const offered = yield* Effect.either(inventory.submit(eventId, { _tag: "Join", userId: bob, items: items([vip!, 1]) }))
      expect(tagOf(offered)).toBe("AlreadyOnWaitlist")
    }))
}
