/**
 * What an endpoint that takes tickets from an event (booking, holding, joining the waiting list)
 * may answer besides success: who may not, and what the event's engine may refuse. Declared once,
 * so the three endpoints and their OpenAPI entries cannot drift apart.
 */
import type { HttpApiEndpoint } from "@effect/platform"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import {
  BookingFailed,
  CustomerLimitReached,
  EventAlreadyStarted,
  EventNotFound,
  Forbidden,
  Overloaded,
  SalesClosed,
  TicketTypeNotFound,
  Unauthorized
} from "../Domain/Errors.ts"
import { addErrors } from "./ErrorResponse.ts"

export const takesTickets = <Name extends string, Method extends HttpMethod, Path, UrlParams, Payload, Headers, Success, Error, R, RE>(
  endpoint: HttpApiEndpoint.HttpApiEndpoint<Name, Method, Path, UrlParams, Payload, Headers, Success, Error, R, RE>
) =>
  endpoint
    .pipe(
      addErrors(
        Forbidden,
        EventNotFound,
        TicketTypeNotFound,
        EventAlreadyStarted,
        SalesClosed,
        CustomerLimitReached,
        Unauthorized,
        Overloaded,
        BookingFailed
      )
    )
