/**
 * Background work as typed values. A job is written to the outbox as the JSON its schema encodes,
 * published to BullMQ under its tag as the job name, and decoded by the worker with the same schema.
 */
import { Schema } from "effect"
import { BookingId, EventId, HoldId, UserId } from "../Domain/Ids.ts"

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

/** One changed field of an event, typed per field so a date stays a date through the queue. */
export const FieldChange = Schema.Union(
  Schema.Struct({ field: Schema.Literal("title", "description", "location"), before: Schema.String, after: Schema.String }),
  Schema.Struct({ field: Schema.Literal("date"), before: Schema.Date, after: Schema.Date }),
  Schema.Struct({ field: Schema.Literal("totalTickets"), before: Schema.Int, after: Schema.Int })
)
export type FieldChange = typeof FieldChange.Type

/** What attendees are told about the event, as it stood when the change committed. */
export const EventSnapshot = Schema.Struct({
  title: Schema.String,
  date: Schema.Date,
  location: Schema.String
})
export type EventSnapshot = typeof EventSnapshot.Type

export const EventUpdated = Schema.TaggedStruct("EventUpdated", {
  eventId: EventId,
  event: EventSnapshot,
  changes: Schema.NonEmptyArray(FieldChange)
})
export type EventUpdated = typeof EventUpdated.Type

export const EventCancelled = Schema.TaggedStruct("EventCancelled", {
  eventId: EventId,
  event: EventSnapshot
})
export type EventCancelled = typeof EventCancelled.Type

export const Job = Schema.Union(
  BookingsConfirmed,
  BookingConfirmed,
  BookingCancelled,
  WaitlistOffer,
  HoldExpiry,
  EventUpdated,
  EventCancelled
)
export type Job = typeof Job.Type
export type JobName = Job["_tag"]

export const QueueNames = ["email-queue", "notification-queue", "holds-queue"] as const
export type QueueName = typeof QueueNames[number]

/**
 * One customer's emails go to the email queue; anything attendees must hear about fans out on the
 * notification queue; hold expiries wait on their own queue, so a backlog of mail never delays them.
 */
export const queueOf = (job: Job): QueueName => {
  switch (job._tag) {
    case "BookingsConfirmed":
    case "BookingConfirmed":
    case "BookingCancelled":
    case "WaitlistOffer":
      return "email-queue"
    case "HoldExpiry":
      return "holds-queue"
    case "EventUpdated":
    case "EventCancelled":
      return "notification-queue"
  }
}

/** When a job may run: a hold's expiry not before the hold's time is up; anything else at once. */
export const runAtOf = (job: Job): Date | null => job._tag === "HoldExpiry" ? job.expiresAt : null

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
