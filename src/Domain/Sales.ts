/** What an organizer sees of an event's sales: its attendees, one row per booking, and its figures. */
import { Schema } from "effect"
import { BookingStatus } from "./Booking.ts"
import { Currency } from "./Event.ts"
import { BookingId, TicketTypeId } from "./Ids.ts"
import { PageParams } from "./Paging.ts"

/** How many tickets of one type a booking has. */
export const AttendeeTickets = Schema.Struct({
  ticketTypeId: TicketTypeId,
  name: Schema.String,
  count: Schema.Int
}).annotations({ identifier: "AttendeeTickets" })
export type AttendeeTickets = typeof AttendeeTickets.Type

export const Attendee = Schema.Struct({
  bookingId: BookingId,
  customerEmail: Schema.String,
  ticketsCount: Schema.Int,
  status: BookingStatus,
  createdAt: Schema.Date,
  ticketTypes: Schema.Array(AttendeeTickets).annotations({
    description: "The booking's tickets by type (a cancelled booking's: those it had when cancelled), in the types' order"
  })
}).annotations({ identifier: "Attendee" })
export type Attendee = typeof Attendee.Type

/**
 * The columns of the CSV export, in order: the Attendee's fields. New columns go at the end, so a
 * spreadsheet reading columns by position keeps working.
 */
export const ATTENDEE_COLUMNS = ["bookingId", "customerEmail", "ticketsCount", "status", "createdAt", "ticketTypes"] as const

/** An attendee's CSV record, in the order of ATTENDEE_COLUMNS; the types as `2 x General admission; 1 x VIP`. */
export const attendeeRecord = (attendee: Attendee): ReadonlyArray<string | number | Date> => [
  attendee.bookingId,
  attendee.customerEmail,
  attendee.ticketsCount,
  attendee.status,
  attendee.createdAt,
  attendee.ticketTypes.map(({ count, name }) => `${count} x ${name}`).join("; ")
]

export const AttendeesParams = Schema.Struct({
  format: Schema.optional(
    Schema.Literal("json", "csv").annotations({
      jsonSchema: {
        type: "string",
        enum: ["json", "csv"],
        description: "csv: the whole list as CSV, like `Accept: text/csv` (limit and offset are then ignored)"
      }
    })
  ),
  ...PageParams
})
export type AttendeesParams = typeof AttendeesParams.Type

export const SalesDay = Schema.Struct({
  day: Schema.String.annotations({ description: "A calendar day in UTC, YYYY-MM-DD" }),
  tickets: Schema.Int
}).annotations({ identifier: "SalesDay" })

export const TicketTypeSales = Schema.Struct({
  ticketTypeId: TicketTypeId,
  name: Schema.String,
  priceCents: Schema.Int,
  sold: Schema.Int.annotations({ description: "Tickets of the type sold and not cancelled (checked in or not)" }),
  held: Schema.Int.annotations({ description: "Tickets of the type in open holds" }),
  left: Schema.Int.annotations({ description: "Tickets of the type still on sale (see TicketType.left)" }),
  checkedIn: Schema.Int.annotations({ description: "Tickets of the type checked in at the door" }),
  revenueCents: Schema.Int.annotations({ description: "priceCents x sold, in the event's currency (cancelled tickets excluded)" })
}).annotations({ identifier: "TicketTypeSales" })
export type TicketTypeSales = typeof TicketTypeSales.Type

export const EventStats = Schema.Struct({
  totalTickets: Schema.Int,
  availableTickets: Schema.Int,
  soldTickets: Schema.Int.annotations({ description: "Tickets in confirmed bookings" }),
  bookings: Schema.Int.annotations({ description: "Confirmed bookings" }),
  cancelledBookings: Schema.Int.annotations({ description: "Bookings their customers cancelled (their tickets went back on sale)" }),
  salesByDay: Schema.Array(SalesDay).annotations({
    description: "Tickets of confirmed bookings by the day they were booked, oldest first; days without sales are left out"
  }),
  currency: Currency.annotations({ description: "The event's currency: what revenueCents are in" }),
  ticketTypes: Schema.Array(TicketTypeSales).annotations({ description: "Each ticket type's sales, the default type first" })
}).annotations({ identifier: "EventStats" })
export type EventStats = typeof EventStats.Type
