import { Context, Effect, Either, Exit, Layer } from "effect"
import { AppConfig } from "../Config.ts"
import { BookingFailed, Overloaded, ValidationError } from "../Domain/Errors.ts"
import type { EventId, UserId } from "../Domain/Ids.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import * as GroupCommit from "../Platform/GroupCommit.ts"
import type { Page, PageRequest } from "../Platform/Paging.ts"
import { Transactions } from "../Platform/Transactions.ts"
import type { TicketRequest } from "./Allocation.ts"
import type { Booking, BookTickets } from "./Booking.ts"
import { type BookingFailure, BookingsRepo } from "./BookingsRepo.ts"

/** Why a booking request got no booking. */
export type BookFailure = ValidationError | BookingFailure | Overloaded | BookingFailed

/** Booking tickets. Callers have checked the CUSTOMER role. */
export class Bookings extends Context.Tag("Bookings")<Bookings, {
  readonly book: (userId: UserId, request: BookTickets) => Effect.Effect<Booking, BookFailure>
  readonly listMine: (userId: UserId, page: PageRequest) => Effect.Effect<Page<Booking>>
}>() {
  /**
   * Bookings of one event are group-committed: those that arrive while the event's transaction is
   * in flight wait in its line and are decided together by the next one (GroupCommit.ts), in
   * arrival order, with the outcome booking them one by one would give (Allocation.ts).
   */
  static readonly layer = Layer.scoped(
    Bookings,
    Effect.gen(function*() {
      const { booking: settings, maxTicketsPerBooking } = yield* AppConfig
      const repo = yield* BookingsRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions

      // One transaction: the bookings and their confirmation jobs commit together, or nothing does.
      const decide = (eventId: EventId, requests: ReadonlyArray<TicketRequest>, committing: () => void) =>
        transactions.run(
          Effect.gen(function*() {
            const outcomes = yield* repo.bookAll(eventId, requests)
            yield* jobs.enqueue(...outcomes.filter(Either.isRight).map(({ right: booking }) => ({
              _tag: "BookingConfirmed" as const,
              bookingId: booking.id,
              userId: booking.userId,
              eventId,
              ticketsCount: booking.ticketsCount
            })))
            committing()
            return outcomes
          })
        )

      // A batch that rolled back is tried once more; then each of its bookings fails, typed. A failed
      // COMMIT is not retried: PostgreSQL may have applied it, and a retry could book twice.
      const commit = (
        eventId: EventId,
        requests: ReadonlyArray<TicketRequest>
      ): Effect.Effect<ReadonlyArray<Either.Either<Booking, BookFailure>>> =>
        Effect.gen(function*() {
          for (let attempt = 1;; attempt++) {
            let committing = false
            const exit = yield* Effect.exit(decide(eventId, requests, () => (committing = true)))
            if (Exit.isSuccess(exit)) return exit.value
            yield* Effect.logError("booking batch failed", exit.cause).pipe(
              Effect.annotateLogs({ eventId, bookings: requests.length, attempt, atCommit: committing })
            )
            if (committing || attempt === 2) {
              const failure = committing ? BookingFailed.outcomeUnknown : BookingFailed.nothingBooked
              return requests.map(() => Either.left(failure))
            }
          }
        })

      const line = yield* GroupCommit.make<EventId, TicketRequest, Booking, BookFailure>({
        maxBatch: settings.maxBatch,
        maxWaiting: settings.maxWaiting,
        commit,
        overloaded: () => Overloaded.instance
      })

      return {
        book: (userId, { eventId, ticketsCount }) =>
          ticketsCount > maxTicketsPerBooking
            ? Effect.fail(new ValidationError({ message: `ticketsCount: must be at most ${maxTicketsPerBooking} per booking` }))
            : line.submit(eventId, { userId, ticketsCount }),
        listMine: (userId, page) => repo.listByUser(userId, page)
      }
    })
  )
}
