/** What an organizer sees of an event's sales: its attendees, one row per booking, and its figures. */
import { Schema } from "effect"
import { BookingStatus } from "./Booking.ts"
import { BookingId } from "./Ids.ts"
import { PageParams } from "./Paging.ts"

export const Attendee = Schema.Struct({
  bookingId: BookingId,
  customerEmail: Schema.String,
  ticketsCount: Schema.Int,
  status: BookingStatus,
  createdAt: Schema.Date
}).annotations({ identifier: "Attendee" })
export type Attendee = typeof Attendee.Type

/** The columns of the CSV export, in order: the Attendee's fields. */
export const ATTENDEE_COLUMNS = ["bookingId", "customerEmail", "ticketsCount", "status", "createdAt"] as const

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

export const EventStats = Schema.Struct({
  totalTickets: Schema.Int,
  availableTickets: Schema.Int,
  soldTickets: Schema.Int.annotations({ description: "Tickets in confirmed bookings" }),
  bookings: Schema.Int.annotations({ description: "Confirmed bookings" }),
  cancelledBookings: Schema.Int.annotations({ description: "Bookings their customers cancelled (their tickets went back on sale)" }),
  salesByDay: Schema.Array(SalesDay).annotations({
    description: "Tickets of confirmed bookings by the day they were booked, oldest first; days without sales are left out"
  })
}).annotations({ identifier: "EventStats" })
export type EventStats = typeof EventStats.Type
