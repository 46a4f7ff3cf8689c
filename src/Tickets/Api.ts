import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  AlreadyCheckedIn,
  BookingNotFound,
  EventNotFound,
  Forbidden,
  TicketCancelled,
  TicketNotCheckedIn,
  TicketNotFound
} from "../Domain/Errors.ts"
import { BookingIdFromPath, EventIdFromPath } from "../Domain/Ids.ts"
import { CheckIn, CheckInRequest, Ticket } from "../Domain/Ticket.ts"
import { TicketCode } from "../Domain/TicketCode.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { addErrors } from "../Edge/ErrorResponse.ts"
import { acceptsIdempotencyKey } from "../Idempotency/IdempotencyKey.ts"

const bookingId = HttpApiSchema.param("id", BookingIdFromPath)
const eventId = HttpApiSchema.param("id", EventIdFromPath)
// Inline in the document, as every path parameter is (its type, bounds and description).
const codeDescription = "A ticket's code, e.g. 7K2QF-M9XRB-0C4TD-HW3NP (case and dashes ignored)"
const code = HttpApiSchema.param(
  "code",
  Schema.String.pipe(Schema.compose(TicketCode)).annotations({
    description: codeDescription,
    jsonSchema: { type: "string", minLength: 20, maxLength: 23, description: codeDescription }
  })
)

/** The QR images' cache policy: the browser may keep one (a code's image never changes), no shared cache may. */
export const QR_CACHE_CONTROL = "private, max-age=86400, immutable"

/** OpenAPI: the image responses' Cache-Control. */
const documentQrCache = (operation: Record<string, any>): Record<string, any> => {
  const ok = operation.responses?.["200"]
  if (ok !== undefined) {
    ok.headers = { ...ok.headers, "Cache-Control": { schema: { type: "string", enum: [QR_CACHE_CONTROL] } } }
  }
  return operation
}

const qrDescription = "The ticket's code as a QR image (error correction M), for the door's scanner. The booking's customer only."

export class TicketsApi extends HttpApiGroup.make("tickets")
  .add(
    HttpApiEndpoint.get("listForBooking")`/bookings/${bookingId}/tickets`
      .addSuccess(Schema.Array(Ticket))
      .pipe(addErrors(BookingNotFound))
      .annotate(OpenApi.Summary, "Your booking's tickets: each one's code, type and status at the door")
  )
  .add(
    HttpApiEndpoint.get("qrSvg")`/bookings/${bookingId}/tickets/${code}/qr.svg`
      .addSuccess(HttpApiSchema.Text({ contentType: "image/svg+xml" }))
      .pipe(addErrors(BookingNotFound, TicketNotFound))
      .annotate(OpenApi.Summary, "A ticket's QR image, SVG")
      .annotate(OpenApi.Description, qrDescription)
      .annotate(OpenApi.Transform, documentQrCache)
  )
  .add(
    HttpApiEndpoint.get("qrPng")`/bookings/${bookingId}/tickets/${code}/qr.png`
      .addSuccess(HttpApiSchema.Uint8Array({ contentType: "image/png" }))
      .pipe(addErrors(BookingNotFound, TicketNotFound))
      .annotate(OpenApi.Summary, "A ticket's QR image, PNG")
      .annotate(OpenApi.Description, qrDescription)
      .annotate(OpenApi.Transform, documentQrCache)
  )
  .add(
    HttpApiEndpoint.post("checkIn")`/events/${eventId}/check-ins`
      .setPayload(CheckInRequest)
      .addSuccess(CheckIn)
      .pipe(addErrors(Forbidden, EventNotFound, TicketNotFound, AlreadyCheckedIn, TicketCancelled))
      .pipe(acceptsIdempotencyKey)
      .annotate(OpenApi.Summary, "Check a ticket in at the door (the event's organizer)")
      .annotate(
        OpenApi.Description,
        "Answers the ticket with its type, the attendee's email and checkedInAt. A ticket is checked in once: the same code " +
          "again is 409 AlreadyCheckedIn with the first checkedInAt (of two scanners at once, exactly one gets 200). " +
          "A code of another event is 404 TicketNotFound; a cancelled ticket (or any ticket of a cancelled event) 409 " +
          "TicketCancelled. With an `Idempotency-Key`, a retry gets this 200 again (marked `Idempotent-Replayed: true`)."
      )
  )
  .add(
    HttpApiEndpoint.del("undoCheckIn")`/events/${eventId}/check-ins/${code}`
      .addSuccess(HttpApiSchema.NoContent)
      .pipe(addErrors(Forbidden, EventNotFound, TicketNotFound, TicketNotCheckedIn, TicketCancelled))
      .annotate(OpenApi.Summary, "Undo a check-in (the event's organizer)")
      .annotate(OpenApi.Description, "The ticket is VALID again. 409 TicketNotCheckedIn when it is not checked in.")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Tickets")
{}
