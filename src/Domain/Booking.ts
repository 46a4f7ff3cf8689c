import { Schema } from "effect"
import { Event } from "./Event.ts"
import { BookingId, EventId, UserId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"

export const BookingStatus = Schema.Literal("CONFIRMED", "CANCELLED").annotations({
  identifier: "BookingStatus",
  description: "CANCELLED once its customer cancelled it (its tickets went back on sale)"
})

export const Booking = Schema.Struct({
  id: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int.annotations({ description: "Tickets it holds now (a cancelled booking: those it held when cancelled)" }),
  status: BookingStatus,
  cancelledAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  event: Event
}).annotations({ identifier: "Booking" })
export type Booking = typeof Booking.Type

const TicketsCount = Schema.Int.pipe(Schema.positive()).annotations({
  message: () => "must be a positive integer",
  description: "1 to MAX_TICKETS_PER_BOOKING (default 10)"
})

export const BookTickets = Schema.Struct({
  eventId: EventId.annotations({ message: () => "must be a positive integer" }),
  ticketsCount: TicketsCount
}).annotations({ identifier: "BookTickets", ...strictPayload })
export type BookTickets = typeof BookTickets.Type

/** PATCH /bookings/:id: keep this many of the booking's tickets, give the rest back. */
export const ChangeTickets = Schema.Struct({
  ticketsCount: Schema.Int.pipe(Schema.positive()).annotations({
    message: () => "must be a positive integer",
    description: "1 to one less than the booking's current ticketsCount"
  })
}).annotations({ identifier: "ChangeTickets", ...strictPayload })
export type ChangeTickets = typeof ChangeTickets.Type

/** Tickets asked for by a hold or a waiting-list entry: the same bounds as a booking. */
export const RequestedTickets = TicketsCount
