/**
 * Every failure a client can see, as a typed value with its HTTP status.
 *
 * Domain code fails with these classes; `errorResponse` gives the schema that puts them on the wire
 * as `{ "message", "status", "code", ...details }` (the class tag becomes `code`), so the server,
 * the OpenAPI document and the typed client all agree on one error shape.
 */
import { HttpApiSchema } from "@effect/platform"
import { Option, Schema, SchemaAST } from "effect"

const message = { message: Schema.String }

// 400
export class ValidationError extends Schema.TaggedError<ValidationError>()(
  "ValidationError",
  message,
  HttpApiSchema.annotations({ status: 400, description: "The request does not match the schema" })
) {}

export class InvalidJson extends Schema.TaggedError<InvalidJson>()(
  "InvalidJson",
  message,
  HttpApiSchema.annotations({ status: 400, description: "The request body is not valid JSON" })
) {}

// 401
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  message,
  HttpApiSchema.annotations({ status: 401, description: "Missing, malformed, expired or forged bearer token" })
) {
  /** A valid token whose account is gone (the database was reset or restored under the same JWT_SECRET). */
  static readonly accountGone = new Unauthorized({ message: "The account this token was issued for no longer exists; sign in again" })
}

export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()(
  "InvalidCredentials",
  message,
  HttpApiSchema.annotations({ status: 401, description: "Unknown email or wrong password" })
) {}

// 403
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  message,
  HttpApiSchema.annotations({ status: 403, description: "Signed in, but not allowed to do this" })
) {}

// 404
export class EventNotFound extends Schema.TaggedError<EventNotFound>()(
  "EventNotFound",
  message,
  HttpApiSchema.annotations({
    status: 404,
    description: "No such event (another organizer's draft counts as none), or, to change or book it, it was cancelled"
  })
) {
  static of(id: number) {
    return new EventNotFound({ message: `Event ${id} not found` })
  }
}

export class BookingNotFound extends Schema.TaggedError<BookingNotFound>()(
  "BookingNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such booking of yours" })
) {
  static of(id: number) {
    return new BookingNotFound({ message: `Booking ${id} not found` })
  }
}

export class HoldNotFound extends Schema.TaggedError<HoldNotFound>()(
  "HoldNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such hold of yours, or you released it" })
) {
  static of(id: number) {
    return new HoldNotFound({ message: `Hold ${id} not found` })
  }
}

export class NotOnWaitlist extends Schema.TaggedError<NotOnWaitlist>()(
  "NotOnWaitlist",
  message,
  HttpApiSchema.annotations({ status: 404, description: "You are not on this event's waiting list" })
) {
  static of(eventId: number) {
    return new NotOnWaitlist({ message: `You are not on the waiting list of event ${eventId}` })
  }
}

export class RouteNotFound extends Schema.TaggedError<RouteNotFound>()(
  "RouteNotFound",
  message,
  HttpApiSchema.annotations({ status: 404 })
) {}

export class OperatorApiDisabled extends Schema.TaggedError<OperatorApiDisabled>()(
  "OperatorApiDisabled",
  message,
  HttpApiSchema.annotations({ status: 404, description: "The operator endpoints are off: ADMIN_TOKEN is not set" })
) {
  static readonly instance = new OperatorApiDisabled({ message: "The operator endpoints are disabled: set ADMIN_TOKEN to enable them" })
}

// 405
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()(
  "MethodNotAllowed",
  message,
  HttpApiSchema.annotations({ status: 405 })
) {}

// 409
export class EmailTaken extends Schema.TaggedError<EmailTaken>()(
  "EmailTaken",
  message,
  HttpApiSchema.annotations({ status: 409, description: "An account with this email already exists" })
) {}

export class NotEnoughTickets extends Schema.TaggedError<NotEnoughTickets>()(
  "NotEnoughTickets",
  { ...message, available: Schema.Int },
  HttpApiSchema.annotations({ status: 409, description: "Fewer tickets are left than were asked for" })
) {
  static of(requested: number, available: number) {
    const left = available === 0 ? "The event is sold out" : `Only ${available} ticket${available === 1 ? "" : "s"} left`
    return new NotEnoughTickets({ message: `${left}; ${requested} requested`, available })
  }
}

export class EventAlreadyStarted extends Schema.TaggedError<EventAlreadyStarted>()(
  "EventAlreadyStarted",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The event's date has passed; it can no longer be booked" })
) {
  static of(id: number) {
    return new EventAlreadyStarted({ message: `Event ${id} has already started` })
  }
}

