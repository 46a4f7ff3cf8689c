/**
 * The jobs the booking engine emits, as the job machinery carries them (Jobs/JobCatalogue.ts):
 * confirmations, cancellations, waiting-list offers and hold expiries. Their names and fields are
 * the wire format of outbox rows and queued jobs: jobs already queued must still decode.
 */
import { Schema } from "effect"
import { BookingId, EventId, HoldId, UserId } from "../Domain/Ids.ts"
import { type JobOf, jobType } from "../Jobs/JobCatalogue.ts"

const ConfirmedBooking = Schema.Struct({
  bookingId: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int
})

/**
 * The bookings one transaction of the booking engine made (of one event or several): each
 * customer gets their confirmation. One job for the batch, not one per booking: at an on-sale rush
 * a job per booking cost the outbox, the relay and the queue as much as the booking itself.
 */
export const BookingsConfirmed = Schema.TaggedStruct("BookingsConfirmed", {
  bookings: Schema.NonEmptyArray(ConfirmedBooking)
})
export type BookingsConfirmed = typeof BookingsConfirmed.Type

/** One booking's confirmation: what the engine wrote before BookingsConfirmed; such jobs still run. */
export const BookingConfirmed = Schema.TaggedStruct("BookingConfirmed", ConfirmedBooking.fields)
export type BookingConfirmed = typeof BookingConfirmed.Type

/** A customer cancelled a booking, or gave some of its tickets back (`ticketsLeft` > 0). */
export const BookingCancelled = Schema.TaggedStruct("BookingCancelled", {
  bookingId: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCancelled: Schema.Int,
  ticketsLeft: Schema.Int
})
export type BookingCancelled = typeof BookingCancelled.Type

/** Tickets freed for a waiting customer: a hold in their name until `expiresAt`. */
export const WaitlistOffer = Schema.TaggedStruct("WaitlistOffer", {
  holdId: HoldId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int,
  expiresAt: Schema.Date
})
export type WaitlistOffer = typeof WaitlistOffer.Type

/** Runs when a hold's time is up (published with a delay until `expiresAt`): its tickets come back unless it was confirmed. */
export const HoldExpiry = Schema.TaggedStruct("HoldExpiry", {
  holdId: HoldId,
  eventId: EventId,
  expiresAt: Schema.Date
})
export type HoldExpiry = typeof HoldExpiry.Type

/** Most bookings one merged BookingsConfirmed job carries (its worker reads and mails them as one batch). */
export const MERGED_BOOKINGS_MAX = 200

/**
 * BookingsConfirmed payloads (as encoded) of several transactions as one: the relay publishes the
 * confirmations of the commits it gathered as one job, so the queue and the worker pay their
 * per-job cost once for them, not once per commit. Each booking keeps its own delivery key, so a
 * booking confirmed by a merged job and again by its own row's job (re-published) is mailed once.
 */
export const mergeConfirmations = (payloads: ReadonlyArray<unknown>): unknown => {
  const [first] = payloads as ReadonlyArray<typeof BookingsConfirmed.Encoded & { readonly traceparent?: string }>
  return { ...first, bookings: (payloads as ReadonlyArray<typeof BookingsConfirmed.Encoded>).flatMap(({ bookings }) => bookings) }
}

/** The engine's job types: a customer's emails on the email queue, expiries on their own (a mail backlog never delays them). */
export const InventoryJobTypes = [
  jobType(BookingsConfirmed, {
    queue: "email-queue",
    merge: {
      max: MERGED_BOOKINGS_MAX,
      size: (payload) => (payload as typeof BookingsConfirmed.Encoded).bookings.length,
      combine: mergeConfirmations
    }
  }),
  jobType(BookingConfirmed, { queue: "email-queue" }),
  jobType(BookingCancelled, { queue: "email-queue" }),
  jobType(WaitlistOffer, { queue: "email-queue" }),
  // Not before the hold's time is up.
  jobType(HoldExpiry, { queue: "holds-queue", runAt: (job) => job.expiresAt })
] as const

export type InventoryJob = JobOf<typeof InventoryJobTypes>
