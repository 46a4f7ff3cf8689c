import { Schema } from "effect"
import { BookingId, EventId, UserId } from "../Domain/Ids.ts"
import { Event } from "../Events/Event.ts"
import { strictPayload } from "../Domain/Payload.ts"

export const Booking = Schema.Struct({
  id: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int,
  createdAt: Schema.Date,
  event: Event
}).annotations({ identifier: "Booking" })
export type Booking = typeof Booking.Type

export const BookTickets = Schema.Struct({
  eventId: EventId.annotations({ message: () => "must be a positive integer" }),
  ticketsCount: Schema.Int.pipe(Schema.positive()).annotations({
    message: () => "must be a positive integer",
    description: "1 to MAX_TICKETS_PER_BOOKING (default 10)"
  })
}).annotations({ identifier: "BookTickets", ...strictPayload })
export type BookTickets = typeof BookTickets.Type