export class EventNotDraft extends Schema.TaggedError<EventNotDraft>()(
  "EventNotDraft",
  message,
  HttpApiSchema.annotations({ status: 409, description: "Only a draft can be published; this event is already published or cancelled" })
) {
  static of(id: number, status: "PUBLISHED" | "CANCELLED") {
    return new EventNotDraft({
      message: `Event ${id} is ${status === "PUBLISHED" ? "already published" : "cancelled"}; only a draft can be published`
    })
  }
}

export class TicketsAlreadySold extends Schema.TaggedError<TicketsAlreadySold>()(
  "TicketsAlreadySold",
  { ...message, sold: Schema.Int },
  HttpApiSchema.annotations({ status: 409, description: "totalTickets cannot go below the tickets already sold or held" })
) {
  static of(requested: number, sold: number) {
    return new TicketsAlreadySold({
      message: `totalTickets cannot be ${requested}: ${sold} tickets are already sold or held`,
      sold
    })
  }
}

export class BookingAlreadyCancelled extends Schema.TaggedError<BookingAlreadyCancelled>()(
  "BookingAlreadyCancelled",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The booking was already cancelled" })
) {
  static of(id: number) {
    return new BookingAlreadyCancelled({ message: `Booking ${id} is already cancelled` })
  }
}

export class HoldExpired extends Schema.TaggedError<HoldExpired>()(
  "HoldExpired",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The hold ran out of time; its tickets went back on sale" })
) {
  static of(id: number) {
    return new HoldExpired({ message: `Hold ${id} has expired; its tickets went back on sale` })
  }
}

export class HoldAlreadyConfirmed extends Schema.TaggedError<HoldAlreadyConfirmed>()(
  "HoldAlreadyConfirmed",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The hold was already turned into a booking" })
) {
  static of(id: number) {
    return new HoldAlreadyConfirmed({ message: `Hold ${id} is already confirmed; see your bookings` })
  }
}

export class CustomerLimitReached extends Schema.TaggedError<CustomerLimitReached>()(
  "CustomerLimitReached",
  { ...message, limit: Schema.Int, remaining: Schema.Int },
  HttpApiSchema.annotations({
    status: 409,
    description: "One customer may hold at most MAX_TICKETS_PER_CUSTOMER_PER_EVENT tickets of an event (booked, held or waited for)"
  })
) {
  static of(limit: number, current: number, requested: number) {
    const remaining = Math.max(0, limit - current)
    return new CustomerLimitReached({
      message:
        `At most ${limit} tickets per customer for this event: you have ${current} (booked, held or waited for), ${requested} more requested`,
      limit,
      remaining
    })
  }
}

export class SalesClosed extends Schema.TaggedError<SalesClosed>()(
  "SalesClosed",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The event's sales window (salesStart, salesEnd) is not open" })
) {
  static notYet(eventId: number, opens: Date) {
    return new SalesClosed({ message: `Sales for event ${eventId} open at ${opens.toISOString()}` })
  }
  static ended(eventId: number, closed: Date) {
    return new SalesClosed({ message: `Sales for event ${eventId} closed at ${closed.toISOString()}` })
  }
}

export class TicketsAvailable extends Schema.TaggedError<TicketsAvailable>()(
  "TicketsAvailable",
  { ...message, available: Schema.Int },
  HttpApiSchema.annotations({
    status: 409,
    description: "Enough tickets are left to book or hold them now; the waiting list is for sold-out demand"
  })
) {
  static of(requested: number, available: number) {
    return new TicketsAvailable({ message: `${available} tickets are left, enough for ${requested}: book or hold them instead`, available })
  }
}

export class AlreadyOnWaitlist extends Schema.TaggedError<AlreadyOnWaitlist>()(
  "AlreadyOnWaitlist",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "You are already on this event's waiting list (leave it first to change the count)"
  })
) {
  static of(eventId: number) {
    return new AlreadyOnWaitlist({ message: `You are already on the waiting list of event ${eventId}` })
  }
}

export class IdempotencyKeyInUse extends Schema.TaggedError<IdempotencyKeyInUse>()(
  "IdempotencyKeyInUse",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "A request with this Idempotency-Key is still being processed; retry once it has finished"
  })
) {
  static readonly instance = new IdempotencyKeyInUse({
    message: "A request with this Idempotency-Key is still being processed; retry in a moment to get its response"
  })
}

// 413
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  message,
  HttpApiSchema.annotations({ status: 413 })
) {}

// 415
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  message,
  HttpApiSchema.annotations({ status: 415, description: "A request body must be sent as Content-Type: application/json" })
) {}

