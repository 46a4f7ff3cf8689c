import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../Domain/Authentication.ts"
import { EventNotFound, errorResponse, Forbidden, TicketsAlreadySold, Unauthorized } from "../Domain/Errors.ts"
import { EventIdFromPath } from "../Domain/Ids.ts"
import { CreateEvent, Event, ListEventsParams, UpdateEvent } from "./Event.ts"

const id = HttpApiSchema.param("id", EventIdFromPath)

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.get("list", "/")
      .setUrlParams(ListEventsParams)
      .addSuccess(Schema.Array(Event))
      .annotate(OpenApi.Summary, "List upcoming events, soonest first")
  )
  .add(
    HttpApiEndpoint.post("create", "/")
      .setPayload(CreateEvent)
      .addSuccess(Event, { status: 201 })
      .addError(errorResponse(Forbidden))
      // Also after authentication: the token's account may be gone (see EventsRepo.create).
      .addError(errorResponse(Unauthorized))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Publish an event (organizers)")
  )
  .add(
    HttpApiEndpoint.put("update")`/${id}`
      .setPayload(UpdateEvent)
      .addSuccess(Event)
      .addError(errorResponse(Forbidden))
      .addError(errorResponse(EventNotFound))
      .addError(errorResponse(TicketsAlreadySold))
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
      .addError(errorResponse(Forbidden))
      .addError(errorResponse(EventNotFound))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Cancel an event (its organizer)")
      .annotate(
        OpenApi.Description,
        "The event leaves the listing and can no longer be booked or changed; existing bookings show it as CANCELLED."
      )
  )
  .annotate(OpenApi.Title, "Events")
  .prefix("/events")
{}
