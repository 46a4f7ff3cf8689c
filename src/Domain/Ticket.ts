/**
 * A ticket as a customer and an organizer see it: one ticket of a booking, its code, its type and
 * its state at the door. Its row is `tickets` (migrations/0011); its statuses are TicketRows.ts's.
 */
import { Schema } from "effect"
import { BookingId, EventId, TicketTypeId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"
import { TicketCode } from "./TicketCode.ts"
import { TicketStatus } from "./TicketRows.ts"

export const Ticket = Schema.Struct({
  code: Schema.String.annotations({ description: "What the QR image carries and the door scans, e.g. 7K2QF-M9XRB-0C4TD-HW3NP" }),
  bookingId: BookingId,
  eventId: EventId,
  ticketTypeId: TicketTypeId,
  ticketTypeName: Schema.String,
  status: TicketStatus,
  checkedInAt: Schema.NullOr(Schema.Date).annotations({ description: "When it was checked in at the door (null unless CHECKED_IN)" }),
  cancelledAt: Schema.NullOr(Schema.Date).annotations({ description: "When it was cancelled (null unless CANCELLED)" })
}).annotations({ identifier: "Ticket" })
export type Ticket = typeof Ticket.Type

/** POST /events/:id/check-ins: the code a scanner read (or a person typed). */
export const CheckInRequest = Schema.Struct({ code: TicketCode }).annotations({ identifier: "CheckInRequest", ...strictPayload })
export type CheckInRequest = typeof CheckInRequest.Type

/** A ticket just checked in, with whose it is: what the door's screen shows. */
export const CheckIn = Schema.Struct({
  ...Ticket.fields,
  status: Schema.Literal("CHECKED_IN"),
  checkedInAt: Schema.Date,
  email: Schema.String.annotations({ description: "The attendee's (the booking's customer)" })
}).annotations({ identifier: "CheckIn" })
export type CheckIn = typeof CheckIn.Type
