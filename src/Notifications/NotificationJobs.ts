/**
 * What the customers' emails are made of and when they go: the Notifications feature's part of the
 * job contract (Jobs/JobProcessor.ts), one handler per job type it owns. Tests call the handlers
 * through the application's JobProcessor over in-memory layers.
 */
import { Context, Effect, Either, Layer, Option } from "effect"
import { UsersRepo } from "../Accounts/UsersRepo.ts"
import { type Attendee, BookingsRepo } from "../Bookings/BookingsRepo.ts"
import type { BookingId } from "../Domain/Ids.ts"
import type { EventCancelled, EventUpdated } from "../Events/EventJobTypes.ts"
import { HoldsRepo } from "../Holds/HoldsRepo.ts"
import type { BookingCancelled, BookingConfirmed, BookingsConfirmed, WaitlistOffer } from "../Inventory/InventoryJobTypes.ts"
import { JobCannotRun, type JobHandlers } from "../Jobs/JobProcessor.ts"
import { recordEmail } from "../Telemetry/Metrics.ts"
import { Deliveries, type OnceEachOptions, type Send } from "./Deliveries.ts"
import * as Emails from "./Emails.ts"
import { type Mail, Mailer, type MailError } from "./Mailer.ts"

/** Attendees are read and notified this many at a time, so a large event never loads whole. */
export const ATTENDEE_BATCH = 100
const SENDS_IN_FLIGHT = 5

/** The job types that end in an email. */
export type NotificationJob = BookingsConfirmed | BookingConfirmed | BookingCancelled | WaitlistOffer | EventUpdated | EventCancelled

