import { Context, Effect, Layer } from "effect"
import { AppConfig } from "../Config.ts"
import { ValidationError } from "../Domain/Errors.ts"
import type { UserId } from "../Domain/Ids.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Transactions } from "../Platform/Transactions.ts"
import type { Booking, BookTickets } from "./Booking.ts"
import { type BookingFailure, BookingsRepo } from "./BookingsRepo.ts"

/** Booking tickets. Callers have checked the CUSTOMER role. */
export class Bookings extends Context.Tag("Bookings")<Bookings, {
  readonly book: (userId: UserId, request: BookTickets) => Effect.Effect<Booking, ValidationError | BookingFailure>
  readonly listMine: (userId: UserId) => Effect.Effect<ReadonlyArray<Booking>>
}>() {
  static readonly layer = Layer.effect(
    Bookings,
    Effect.gen(function*() {
      const { maxTicketsPerBooking } = yield* AppConfig
      const repo = yield* BookingsRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      return {
        book: (userId, { eventId, ticketsCount }) =>
          Effect.gen(function*() {
            if (ticketsCount > maxTicketsPerBooking) {
              return yield* new ValidationError({
                message: `ticketsCount: must be at most ${maxTicketsPerBooking} per booking`
              })
            }
            // The confirmation job commits with the booking, or neither does.
            const booking = yield* transactions.run(
              repo.book({ userId, eventId, ticketsCount }).pipe(
                Effect.tap((booking) =>
                  jobs.enqueue({ _tag: "BookingConfirmed", bookingId: booking.id, userId, eventId, ticketsCount })
                )
              )
            )
            yield* Effect.logInfo("tickets booked").pipe(
              Effect.annotateLogs({ bookingId: booking.id, eventId, ticketsCount })
            )
            return booking
          }),
        listMine: (userId) => repo.listByUser(userId)
      }
    })
  )
}
