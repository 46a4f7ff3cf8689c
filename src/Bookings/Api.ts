import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Booking, BookTickets, ChangeTickets } from "../Domain/Booking.ts"
import {
  BookingAlreadyCancelled,
  BookingFailed,
  BookingNotFound,
  EventAlreadyStarted,
  NotEnoughTickets,
  Overloaded,
  TicketCheckedIn
} from "../Domain/Errors.ts"
import { BookingIdFromPath } from "../Domain/Ids.ts"
import { PageQuery } from "../Domain/Paging.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { addErrors } from "../Edge/ErrorResponse.ts"
import { documentPageHeaders } from "../Edge/PageHeaders.ts"
import { takesTickets } from "../Edge/Refusals.ts"
import { acceptsIdempotencyKey } from "../Idempotency/IdempotencyKey.ts"

const id = HttpApiSchema.param("id", BookingIdFromPath)

export class BookingsApi extends HttpApiGroup.make("bookings")
  .add(
    HttpApiEndpoint.post("book", "/")
      .setPayload(BookTickets)
      .addSuccess(Booking, { status: 201 })
      .pipe(takesTickets, addErrors(NotEnoughTickets))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Book tickets for an event (customers)")
      .annotate(
        OpenApi.Description,
        "`ticketsCount` books the event's default ticket type; with `ticketTypeId`, that type; or send `items` " +
          "(`[{ticketTypeId, count}]`, each type once) for several types at once: all of them or nothing. " +
          "Send an `Idempotency-Key` to make retries safe: the same key with the same body gets the first " +
          "response again (marked `Idempotent-Replayed: true`), never a second booking."
      )
  )
  .add(
    HttpApiEndpoint.get("mine", "/my-bookings")
      .setUrlParams(PageQuery)
      .addSuccess(Schema.Array(Booking))
      .annotate(OpenApi.Summary, "List your bookings, newest first (cancelled ones too, with cancelledAt)")
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .add(
    HttpApiEndpoint.del("cancel")`/${id}`
      .addSuccess(Booking)
      .pipe(addErrors(BookingNotFound, BookingAlreadyCancelled, EventAlreadyStarted, TicketCheckedIn, Overloaded, BookingFailed))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Cancel your booking")
      .annotate(
        OpenApi.Description,
        "Its tickets go back on sale (first to the waiting list) in the same transaction, and a cancellation email is sent. " +
          "Answers the booking with status CANCELLED. With an `Idempotency-Key`, a retry gets this answer again " +
          "(marked `Idempotent-Replayed: true`) rather than 409 BookingAlreadyCancelled."
      )
  )
  .add(
    HttpApiEndpoint.patch("changeTickets")`/${id}`
      .setPayload(ChangeTickets)
      .addSuccess(Booking)
      .pipe(addErrors(BookingNotFound, BookingAlreadyCancelled, EventAlreadyStarted, TicketCheckedIn, Overloaded, BookingFailed))
      .annotate(OpenApi.Summary, "Give back some of your booking's tickets")
      .annotate(
        OpenApi.Description,
        "Keeps ticketsCount (1 to one less than now) and puts the rest back on sale; an email confirms it. The tickets " +
          "given back are the last issued ones not checked in, whatever their type; 409 TicketCheckedIn if too few are not."
      )
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Bookings")
  .prefix("/bookings")
{}
