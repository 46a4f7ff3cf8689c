import { Context, Effect, Layer, Option } from "effect"
import * as Announcements from "../Announcements/Announcements.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import { BookingsRepo } from "../Bookings/BookingsRepo.ts"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import { BookingNotFound, type EventNotFound, type Forbidden, TicketNotFound } from "../Domain/Errors.ts"
import type { BookingId, EventId, IdempotencyId, UserId } from "../Domain/Ids.ts"
import { requireOwner } from "../Domain/Policy.ts"
import type { CheckIn, Ticket } from "../Domain/Ticket.ts"
import { Events } from "../Events/Events.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { type CheckInFailure, TicketsRepo, type UndoFailure } from "./TicketsRepo.ts"

type Organizer = CurrentUser["Type"]

/**
 * The tickets a customer carries, and the door: the organizer checks their event's tickets in
 * (and undoes a check-in scanned by mistake). Codes given here are normalized (Domain/TicketCode.ts).
 *
 * Someone else's booking does not exist for the caller (404, as cancelling it answers); the door of
 * an event is its organizer's alone (another organizer's event 403, their draft 404, as the other
 * organizer endpoints answer). A cancelled event's tickets are void, so its door answers 409
 * TicketCancelled (Events/EventsRepo.ts voids them with the event).
 */
export class Tickets extends Context.Tag("Tickets")<Tickets, {
  /** The caller's booking's tickets, cancelled ones too. */
  readonly listForBooking: (userId: UserId, bookingId: BookingId) => Effect.Effect<ReadonlyArray<Ticket>, BookingNotFound>
  /** A ticket of the caller's booking (for its QR image). */
  readonly ticketOfBooking: (userId: UserId, bookingId: BookingId, code: string) => Effect.Effect<Ticket, BookingNotFound | TicketNotFound>
  /** Callers have checked the ORGANIZER role. */
  readonly checkIn: (
    organizer: Organizer,
    eventId: EventId,
    code: string,
    idempotencyId?: IdempotencyId
  ) => Effect.Effect<CheckIn, CheckInFailure | EventNotFound | Forbidden>
  /** Callers have checked the ORGANIZER role. */
  readonly undoCheckIn: (
    organizer: Organizer,
    eventId: EventId,
    code: string
  ) => Effect.Effect<void, UndoFailure | EventNotFound | Forbidden>
}>() {
  static readonly layer = Layer.effect(
    Tickets,
    Effect.gen(function*() {
      const repo = yield* TicketsRepo
      const bookings = yield* BookingsRepo
      const events = yield* Events
      const transactions = yield* Transactions
      const audit = yield* AuditLog
      const jobs = yield* JobQueue

      const ownBooking = (userId: UserId, bookingId: BookingId) =>
        bookings.findById(bookingId).pipe(
          Effect.filterOrFail(
            (booking) => Option.isSome(booking) && booking.value.userId === userId,
            () => BookingNotFound.of(bookingId)
          ),
          Effect.asVoid
        )

      const ownEvent = (organizer: Organizer, eventId: EventId) =>
        events.get(Option.some(organizer), eventId).pipe(
          Effect.flatMap((event) => requireOwner(organizer.id, event.organizerId, "events"))
        )

      return {
        listForBooking: (userId, bookingId) => ownBooking(userId, bookingId).pipe(Effect.zipRight(repo.listByBooking(bookingId))),

        ticketOfBooking: (userId, bookingId, code) =>
          ownBooking(userId, bookingId).pipe(
            Effect.zipRight(repo.findInBooking(bookingId, code)),
            Effect.flatMap(Option.match({ onNone: () => Effect.fail(TicketNotFound.of(code)), onSome: Effect.succeed }))
          ),

        // A check-in, its audit entry and its checkin.created announcement commit together; a
        // repeat under the same key changed nothing and writes neither again.
        checkIn: (organizer, eventId, code, idempotencyId) =>
          ownEvent(organizer, eventId).pipe(
            Effect.zipRight(transactions.run(
              repo.checkIn(eventId, code, idempotencyId).pipe(
                Effect.tap(({ checkIn, repeat }) =>
                  repeat ? Effect.void : Effect.zipRight(
                    audit.record({
                      action: "checkin.created",
                      subject: { type: "ticket", id: null },
                      eventId,
                      changes: { code: { before: null, after: checkIn.code }, status: { before: "VALID", after: "CHECKED_IN" } }
                    }),
                    jobs.enqueue(Announcements.checkinCreated(eventId, checkIn))
                  )
                ),
                Effect.map(({ checkIn }) => checkIn)
              )
            )),
            Effect.tap((checkIn) =>
              Effect.logInfo("ticket checked in").pipe(Effect.annotateLogs({ eventId, bookingId: checkIn.bookingId }))
            )
          ),

        undoCheckIn: (organizer, eventId, code) =>
          ownEvent(organizer, eventId).pipe(
            Effect.zipRight(transactions.run(
              repo.undoCheckIn(eventId, code).pipe(
                Effect.zipRight(audit.record({
                  action: "checkin.undone",
                  subject: { type: "ticket", id: null },
                  eventId,
                  changes: { code: { before: code, after: code }, status: { before: "CHECKED_IN", after: "VALID" } }
                }))
              )
            )),
            Effect.tap(() => Effect.logInfo("check-in undone").pipe(Effect.annotateLogs({ eventId })))
          )
      }
    })
  ).pipe(traced(Tickets, {
    listForBooking: (userId, bookingId) => ({ "user.id": userId, "booking.id": bookingId }),
    ticketOfBooking: (userId, bookingId) => ({ "user.id": userId, "booking.id": bookingId }),
    checkIn: (_, eventId) => ({ "event.id": eventId }),
    undoCheckIn: (_, eventId) => ({ "event.id": eventId })
  }))
}
