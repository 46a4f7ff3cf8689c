import { Context, Effect, Either, Exit, Layer, type Tracer } from "effect"
import { AppConfig } from "../Config.ts"
import { BookingFailed, Overloaded, ValidationError } from "../Domain/Errors.ts"
import type { EventId, IdempotencyId, UserId } from "../Domain/Ids.ts"
import { CatalogueChanges } from "../Events/CatalogueChanges.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import * as GroupCommit from "../Platform/GroupCommit.ts"
import type { Page, PageRequest } from "../Platform/Paging.ts"
import { Transactions } from "../Platform/Transactions.ts"
import { recordBookingBatch } from "../Telemetry/Metrics.ts"
import * as Tracing from "../Telemetry/Tracing.ts"
import type { TicketRequest } from "./Allocation.ts"
import type { Booking, BookTickets } from "./Booking.ts"
import { type BookingFailure, BookingsRepo } from "./BookingsRepo.ts"

/** A request in its event's line, with the span of the HTTP request that made it (tracing on). */
interface LineRequest extends TicketRequest {
  readonly span: Tracer.AnySpan | undefined
}

/** Why a booking request got no booking. */
export type BookFailure = ValidationError | BookingFailure | Overloaded | BookingFailed

/** Booking tickets. Callers have checked the CUSTOMER role. */
export class Bookings extends Context.Tag("Bookings")<Bookings, {
  /** `idempotencyId`: the request's Idempotency-Key; a booking already made under it is answered again, not made twice. */
  readonly book: (userId: UserId, request: BookTickets, idempotencyId?: IdempotencyId) => Effect.Effect<Booking, BookFailure>
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
      const catalogueChanged = yield* CatalogueChanges.signal

      // One transaction: the bookings and their confirmation jobs commit together, or nothing does.
      // Each confirmation carries the span of the request it answers: its job's span links to it.
      const decide = (eventId: EventId, requests: ReadonlyArray<LineRequest>, committing: () => void) =>
        transactions.run(
          Effect.gen(function*() {
            const outcomes = yield* repo.bookAll(eventId, requests)
            // One confirmation per booking, with the span of the first request that got it: two requests
            // with one Idempotency-Key share theirs. (A booking found again after a crash had its job
            // committed with it; the delivery log makes a second one send nothing.)
            const booked = new Map<Booking["id"], readonly [Booking, Tracer.AnySpan | undefined]>()
            outcomes.forEach((outcome, i) => {
              if (Either.isRight(outcome) && !booked.has(outcome.right.id)) booked.set(outcome.right.id, [outcome.right, requests[i]!.span])
            })
            yield* jobs.enqueueEach(
              [...booked.values()].map(([booking]) => ({
                _tag: "BookingConfirmed" as const,
                bookingId: booking.id,
                userId: booking.userId,
                eventId,
                ticketsCount: booking.ticketsCount
              })),
              [...booked.values()].map(([, span]) => span)
            )
            committing()
            return outcomes
          })
        )

      // A batch that rolled back is tried once more; then each of its bookings fails, typed. A failed
      // COMMIT is not retried: PostgreSQL may have applied it, and a retry could book twice.
      const commit = (
        eventId: EventId,
        requests: ReadonlyArray<LineRequest>
      ): Effect.Effect<ReadonlyArray<Either.Either<Booking, BookFailure>>> =>
        Effect.gen(function*() {
          for (let attempt = 1;; attempt++) {
            let committing = false
            const exit = yield* Effect.exit(decide(eventId, requests, () => (committing = true)))
            if (Exit.isSuccess(exit)) {
              // Bookings made, not answers: requests sharing an Idempotency-Key share one booking.
              const booked = new Map(exit.value.filter(Either.isRight).map(({ right }) => [right.id, right.ticketsCount]))
              yield* recordBookingBatch(requests.length, booked.size, [...booked.values()].reduce((n, tickets) => n + tickets, 0))
              if (booked.size > 0) yield* catalogueChanged
              return exit.value
            }
            yield* Effect.logError("booking batch failed", exit.cause).pipe(
              Effect.annotateLogs({ eventId, bookings: requests.length, attempt, atCommit: committing })
            )
            if (committing || attempt === 2) {
              const failure = committing ? BookingFailed.outcomeUnknown : BookingFailed.nothingBooked
              return requests.map(() => Either.left(failure))
            }
          }
        }).pipe(
          // The batch runs apart from its requests (in the event's line): it links to each of them.
          Tracing.withSpan("Bookings.commitBatch", () => ({
            attributes: { "event.id": eventId, "booking.batch_size": requests.length },
            links: requests.flatMap(({ span }) => span === undefined ? [] : [{ _tag: "SpanLink", span, attributes: {} }])
          }))
        )

      const line = yield* GroupCommit.make<EventId, LineRequest, Booking, BookFailure>({
        maxBatch: settings.maxBatch,
        maxWaiting: settings.maxWaiting,
        commit,
        overloaded: () => Overloaded.instance
      })

      return {
        book: (userId, { eventId, ticketsCount }, idempotencyId) =>
          ticketsCount > maxTicketsPerBooking
            ? Effect.fail(new ValidationError({ message: `ticketsCount: must be at most ${maxTicketsPerBooking} per booking` }))
            : Effect.flatMap(Tracing.currentSpan, (span) => line.submit(eventId, { userId, ticketsCount, idempotencyId, span })),
        listMine: (userId, page) => repo.listByUser(userId, page)
      }
    })
  ).pipe(Tracing.traced(Bookings, {
    book: (userId, { eventId, ticketsCount }) => ({ "user.id": userId, "event.id": eventId, "booking.tickets": ticketsCount }),
    listMine: (userId) => ({ "user.id": userId })
  }))
}
