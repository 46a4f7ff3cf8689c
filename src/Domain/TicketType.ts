/**
 * Ticket types (issue 19): the kinds of ticket an event sells (general admission, VIP...), each
 * with its price and optional quota, all sharing the event's capacity. Every event has one default
 * type, which a booking naming no type books.
 */
import { Schema } from "effect"
import { Currency, EventDate } from "./Event.ts"
import { EventId, TicketTypeId } from "./Ids.ts"
import { plainText, strictPayload } from "./Payload.ts"

/** The default type every event is created with (and existing events got by migration 0011). */
export const DEFAULT_TICKET_TYPE = "General admission"

export const TicketType = Schema.Struct({
  id: TicketTypeId,
  eventId: EventId,
  name: Schema.String,
  priceCents: Schema.Int.annotations({ description: "The price of one ticket in the currency's minor unit (cents)" }),
  currency: Currency.annotations({ description: "The event's currency (ISO 4217)" }),
  quota: Schema.NullOr(Schema.Int).annotations({
    description: "At most this many tickets of the type are sold (null: only the event's capacity limits it)"
  }),
  salesStart: Schema.NullOr(Schema.Date).annotations({ description: "The type goes on sale at this time (null: as the event)" }),
  salesEnd: Schema.NullOr(Schema.Date).annotations({ description: "The type's sales close at this time (null: as the event's)" }),
  maxPerBooking: Schema.NullOr(Schema.Int).annotations({ description: "At most this many of the type in one booking (null: no limit)" }),
  isDefault: Schema.Boolean.annotations({ description: "What a booking naming no ticket type books; it cannot be deleted" }),
  left: Schema.Int.annotations({
    description: "Tickets of the type still on sale: the smaller of what its quota leaves and the event's tickets left"
  })
}).annotations({ identifier: "TicketType" })
export type TicketType = typeof TicketType.Type

export const TicketTypeList = Schema.Array(TicketType)

/** What is left of a type: its quota's rest, never more than the event's tickets left (types share them). */
export const ticketsLeft = (quota: number | null, taken: number, eventAvailable: number): number =>
  Math.max(0, quota === null ? eventAvailable : Math.min(quota - taken, eventAvailable))

const Name = Schema.Trim.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(100, { message: () => "must be at most 100 characters" }),
  plainText({ multiline: false })
).annotations({ description: "1–100 characters, trimmed, unique within the event (ignoring case)" })

const PriceCents = Schema.Int.pipe(
  Schema.between(0, 2_147_483_647, { message: () => "must be an integer from 0 to 2147483647 (cents)" })
).annotations({ description: "The price of one ticket in the currency's minor unit (cents), 0 for free" })

const Quota = Schema.Int.pipe(
  Schema.between(1, 1_000_000, { message: () => "must be an integer from 1 to 1000000" })
).annotations({ description: "At most this many tickets of the type; never below what is already sold or held of it" })

const MaxPerBooking = Schema.Int.pipe(
  Schema.between(1, 1_000_000, { message: () => "must be an integer from 1 to 1000000" })
).annotations({ description: "At most this many tickets of the type in one booking" })

const SalesBound = (bound: "start" | "end") =>
  Schema.NullOr(EventDate.annotations({
    description: bound === "start"
      ? "When the type goes on sale (ISO 8601 with a time zone; null: as the event)"
      : "When the type's sales close (ISO 8601 with a time zone; null: as the event's)"
  }))

export const CreateTicketType = Schema.Struct({
  name: Name,
  priceCents: PriceCents,
  quota: Schema.optional(Schema.NullOr(Quota)),
  salesStart: Schema.optional(SalesBound("start")),
  salesEnd: Schema.optional(SalesBound("end")),
  maxPerBooking: Schema.optional(Schema.NullOr(MaxPerBooking))
}).annotations({ identifier: "CreateTicketType", ...strictPayload })
export type CreateTicketType = typeof CreateTicketType.Type

const TicketTypeChanges = Schema.Struct({
  name: Schema.optional(Name),
  priceCents: Schema.optional(PriceCents),
  quota: Schema.optional(Schema.NullOr(Quota)),
  salesStart: Schema.optional(SalesBound("start")),
  salesEnd: Schema.optional(SalesBound("end")),
  maxPerBooking: Schema.optional(Schema.NullOr(MaxPerBooking))
}).annotations(strictPayload)

/** A change to a type: the fields given change, null removes a bound or limit. */
export const UpdateTicketType = TicketTypeChanges.pipe(
  Schema.filter((changes) => Object.keys(changes).length > 0, {
    message: () => "Provide at least one of name, priceCents, quota, salesStart, salesEnd, maxPerBooking"
  })
).annotations({ identifier: "UpdateTicketType" })
export type UpdateTicketType = typeof UpdateTicketType.Type

/** A type's sales window, bounded at both ends, must open before it closes: the 400's message, or undefined. */
export const salesWindowProblem = (start: Date | null, end: Date | null): string | undefined =>
  start !== null && end !== null && start.getTime() >= end.getTime() ? "salesEnd: must be after salesStart" : undefined
