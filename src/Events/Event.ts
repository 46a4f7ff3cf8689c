import { Schema } from "effect"
import { EventId, UserId } from "../Domain/Ids.ts"
import { strictPayload } from "../Domain/Payload.ts"

export const EventStatus = Schema.Literal("SCHEDULED", "CANCELLED").annotations({
  identifier: "EventStatus",
  description: "CANCELLED once its organizer deleted it; only bookings still show such events"
})

export const Event = Schema.Struct({
  id: EventId,
  title: Schema.String,
  description: Schema.String,
  date: Schema.Date.annotations({ description: "ISO 8601, UTC" }),
  location: Schema.String,
  totalTickets: Schema.Int,
  availableTickets: Schema.Int,
  organizerId: UserId,
  status: EventStatus,
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}).annotations({ identifier: "Event" })
export type Event = typeof Event.Type

const text = (min: number, max: number) =>
  Schema.Trim.pipe(
    Schema.minLength(min, { message: () => "must not be empty" }),
    Schema.maxLength(max, { message: () => `must be at most ${max} characters` })
  ).annotations({ description: `${min}–${max} characters, trimmed` })

const Title = text(1, 200)
const Description = text(0, 5000)
const Location = text(1, 200)

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

/** A date-time with an explicit offset, e.g. 2030-12-01T10:00:00Z; whether it lies in the future is checked on use. */
export const EventDate = Schema.String.pipe(
  Schema.filter((s) => ISO_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)), {
    message: () => "must be an ISO 8601 date-time with a time zone, e.g. 2030-12-01T10:00:00Z"
  }),
  Schema.compose(Schema.Date)
).annotations({ description: "ISO 8601 date-time with a time zone, in the future", examples: [new Date("2030-12-01T10:00:00Z")] })

export const TotalTickets = Schema.Int.pipe(
  Schema.between(1, 1_000_000, { message: () => "must be an integer from 1 to 1000000" })
)

export const CreateEvent = Schema.Struct({
  title: Title,
  description: Schema.optionalWith(Description, { default: () => "" }),
  date: EventDate,
  location: Location,
  totalTickets: TotalTickets
}).annotations({ identifier: "CreateEvent", ...strictPayload })
export type CreateEvent = typeof CreateEvent.Type

const EventChanges = Schema.Struct({
  title: Schema.optional(Title),
  description: Schema.optional(Description),
  date: Schema.optional(EventDate),
  location: Schema.optional(Location),
  totalTickets: Schema.optional(TotalTickets)
}).annotations(strictPayload)

export const UpdateEvent = EventChanges.pipe(
  Schema.filter((changes) => Object.keys(changes).length > 0, {
    message: () => "Provide at least one of title, description, date, location, totalTickets"
  })
).annotations({ identifier: "UpdateEvent" })
export type UpdateEvent = typeof UpdateEvent.Type

export const ListEventsParams = Schema.Struct({
  includePast: Schema.optional(Schema.BooleanFromString).annotations({
    description: "true to list events whose date has passed as well (default false)"
  }),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))),
  offset: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 1_000_000)))
})
export type ListEventsParams = typeof ListEventsParams.Type
