import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import {
  EventNotFound,
  Forbidden,
  TicketsAlreadySold,
  TicketTypeInUse,
  TicketTypeIsDefault,
  TicketTypeNameTaken,
  TicketTypeNotFound
} from "../Domain/Errors.ts"
import { EventIdFromPath, TicketTypeIdFromPath } from "../Domain/Ids.ts"
import { CreateTicketType, TicketType, TicketTypeList, UpdateTicketType } from "../Domain/TicketType.ts"
import { Authentication, documentOptionalBearer, OptionalAuthentication } from "../Edge/Authentication.ts"
import { addErrors } from "../Edge/ErrorResponse.ts"

const id = HttpApiSchema.param("id", EventIdFromPath)
const typeId = HttpApiSchema.param("typeId", TicketTypeIdFromPath)

export class TicketTypesApi extends HttpApiGroup.make("ticketTypes")
  .add(
    HttpApiEndpoint.get("list")`/${id}/ticket-types`
      .addSuccess(TicketTypeList)
      .pipe(addErrors(EventNotFound))
      .middleware(OptionalAuthentication)
      .annotate(OpenApi.Summary, "The event's ticket types, each with what is left of it")
      .annotate(
        OpenApi.Description,
        "Public for a published (or cancelled) event; a draft's are found only with its organizer's bearer token, as the draft is. " +
          "The default type (what a booking naming no type books) comes first. `left` is the smaller of what the type's quota " +
          "leaves and the event's tickets left: the types share the event's capacity."
      )
      .annotate(OpenApi.Transform, documentOptionalBearer)
  )
  .add(
    HttpApiEndpoint.post("create")`/${id}/ticket-types`
      .setPayload(CreateTicketType)
      .addSuccess(TicketType, { status: 201 })
      .pipe(addErrors(Forbidden, EventNotFound, TicketTypeNameTaken))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Add a ticket type to an event (its organizer)")
      .annotate(
        OpenApi.Description,
        "priceCents is in the event's currency. No quota: only the event's capacity limits the type. " +
          "salesStart/salesEnd narrow when the type is on sale; maxPerBooking caps it per booking."
      )
  )
  .add(
    HttpApiEndpoint.patch("update")`/${id}/ticket-types/${typeId}`
      .setPayload(UpdateTicketType)
      .addSuccess(TicketType)
      .pipe(addErrors(Forbidden, EventNotFound, TicketTypeNotFound, TicketTypeNameTaken, TicketsAlreadySold))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Change some of a ticket type's fields (its event's organizer)")
      .annotate(
        OpenApi.Description,
        "The fields given change; null removes a quota, a sales bound or the per-booking limit. The quota cannot go below " +
          "the tickets of the type already sold or held (409 TicketsAlreadySold). The default type's quota follows the " +
          "event's totalTickets while it equals it."
      )
  )
  .add(
    HttpApiEndpoint.del("remove")`/${id}/ticket-types/${typeId}`
      .addSuccess(HttpApiSchema.NoContent)
      .pipe(addErrors(Forbidden, EventNotFound, TicketTypeNotFound, TicketTypeInUse, TicketTypeIsDefault))
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "Delete a ticket type nothing was sold or held of (its event's organizer)")
      .annotate(
        OpenApi.Description,
        "Once any ticket of the type was sold or held it stays (409 TicketTypeInUse): set its salesEnd to stop selling it. " +
          "The default type cannot be deleted (409 TicketTypeIsDefault)."
      )
  )
  .annotate(OpenApi.Title, "Ticket types")
  .prefix("/events")
{}
