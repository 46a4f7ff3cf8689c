/**
 * Background work as typed values. A job is written to the outbox as the JSON its schema encodes,
 * published to BullMQ under its tag as the job name, and decoded by the worker with the same schema.
 */
import { Schema } from "effect"
import { BookingId, EventId, UserId } from "../Domain/Ids.ts"

export const BookingConfirmed = Schema.TaggedStruct("BookingConfirmed", {
  bookingId: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int
})
export type BookingConfirmed = typeof BookingConfirmed.Type

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

export const Job = Schema.Union(BookingConfirmed, EventUpdated, EventCancelled)
export type Job = typeof Job.Type
export type JobName = Job["_tag"]

export const QueueNames = ["email-queue", "notification-queue"] as const
export type QueueName = typeof QueueNames[number]

/** Confirmations go to the email queue; anything attendees must hear about fans out on the notification queue. */
export const queueOf = (job: Job): QueueName => job._tag === "BookingConfirmed" ? "email-queue" : "notification-queue"
