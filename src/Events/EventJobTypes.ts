/**
 * The jobs the Events service emits when a published event changes or is cancelled: its
 * attendees hear of it (a fan-out on the notification queue). Their names and fields are the wire
 * format of outbox rows and queued jobs: jobs already queued must still decode.
 */
import { Schema } from "effect"
import { EventId } from "../Domain/Ids.ts"
import { type JobOf, jobType } from "../Jobs/JobCatalogue.ts"

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

export const EventJobTypes = [
  jobType(EventUpdated, { queue: "notification-queue" }),
  jobType(EventCancelled, { queue: "notification-queue" })
] as const

export type EventJob = JobOf<typeof EventJobTypes>