// 500 / 503
export class InternalServerError extends Schema.TaggedError<InternalServerError>()(
  "InternalServerError",
  message,
  HttpApiSchema.annotations({ status: 500, description: "An unexpected failure; details are in the server log" })
) {
  static readonly instance = new InternalServerError({ message: "Internal server error" })
}

export class NotReady extends Schema.TaggedError<NotReady>()(
  "NotReady",
  message,
  HttpApiSchema.annotations({ status: 503, description: "A dependency (the database) is not answering" })
) {}

/** The server gave up on a request that ran past REQUEST_DEADLINE_MS; whatever it had not committed was rolled back. */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()(
  "RequestTimeout",
  message,
  HttpApiSchema.annotations({ status: 503, description: "The request took too long and was abandoned; try again" })
) {}

export class Overloaded extends Schema.TaggedError<Overloaded>()(
  "Overloaded",
  message,
  HttpApiSchema.annotations({
    status: 503,
    description: "Too many requests are waiting for this event; nothing was done. Retry after `Retry-After` seconds"
  })
) {
  static readonly instance = new Overloaded({ message: "Too many bookings are waiting for this event; try again in a moment" })
}

export class BookingFailed extends Schema.TaggedError<BookingFailed>()(
  "BookingFailed",
  message,
  HttpApiSchema.annotations({ status: 503, description: "The booking could not be recorded (details in the server log)" })
) {
  /** The transaction rolled back, twice: nothing was booked. */
  static readonly nothingBooked = new BookingFailed({ message: "The booking could not be recorded; nothing was booked. Try again" })
  /** The commit itself failed: PostgreSQL may or may not have applied it. */
  static readonly outcomeUnknown = new BookingFailed({
    message: "The booking could not be confirmed; check your bookings before trying again"
  })
  /** The same two for a change other than a booking (a cancellation, a hold, the waiting list). */
  static readonly nothingChanged = new BookingFailed({ message: "The change could not be recorded; nothing was changed. Try again" })
  static readonly changeUnknown = new BookingFailed({
    message: "The change could not be confirmed; check your bookings and holds before trying again"
  })
}

/** What every error body looks like on the wire. */
export interface ErrorBody {
  readonly message: string
  readonly status: number
  readonly code: string
}

const responses = new WeakMap<object, Schema.Schema.Any>()

/**
 * The wire schema of an error class: `{ code: <tag>, status, message, ...details }` ⇄ the class.
 * Memoised so that each error appears once in the API's error union and in the OpenAPI document.
 */
export const errorResponse = <Self, Tag extends string, Fields extends Schema.Struct.Fields>(
  errorClass: Schema.TaggedErrorClass<Self, Tag, Fields>
): Schema.Schema<Self, ErrorBody & Omit<Schema.Struct.Encoded<Fields>, "_tag">> => {
  const cached = responses.get(errorClass)
  if (cached) return cached as any
  const status = HttpApiSchema.getStatusError(errorClass)
  const { _tag, ...details } = errorClass.fields as Schema.Struct.Fields
  const wire = Schema.Struct({
    ...details,
    status: Schema.Literal(status),
    code: Schema.Literal(errorClass._tag)
  }).annotations({
    identifier: errorClass._tag,
    ...Option.match(SchemaAST.getDescriptionAnnotation(errorClass.ast), {
      onNone: () => ({}),
      onSome: (description) => ({ description })
    })
  })
  const schema = Schema.transform(wire, errorClass as unknown as Schema.Schema<Self, any>, {
    strict: false,
    decode: ({ code, status: _status, ...rest }) => ({ ...rest, _tag: code }),
    encode: ({ _tag, ...rest }) => ({ ...rest, code: _tag, status })
  }).annotations(HttpApiSchema.annotations({ status }))
  responses.set(errorClass, schema)
  return schema as any
}

// 422
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()(
  "IdempotencyKeyReused",
  message,
  HttpApiSchema.annotations({
    status: 422,
    description: "This Idempotency-Key was already used for a different request (another method, path or body)"
  })
) {
  static readonly instance = new IdempotencyKeyReused({
    message: "This Idempotency-Key was already used with a different request; use a new key for a new request"
  })
}

// 429
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()(
  "TooManyRequests",
  message,
  HttpApiSchema.annotations({
    status: 429,
    description: "Too many attempts from this address, or too many failed ones for this account; see Retry-After"
  })
) {
  static of(retryAfterSeconds: number) {
    return new TooManyRequests({ message: `Too many attempts; try again in ${retryAfterSeconds} seconds` })
  }
}
