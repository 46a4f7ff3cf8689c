import { Schema } from "effect"
import { EventId, UserId } from "./Ids.ts"
import { PageParams } from "./Paging.ts"
import { plainText, strictPayload } from "./Payload.ts"

export const EventStatus = Schema.Literal("DRAFT", "PUBLISHED", "CANCELLED").annotations({
  identifier: "EventStatus",
  description: "DRAFT: seen by its organizer only, not bookable; PUBLISHED: listed and bookable; " +
    "CANCELLED: deleted by its organizer, no longer listed or bookable"
})
export type EventStatus = typeof EventStatus.Type

/** An ISO 4217 currency code: what an event's ticket prices are in. */
export const Currency = Schema.String.pipe(
  Schema.pattern(/^[A-Z]{3}$/, { message: () => "must be an ISO 4217 currency code: three upper-case letters, e.g. EUR" })
).annotations({ identifier: "Currency", description: "ISO 4217, three upper-case letters (e.g. EUR, USD)", examples: ["EUR"] })

/** What an event's prices are in when its organizer names no currency. */
export const DEFAULT_CURRENCY = "EUR"

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
  currency: Currency.annotations({ description: "What its ticket types' prices are in (ISO 4217)" }),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}).annotations({ identifier: "Event" })
export type Event = typeof Event.Type

/** A list of events, as the listings answer it. */
export const EventList = Schema.Array(Event)

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
  salesEnd: Schema.optional(SalesBound("end")),
  currency: Schema.optional(Currency.annotations({ description: "What ticket prices are in (ISO 4217; default EUR)" })),
  status: Schema.optional(
    Schema.Literal("DRAFT", "PUBLISHED").annotations({
      description: "DRAFT keeps the event to its organizer until POST /events/{id}/publish (default PUBLISHED)"
    })
  )
}).annotations({ identifier: "CreateEvent", ...strictPayload })
export type CreateEvent = typeof CreateEvent.Type

const EventChanges = Schema.Struct({
  title: Schema.optional(Title),
  description: Schema.optional(Description),
  date: Schema.optional(EventDate),
  location: Schema.optional(Location),
  totalTickets: Schema.optional(TotalTickets),
  salesStart: Schema.optional(SalesBound("start")),
  salesEnd: Schema.optional(SalesBound("end")),
  currency: Schema.optional(Currency)
}).annotations(strictPayload)

export const UpdateEvent = EventChanges.pipe(
  Schema.filter((changes) => Object.keys(changes).length > 0, {
    message: () => "Provide at least one of title, description, date, location, totalTickets, salesStart, salesEnd, currency"
  })
).annotations({ identifier: "UpdateEvent" })
export type UpdateEvent = typeof UpdateEvent.Type

const DAY_MS = 86_400_000
const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

const isCalendarDate = (s: string) => {
  const match = CALENDAR_DATE.exec(s)
  if (match === null) return false
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number]
  return year >= EVENT_YEARS.from && year <= EVENT_YEARS.to && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

/**
 * A bound on events' dates in a query: a calendar day (UTC) or a date-time with its offset. A day
 * stands for its first instant as `from` and its last as `to`, so both bounds include it.
 */
const DateBound = (bound: "from" | "to") =>
  Schema.String.pipe(
    Schema.filter((s) => isCalendarDate(s) || isEventDate(s), {
      message: () =>
        `must be a date (2030-12-01) or a date-time with a time zone (2030-12-01T10:00:00Z), from year ${EVENT_YEARS.from} to ${EVENT_YEARS.to}`
    }),
    Schema.compose(Schema.transform(Schema.String, Schema.DateFromSelf, {
      strict: true,
      decode: (s) => CALENDAR_DATE.test(s) ? new Date(Date.parse(`${s}T00:00:00Z`) + (bound === "to" ? DAY_MS - 1 : 0)) : new Date(s),
      encode: (date) => date.toISOString()
    }))
  ).annotations({
    jsonSchema: {
      type: "string",
      anyOf: [{ format: "date" }, { format: "date-time" }],
      description: bound === "from"
        ? `Only events on or after this date (a day, UTC, or a date-time with its offset; years ${EVENT_YEARS.from}–${EVENT_YEARS.to}). Given, it replaces the default of upcoming events only`
        : `Only events on or before this date (a whole day, UTC, or a date-time with its offset; years ${EVENT_YEARS.from}–${EVENT_YEARS.to})`
    },
    arbitrary: () => (fc) => fc.date({ min: new Date(earliest), max: new Date(latest), noInvalidDate: true })
  })

const SEARCH_MAX = 200

const SearchText = (description: string) =>
  Schema.Trim.pipe(
    Schema.maxLength(SEARCH_MAX, { message: () => `must be at most ${SEARCH_MAX} characters` }),
    plainText({ multiline: false })
  ).annotations({ jsonSchema: { type: "string", maxLength: SEARCH_MAX, description } })

const BooleanParam = (description: string) => Schema.BooleanFromString.annotations({ jsonSchema: { type: "boolean", description } })

export const EventSort = Schema.Literal("date", "-date", "title", "-availableTickets").annotations({
  jsonSchema: {
    type: "string",
    enum: ["date", "-date", "title", "-availableTickets"],
    default: "date",
    description:
      "date: soonest first (default); -date: latest first; title: A to Z (ignoring case); -availableTickets: most tickets left first"
  }
})
export type EventSort = typeof EventSort.Type

export const ListEventsParams = Schema.Struct({
  q: Schema.optional(SearchText(
    "Words, each found (ignoring case, anywhere in a word) in the title, description or location; at most 200 characters"
  )),
  from: Schema.optional(DateBound("from")),
  to: Schema.optional(DateBound("to")),
  location: Schema.optional(SearchText("Part of the location, ignoring case; at most 200 characters")),
  available: Schema.optional(BooleanParam("true: only events with tickets left (false: no filter)")),
  sort: Schema.optional(EventSort),
  includePast: Schema.optional(BooleanParam("true: events whose date has passed as well (default: upcoming only, unless `from` is given)")),
  ...PageParams
}).pipe(
  Schema.filter(({ from, to }) => from === undefined || to === undefined || from <= to || "to: must not be before from")
)
export type ListEventsParams = typeof ListEventsParams.Type
