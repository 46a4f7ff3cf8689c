import { Context, Effect, Layer, Option } from "effect"
import { BookingNotFound } from "../Domain/Errors.ts"
import type { BookingId, UserId } from "../Domain/Ids.ts"
import { type EngineFailure, type Failures, Inventory } from "../Inventory/Inventory.ts"
import type { Booking, BookTickets, ChangeTickets } from "./Booking.ts"
import { BookingsRepo } from "./BookingsRepo.ts"

/** Why a booking request got no booking. */
export type BookFailure = Failures["Book"] | EngineFailure
export type CancelFailure = Failures["Cancel"] | EngineFailure
export type ChangeFailure = Failures["Reduce"] | EngineFailure

/**
 * Booking tickets, cancelling them, giving some back. Every change goes through the event's
 * engine (Inventory/): in its line, in arrival order, atomically with its emails.
 */
export class Bookings extends Context.Tag("Bookings")<Bookings, {
  /** Callers have checked the CUSTOMER role. */
  readonly book: (userId: UserId, request: BookTickets) => Effect.Effect<Booking, BookFailure>
  /** The caller's booking, cancelled: its tickets go back on sale. Someone else's booking is not found. */
  readonly cancel: (userId: UserId, bookingId: BookingId) => Effect.Effect<Booking, CancelFailure>
  /** The caller's booking with only `ticketsCount` of its tickets kept; the rest go back on sale. */
  readonly changeTickets: (userId: UserId, bookingId: BookingId, change: ChangeTickets) => Effect.Effect<Booking, ChangeFailure>
  readonly listMine: (userId: UserId) => Effect.Effect<ReadonlyArray<Booking>>
}>() {
  static readonly layer = Layer.effect(
    Bookings,
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const repo = yield* BookingsRepo

      /** The event a booking of the caller's belongs to (the engine checks again, under the lock). */
      const eventOf = (userId: UserId, bookingId: BookingId) =>
        repo.findById(bookingId).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(BookingNotFound.of(bookingId)),
            onSome: (booking) => booking.userId === userId ? Effect.succeed(booking.eventId) : Effect.fail(BookingNotFound.of(bookingId))
          }))
        )

      return {
        book: (userId, { eventId, ticketsCount }) => inventory.submit(eventId, { _tag: "Book", userId, ticketsCount }),
        cancel: (userId, bookingId) =>
          Effect.flatMap(eventOf(userId, bookingId), (eventId) => inventory.submit(eventId, { _tag: "Cancel", userId, bookingId })),
        changeTickets: (userId, bookingId, { ticketsCount }) =>
          Effect.flatMap(
            eventOf(userId, bookingId),
            (eventId) => inventory.submit(eventId, { _tag: "Reduce", userId, bookingId, ticketsCount })
          ),
        listMine: (userId) => repo.listByUser(userId)
      }
    })
  )
}
