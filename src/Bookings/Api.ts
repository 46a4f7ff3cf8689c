import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Domain/Authentication.ts"
import {
  BookingFailed,
  errorResponse,
  EventAlreadyStarted,
  EventNotFound,
  Forbidden,
  NotEnoughTickets,
  Overloaded
} from "../Domain/Errors.ts"
import { acceptsIdempotencyKey } from "../Platform/IdempotencyKey.ts"
import { documentPageHeaders, PageQuery } from "../Platform/Paging.ts"
import { Booking, BookTickets } from "./Booking.ts"

export class BookingsApi extends HttpApiGroup.make("bookings")
  .add(
    HttpApiEndpoint.post("book", "/")
      .setPayload(BookTickets)
      .addSuccess(Booking, { status: 201 })
      .addError(errorResponse(Forbidden))
      .addError(errorResponse(EventNotFound))
      .addError(errorResponse(NotEnoughTickets))
      .addError(errorResponse(EventAlreadyStarted))
      .addError(errorResponse(Overloaded))
      .addError(errorResponse(BookingFailed))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Book tickets for an event (customers)")
      .annotate(
        OpenApi.Description,
        "Send an `Idempotency-Key` to make retries safe: the same key with the same body gets the first " +
          "response again (marked `Idempotent-Replayed: true`), never a second booking."
      )
  )
  .add(
    HttpApiEndpoint.get("mine", "/my-bookings")
      .setUrlParams(PageQuery)
      .addSuccess(Schema.Array(Booking))
      .annotate(OpenApi.Summary, "List your bookings, newest first")
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Bookings")
  .prefix("/bookings")
{}
