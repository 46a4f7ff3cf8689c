import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AuditEntry, EventAuditParams } from "../Audit/AuditEntry.ts"
import { EventAlreadyStarted, EventNotDraft, EventNotFound, Forbidden, TicketsAlreadySold, Unauthorized } from "../Domain/Errors.ts"
import { CreateEvent, Event, EventList, ListEventsParams, UpdateEvent } from "../Domain/Event.ts"
import { EventIdFromPath } from "../Domain/Ids.ts"
import { PageQuery } from "../Domain/Paging.ts"
import { Attendee, AttendeesParams, EventStats } from "../Domain/Sales.ts"
import { Authentication, documentOptionalBearer, OptionalAuthentication } from "../Edge/Authentication.ts"
import { addErrors } from "../Edge/ErrorResponse.ts"
import { documentPageHeaders } from "../Edge/PageHeaders.ts"

const id = HttpApiSchema.param("id", EventIdFromPath)

/** OpenAPI: the attendee list also comes as CSV. */
const documentCsv = (operation: Record<string, any>): Record<string, any> => {
  const ok = operation.responses?.["200"]
  if (ok?.content !== undefined) {
    ok.content["text/csv"] = {
      schema: { type: "string", description: "A header record, then one record per booking (RFC 4180, CRLF)" }
    }
  }
  return operation
}

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("list", "/")
      .setUrlParams(ListEventsParams)
      .addSuccess(EventList)
      .annotate(OpenApi.Summary, "Search published events; upcoming ones, soonest first, by default")
      .annotate(
        OpenApi.Description,
        "The body is the page; `X-Total-Count` gives how many events match and `Link` the first, previous, next and last pages."
      )
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .add(
    HttpApiEndpoint.post("create", "/")
      .setPayload(CreateEvent)
      .addSuccess(Event, { status: 201 })
      .pipe(addErrors(Forbidden))
      // Also after authentication: the token's account may be gone (see EventsRepo.create).
      .pipe(addErrors(Unauthorized))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Create an event, published or as a draft (organizers)")
  )
  // Before `/:id`: "mine" is not an id.
  .add(
    HttpApiEndpoint.get("mine", "/mine")
      .setUrlParams(PageQuery)
      .addSuccess(Schema.Array(Event))
      .pipe(addErrors(Forbidden))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Your events, drafts and cancelled ones included, soonest first (organizers)")
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .add(
    HttpApiEndpoint.get("get")`/${id}`
      .addSuccess(Event)
      .pipe(addErrors(EventNotFound))
      .middleware(OptionalAuthentication)
      .annotate(OpenApi.Summary, "One event, cancelled ones included")
      .annotate(
        OpenApi.Description,
        "Public. A draft is found only with its organizer's bearer token; a token that is sent must be valid (else 401)."
      )
      .annotate(OpenApi.Transform, documentOptionalBearer)
  )
  .add(
    HttpApiEndpoint.put("update")`/${id}`
      .setPayload(UpdateEvent)
      .addSuccess(Event)
      .pipe(addErrors(Forbidden, EventNotFound, TicketsAlreadySold))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Change some of an event's fields (its organizer)")
      .annotate(
        OpenApi.Description,
        "Changing totalTickets moves availableTickets by the same amount; it cannot go below the tickets already sold or held. " +
          "Tickets added go to the waiting list first. salesStart/salesEnd: null removes that bound."
      )
  )
  .add(
    HttpApiEndpoint.del("cancel")`/${id}`
      .addSuccess(HttpApiSchema.NoContent)
      .pipe(addErrors(Forbidden, EventNotFound))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Cancel an event (its organizer)")
      .annotate(
        OpenApi.Description,
        "The event leaves the listing and can no longer be booked or changed; it and existing bookings show it as CANCELLED."
      )
  )
  .add(
    HttpApiEndpoint.post("publish")`/${id}/publish`
      .addSuccess(Event)
      .pipe(addErrors(Forbidden, EventNotFound, EventNotDraft, EventAlreadyStarted))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Publish a draft (its organizer)")
  )
  .add(
    HttpApiEndpoint.get("attendees")`/${id}/attendees`
      .setUrlParams(AttendeesParams)
      .addSuccess(Schema.Array(Attendee))
      .pipe(addErrors(Forbidden, EventNotFound))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "The event's bookings, oldest first (its organizer)")
      .annotate(
        OpenApi.Description,
        "JSON pages by default. With `Accept: text/csv` or `?format=csv`, the whole list as CSV (RFC 4180), streamed; " +
          "a text cell starting with =, +, -, @, tab or carriage return is prefixed with ' so spreadsheets do not run it."
      )
      .annotate(OpenApi.Transform, (operation) => documentCsv(documentPageHeaders(operation)))
  )
  .add(
    HttpApiEndpoint.get("stats")`/${id}/stats`
      .addSuccess(EventStats)
      .pipe(addErrors(Forbidden, EventNotFound))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Tickets and bookings of the event, sales by day (its organizer)")
  )
  .add(
    HttpApiEndpoint.get("audit")`/${id}/audit`
      .setUrlParams(EventAuditParams)
      .addSuccess(Schema.Array(AuditEntry))
      .pipe(addErrors(Forbidden, EventNotFound))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "The event's audit trail, newest first (its organizer)")
      .annotate(
        OpenApi.Description,
        "Who changed what and when: the event's own changes and its bookings', holds' and waiting list's, each with its " +
          "actor (a user with their role, `system` for expiries and offers, `admin`), the fields before and after, the " +
          "request id and the client address. `action` keeps one action (`booking.created`) or an area (`booking.`); " +
          "`from` and `to` bound the time (ISO 8601 with a time zone). The body is the page; `X-Total-Count` and `Link` as on other lists."
      )
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .annotate(OpenApi.Title, "Events")
  .prefix("/events")
{}
