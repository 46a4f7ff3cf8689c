import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Booking } from "../Domain/Booking.ts"
import {
  BookingFailed,
  EventAlreadyStarted,
  EventNotFound,
  HoldAlreadyConfirmed,
  HoldExpired,
  HoldNotFound,
  NotEnoughTickets,
  Overloaded
} from "../Domain/Errors.ts"
import { Hold, PlaceHold } from "../Domain/Hold.ts"
import { HoldIdFromPath } from "../Domain/Ids.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { takesTickets } from "../Edge/Refusals.ts"
import { acceptsIdempotencyKey } from "../Idempotency/IdempotencyKey.ts"

const id = HttpApiSchema.param("id", HoldIdFromPath)

export class HoldsApi extends HttpApiGroup.make("holds")
  .add(
    HttpApiEndpoint.post("place", "/")
      .setPayload(PlaceHold)
      .addSuccess(Hold, { status: 201 })
      .pipe(takesTickets)
      .addError(errorResponse(NotEnoughTickets))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Hold tickets while you pay (customers)")
      .annotate(
        OpenApi.Description,
        "The tickets leave availableTickets at once. Confirm before expiresAt (HOLD_TTL_SECONDS after now, default 600), " +
          "else the hold expires and they go back on sale. Send an `Idempotency-Key` to make retries safe: the same key " +
          "with the same body gets the first response again (marked `Idempotent-Replayed: true`), never a second hold."
      )
  )
  .add(
    HttpApiEndpoint.get("mine", "/mine")
      .addSuccess(Schema.Array(Hold))
      .annotate(OpenApi.Summary, "List your open holds (waiting-list offers included), soonest to expire first")
  )
  .add(
    HttpApiEndpoint.post("confirm")`/${id}/confirm`
      .addSuccess(Booking, { status: 201 })
      .addError(errorResponse(HoldNotFound))
      .addError(errorResponse(HoldExpired))
      .addError(errorResponse(HoldAlreadyConfirmed))
      .addError(errorResponse(EventNotFound))
      .addError(errorResponse(EventAlreadyStarted))
      .addError(errorResponse(Overloaded))
      .addError(errorResponse(BookingFailed))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Turn your hold into a booking")
      .annotate(
        OpenApi.Description,
        "With an `Idempotency-Key`, a retry gets the first response again (marked `Idempotent-Replayed: true`), " +
          "the booking made, rather than 409 HoldAlreadyConfirmed."
      )
  )
  .add(
    HttpApiEndpoint.del("release")`/${id}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(errorResponse(HoldNotFound))
      .addError(errorResponse(HoldExpired))
      .addError(errorResponse(HoldAlreadyConfirmed))
      .addError(errorResponse(Overloaded))
      .addError(errorResponse(BookingFailed))
      .annotate(OpenApi.Summary, "Release your hold: its tickets go back on sale")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Holds")
  .prefix("/holds")
{}