export class NotificationJobs extends Context.Tag("NotificationJobs")<NotificationJobs, JobHandlers<NotificationJob>>() {
  static readonly layer = Layer.effect(
    NotificationJobs,
    Effect.gen(function*() {
      const bookings = yield* BookingsRepo
      const holds = yield* HoldsRepo
      const users = yield* UsersRepo
      const deliveries = yield* Deliveries
      const mailer = yield* Mailer

      // Counted where the mail is sent: a delivery already made (a retried job) counts as neither.
      const delivery = (key: string, kind: NotificationJob["_tag"], jobId: string, mail: Mail): Send<MailError> => ({
        delivery: { key, kind, jobId, recipient: mail.to },
        send: (id) =>
          mailer.send(mail, id).pipe(
            Effect.tapBoth({ onSuccess: () => recordEmail(kind, "sent"), onFailure: () => recordEmail(kind, "failed") })
          )
      })

      /** Every send of `sends` is tried; the first failure, if any, fails the job (its retry sends what is left). */
      const deliverAll = (sends: ReadonlyArray<Send<MailError>>, options?: OnceEachOptions) =>
        Effect.flatMap(deliveries.onceEach(sends, options), (results) => {
          const failed = results.find(Either.isLeft)
          return failed === undefined ? Effect.void : Effect.fail(failed.left)
        })

      const deliver = (key: string, kind: NotificationJob["_tag"], jobId: string, mail: Mail) =>
        deliverAll([delivery(key, kind, jobId, mail)])

      /**
       * The confirmations of `ids` (those still there), each keyed by booking, not by job: one per
       * booking however it was published, and a retry (or an older per-booking job for the same
       * booking) sends none twice. Their QR images and .ics are drawn by the mail thread; the sends
       * start together, and the mailer hands its thread the ones in flight as one message.
       */
      const confirmations = (jobId: string, kind: NotificationJob["_tag"], ids: ReadonlyArray<BookingId>) =>
        bookings.findWithEmails(ids).pipe(
          Effect.map((found) =>
            found.map(({ booking, email, tickets }) =>
              delivery(`booking-confirmed-${booking.id}`, kind, jobId, Emails.bookingConfirmation(booking, email, tickets))
            )
          )
        )

      const confirmBooking = (jobId: string, job: BookingConfirmed) =>
        Effect.gen(function*() {
          const sends = yield* confirmations(jobId, job._tag, [job.bookingId])
          if (sends.length === 0) {
            return yield* new JobCannotRun({ message: `Booking ${job.bookingId} or its user no longer exists` })
          }
          yield* deliverAll(sends)
        })

      /**
       * One confirmation per booking of the batch. Every booking is tried; if any send failed, the
       * job fails and its retry sends only what is still unsent. Up to SENDS_IN_FLIGHT at a time,
       * which the mailer hands its thread as one message: the event loop pays one wake-up for
       * them, and the MIME work is the thread's.
       */
      const confirmBookings = (jobId: string, job: BookingsConfirmed) =>
        Effect.gen(function*() {
          const sends = yield* confirmations(jobId, job._tag, job.bookings.map(({ bookingId }) => bookingId))
          if (sends.length < job.bookings.length) {
            yield* Effect.logWarning("confirmations skipped: bookings or their users no longer exist").pipe(
              Effect.annotateLogs({ jobId, missing: job.bookings.length - sends.length })
            )
          }
          yield* deliverAll(sends, { concurrency: SENDS_IN_FLIGHT })
        })

      const emailOf = (userId: BookingConfirmed["userId"]) =>
        users.findById(userId).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(new JobCannotRun({ message: `User ${userId} no longer exists` })),
            onSome: (user) => Effect.succeed(user.email)
          }))
        )

      // Keyed by booking and what is left of it: one email per change, however often the job runs.
      const cancelBooking = (jobId: string, job: BookingCancelled) =>
        Effect.gen(function*() {
          const booking = yield* bookings.findById(job.bookingId)
          if (Option.isNone(booking)) return yield* new JobCannotRun({ message: `Booking ${job.bookingId} no longer exists` })
          const to = yield* emailOf(job.userId)
          yield* deliver(
            `booking-cancelled-${job.bookingId}-${job.ticketsLeft}`,
            job._tag,
            jobId,
            Emails.bookingCancelled(job, booking.value, to)
          )
        })

      const offer = (jobId: string, job: WaitlistOffer) =>
        Effect.gen(function*() {
          const hold = yield* holds.findById(job.holdId)
          if (Option.isNone(hold)) return yield* new JobCannotRun({ message: `Hold ${job.holdId} no longer exists` })
          // An offer already taken up, released or expired needs no email any more.
          if (hold.value.status !== "HELD") return
          const to = yield* emailOf(job.userId)
          yield* deliver(`waitlist-offer-${job.holdId}`, job._tag, jobId, Emails.waitlistOffer(job, hold.value.event, to))
        })

      /** One email per attendee, page by page; each keyed by job and attendee. */
      const notifyAttendees = (jobId: string, job: EventUpdated | EventCancelled, render: (attendee: Attendee) => Mail) =>
        Effect.gen(function*() {
          let afterUserId = 0
          while (true) {
            const page = yield* bookings.attendees(job.eventId, { afterUserId, limit: ATTENDEE_BATCH })
            yield* deliverAll(
              page.map((attendee) => delivery(`${jobId}-user-${attendee.userId}`, job._tag, jobId, render(attendee))),
              { concurrency: SENDS_IN_FLIGHT }
            )
            if (page.length < ATTENDEE_BATCH) return
            afterUserId = page[page.length - 1]!.userId
          }
        })

      return {
        BookingsConfirmed: confirmBookings,
        BookingConfirmed: confirmBooking,
        BookingCancelled: cancelBooking,
        WaitlistOffer: offer,
        EventUpdated: (jobId, job) => notifyAttendees(jobId, job, (attendee) => Emails.eventUpdated(job, attendee)),
        EventCancelled: (jobId, job) => notifyAttendees(jobId, job, (attendee) => Emails.eventCancelled(job, attendee))
      }
    })
  )
}
