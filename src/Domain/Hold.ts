import { Schema } from "effect"
import { checkAsked, TicketsAsked, TicketsOfType } from "./Booking.ts"
import { EventId, HoldId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"

/** Tickets set aside for a customer until `expiresAt`; confirming turns them into a booking. */
export const Hold = Schema.Struct({
  id: HoldId,
  eventId: EventId,
  ticketsCount: Schema.Int,
  items: Schema.Array(TicketsOfType).annotations({ description: "Its tickets by type (ticketsCount is their sum)" }),
  expiresAt: Schema.Date.annotations({ description: "Unconfirmed by then, the hold expires and its tickets go back on sale" }),
  status: Schema.Literal("HELD"),
  createdAt: Schema.Date
}).annotations({ identifier: "Hold" })
export type Hold = typeof Hold.Type

export const PlaceHold = Schema.Struct({
  eventId: EventId.annotations({ message: () => "must be a positive integer" }),
  ...TicketsAsked
}).pipe(Schema.filter(checkAsked)).annotations({ identifier: "PlaceHold", ...strictPayload })
export type PlaceHold = typeof PlaceHold.Type
