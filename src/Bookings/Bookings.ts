import { Context, Effect, Layer, Option } from "effect"
import { type Booking, type BookTickets, type ChangeTickets, itemsAsked } from "../Domain/Booking.ts"
import { BookingNotFound } from "../Domain/Errors.ts"
import type { BookingId, IdempotencyId, UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { type EngineFailure, type Failures, Inventory } from "../Inventory/Inventory.ts"
import { countOf } from "../Inventory/Operation.ts"
import * as Tracing from "../Telemetry/Tracing.ts"
import { BookingsRepo } from "./BookingsRepo.ts"

/** Why a booking request got no booking. */
export type BookFailure = Failures["Book"] | EngineFailure
export type CancelFailure = Failures["Cancel"] | EngineFailure
export type ChangeFailure = Failures["Reduce"] | EngineFailure

/**
 * Booking tickets, cancelling them, giving some back. Every change goes through the event's
 * engine (Inventory/): in its line, in arrival order, atomically with its emails.
 *
 * `idempotencyId`: the request's Idempotency-Key (Idempotency/Idempotency.ts), recorded on the
 * booking it makes or cancels: a repeat is answered with that booking, never applied twice.
 */
export class Bookings extends Context.Tag("Bookings")<Bookings, {
  /** Callers have checked the CUSTOMER role. */
  readonly book: (userId: UserId, request: BookTickets, idempotencyId?: IdempotencyId) => Effect.Effect<Booking, BookFailure>
  /** The caller's booking, cancelled: its tickets go back on sale. Someone else's booking is not found. */
  readonly cancel: (userId: UserId, bookingId: BookingId, idempotencyId?: IdempotencyId) => Effect.Effect<Booking, CancelFailure>
  /** The caller's booking with only `ticketsCount` of its tickets kept; the rest go back on sale. */
  readonly changeTickets: (userId: UserId, bookingId: BookingId, change: ChangeTickets) => Effect.Effect<Booking, ChangeFailure>
  readonly listMine: (userId: UserId, page: PageRequest) => Effect.Effect<Page<Booking>>
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
        book: (userId, request, idempotencyId) =>
          inventory.submit(request.eventId, { _tag: "Book", userId, items: itemsAsked(request), idempotencyId }),
        cancel: (userId, bookingId, idempotencyId) =>
          Effect.flatMap(
            eventOf(userId, bookingId),
            (eventId) => inventory.submit(eventId, { _tag: "Cancel", userId, bookingId, idempotencyId })
          ),
        changeTickets: (userId, bookingId, { ticketsCount }) =>
          Effect.flatMap(
            eventOf(userId, bookingId),
            (eventId) => inventory.submit(eventId, { _tag: "Reduce", userId, bookingId, ticketsCount })
          ),
        listMine: (userId, page) => repo.listByUser(userId, page)
      }
    })
  ).pipe(Tracing.traced(Bookings, {
    book: (userId, request) => ({
      "user.id": userId,
      "event.id": request.eventId,
      "booking.tickets": countOf(itemsAsked(request))
    }),
    cancel: (userId, bookingId) => ({ "user.id": userId, "booking.id": bookingId }),
    changeTickets: (userId, bookingId, { ticketsCount }) => ({
      "user.id": userId,
      "booking.id": bookingId,
      "booking.tickets": ticketsCount
    }),
    listMine: (userId) => ({ "user.id": userId })
  }))
}
