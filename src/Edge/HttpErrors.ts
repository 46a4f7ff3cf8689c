/**
 * Failures of the request rather than of the ticket core, as typed values with their HTTP status:
 * a body that is not JSON or too large, an unknown route or method, a timeout, a database that is
 * not answering, too many attempts, an Idempotency-Key misused, the operator endpoints switched off.
 * The edge, the idempotency and rate-limit features and the app's error shaping fail with these.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

const message = { message: Schema.String }

// 400
export class InvalidJson extends Schema.TaggedError<InvalidJson>()(
  "InvalidJson",
  message,
  HttpApiSchema.annotations({ status: 400, description: "The request body is not valid JSON" })
) {}

// 404
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

// 500
export class InternalServerError extends Schema.TaggedError<InternalServerError>()(
  "InternalServerError",
  message,
  HttpApiSchema.annotations({ status: 500, description: "An unexpected failure; details are in the server log" })
) {
  static readonly instance = new InternalServerError({ message: "Internal server error" })
}

// 503
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
