/** The one declaration of the HTTP API: the server, the OpenAPI document and the typed client derive from it. */
import { HttpApi, OpenApi } from "@effect/platform"
import { AccountsApi } from "./Accounts/Api.ts"
import { AdminApi } from "./Admin/Api.ts"
import { BookingsApi } from "./Bookings/Api.ts"
import { ValidationError } from "./Domain/Errors.ts"
import { errorResponse } from "./Edge/ErrorResponse.ts"
import { InternalServerError, InvalidJson, PayloadTooLarge, RequestTimeout, UnsupportedMediaType } from "./Edge/HttpErrors.ts"
import { withoutPlatformDecodeError } from "./Edge/OpenApiDocument.ts"
import { EventsApi } from "./Events/Api.ts"
import { HealthApi } from "./Health/Api.ts"
import { HoldsApi } from "./Holds/Api.ts"
import { TicketsApi } from "./Tickets/Api.ts"
import { TicketTypesApi } from "./TicketTypes/Api.ts"
import { WaitlistApi } from "./Waitlist/Api.ts"
import { WebhooksApi } from "./Webhooks/Api.ts"

export class Api extends HttpApi.make("event-booking")
  .add(HealthApi)
  .add(AccountsApi)
  .add(EventsApi)
  .add(TicketTypesApi)
  .add(BookingsApi)
  .add(HoldsApi)
  .add(WaitlistApi)
  .add(TicketsApi)
  .add(WebhooksApi)
  .add(AdminApi)
  // Errors any endpoint can answer with.
  .addError(errorResponse(ValidationError))
  .addError(errorResponse(InvalidJson))
  .addError(errorResponse(PayloadTooLarge))
  .addError(errorResponse(UnsupportedMediaType))
  .addError(errorResponse(InternalServerError))
  .addError(errorResponse(RequestTimeout))
  .annotate(OpenApi.Title, "Event Booking API")
  .annotate(OpenApi.Version, "1.0.0")
  .annotate(
    OpenApi.Description,
    "Organizers publish events with a fixed number of tickets; customers book them. " +
      "Every error is `{ message, status, code }`."
  )
  .annotate(OpenApi.Transform, withoutPlatformDecodeError)
  .prefix("/api")
{}
