import { Schema } from "effect"
import { EventId, UserId } from "../Domain/Ids.ts"
import { DecimalInt, plainText, strictPayload } from "../Domain/Payload.ts"

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
  salesStart: Schema.NullOr(Schema.Date).annotations({ description: "Tickets go on sale at this time (null: at once)" }),
  salesEnd: Schema.NullOr(Schema.Date).annotations({ description: "Sales close at this time (null: when the event starts)" }),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}).annotations({ identifier: "Event" })
export type Event = typeof Event.Type

const text = (min: number, max: number, multiline: boolean) =>
  Schema.Trim.pipe(
    Schema.minLength(min, { message: () => "must not be empty" }),
    Schema.maxLength(max, { message: () => `must be at most ${max} characters` }),
    plainText({ multiline })
  ).annotations({
    description: `${min}–${max} characters, trimmed, no control characters${multiline ? " but tab and line breaks" : ""}`
  })

const Title = text(1, 200, false)
const Description = text(0, 5000, true)
const Location = text(1, 200, false)

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/

/** Event dates, converted to UTC, lie in these years: Date parsing would roll an absurd one into another. */
export const EVENT_YEARS = { from: 2000, to: 9999 } as const
const earliest = Date.UTC(EVENT_YEARS.from, 0, 1)
const latest = Date.UTC(EVENT_YEARS.to + 1, 0, 1) - 1

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate()

/** Every field in range (Date.parse turns February 30 into March 2), and the instant within EVENT_YEARS. */
const isEventDate = (s: string) => {
  const match = ISO_DATE_TIME.exec(s)
  if (match === null) return false
  const [year, month, day, hour, minute, second = 0, offsetHours = 0, offsetMinutes = 0] = match.slice(1).map((part) =>
    part === undefined ? undefined : Number(part)
  ) as Array<number>
  const fieldsValid = month! >= 1 && month! <= 12 && day! >= 1 && day! <= daysIn(year!, month!) &&
    hour! <= 23 && minute! <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59
  const instant = Date.parse(s)
  return fieldsValid && instant >= earliest && instant <= latest
}

/** A date-time with an explicit offset, e.g. 2030-12-01T10:00:00Z; whether it lies in the future is checked on use. */
export const EventDate = Schema.String.pipe(
  Schema.filter(isEventDate, {
    message: () =>
      `must be a real ISO 8601 date-time with a time zone, from year ${EVENT_YEARS.from} to ${EVENT_YEARS.to} in UTC, e.g. 2030-12-01T10:00:00Z`
  }),
  Schema.compose(Schema.Date)
).annotations({
  description: `ISO 8601 date-time with a time zone, in the future, before year ${EVENT_YEARS.to + 1} in UTC`,
  examples: [new Date("2030-12-01T10:00:00Z")],
  arbitrary: () => (fc) => fc.date({ min: new Date(earliest), max: new Date(latest), noInvalidDate: true })
})

export const TotalTickets = Schema.Int.pipe(
  Schema.between(1, 1_000_000, { message: () => "must be an integer from 1 to 1000000" })
)

/** A bound of the sales window: any real date (it may already have passed); null on update removes the bound. */
const SalesBound = (bound: "start" | "end") =>
  Schema.NullOr(EventDate.annotations({
    description: bound === "start"
      ? "When tickets go on sale (ISO 8601 with a time zone); before it, booking, holding and the waiting list answer 409 SalesClosed"
      : "When sales close (ISO 8601 with a time zone); from then on, booking, holding and the waiting list answer 409 SalesClosed"
  }))

export const CreateEvent = Schema.Struct({
  title: Title,
  description: Schema.optionalWith(Description, { default: () => "" }),
  date: EventDate,
  location: Location,
  totalTickets: TotalTickets,
  salesStart: Schema.optional(SalesBound("start")),
  salesEnd: Schema.optional(SalesBound("end"))
}).annotations({ identifier: "CreateEvent", ...strictPayload })
export type CreateEvent = typeof CreateEvent.Type

const EventChanges = Schema.Struct({
  title: Schema.optional(Title),
  description: Schema.optional(Description),
  date: Schema.optional(EventDate),
  location: Schema.optional(Location),
  totalTickets: Schema.optional(TotalTickets),
  salesStart: Schema.optional(SalesBound("start")),
  salesEnd: Schema.optional(SalesBound("end"))
}).annotations(strictPayload)

export const UpdateEvent = EventChanges.pipe(
  Schema.filter((changes) => Object.keys(changes).length > 0, {
    message: () => "Provide at least one of title, description, date, location, totalTickets, salesStart, salesEnd"
  })
).annotations({ identifier: "UpdateEvent" })
export type UpdateEvent = typeof UpdateEvent.Type

export const ListEventsParams = Schema.Struct({
  includePast: Schema.optional(Schema.BooleanFromString).annotations({
    description: "true to list events whose date has passed as well (default false)"
  }),
  limit: Schema.optional(DecimalInt.pipe(Schema.between(1, 500))),
  offset: Schema.optional(DecimalInt.pipe(Schema.between(0, 1_000_000)))
})
export type ListEventsParams = typeof ListEventsParams.Type
