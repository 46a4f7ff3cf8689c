/**
 * The contract of the `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header,
 * with Stripe's rules): what an endpoint declares to accept it. The behaviour is in Idempotency.ts.
 */
import type { HttpApiEndpoint } from "@effect/platform"
import { OpenApi } from "@effect/platform"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import { Context, Option, Schema } from "effect"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { IdempotencyKeyInUse, IdempotencyKeyReused } from "../Edge/HttpErrors.ts"

/** 1 to 255 printable ASCII characters, taken as they are (case and quotes included). */
const KEY_RULE = { message: () => "must be 1 to 255 printable ASCII characters" }
export const IdempotencyKey = Schema.String.pipe(
  Schema.minLength(1, KEY_RULE),
  Schema.maxLength(255, KEY_RULE), // also the bound the OpenAPI document shows
  Schema.pattern(/^[\x20-\x7e]*$/, KEY_RULE)
).annotations({
  description: "Makes a retry safe: the same key with the same request gives the first response again " +
    "(with `Idempotent-Replayed: true`) instead of doing it twice. Your own per user, kept for " +
    "IDEMPOTENCY_TTL_HOURS (24). A UUID is a good key."
})

/** The header as the router decodes it (header names arrive lower-cased). */
export const IdempotencyKeyHeaders = Schema.Struct({ "idempotency-key": Schema.optionalWith(IdempotencyKey, { exact: true }) })
export type IdempotencyKeyHeaders = typeof IdempotencyKeyHeaders.Type

/** Marks a replayed response. */
export const REPLAYED_HEADER = "idempotent-replayed"

/** Statuses that are never stored, so never replayed (see Idempotency.ts). */
const neverReplayed = (status: string) => status === "400" || status === "401" || status.startsWith("5")

/** OpenAPI: the header's canonical spelling, and `Idempotent-Replayed` on every response that can be replayed. */
const documentIdempotency = (operation: Record<string, any>): Record<string, any> => {
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === "header" && parameter.name === "idempotency-key") parameter.name = "Idempotency-Key"
  }
  for (const [status, response] of Object.entries<Record<string, any>>(operation.responses ?? {})) {
    if (!neverReplayed(status)) {
      response.headers = {
        ...response.headers,
        "Idempotent-Replayed": {
          description: "`true` when this is the stored response of an earlier request with the same Idempotency-Key",
          schema: { type: "string", enum: ["true"] }
        }
      }
    }
  }
  return operation
}

/**
 * Declares that an endpoint takes an `Idempotency-Key`: the header (validated, 400 naming it), the
 * two errors it adds, and the OpenAPI notes. Its handler runs the operation through `idempotent`.
 */
export const acceptsIdempotencyKey = <
  Name extends string,
  Method extends HttpMethod,
  Path,
  UrlParams,
  Payload,
  Success,
  Error,
  R,
  RE
>(endpoint: HttpApiEndpoint.HttpApiEndpoint<Name, Method, Path, UrlParams, Payload, never, Success, Error, R, RE>) => {
  const earlier = Context.getOption(endpoint.annotations, OpenApi.Transform)
  return endpoint
    .setHeaders(IdempotencyKeyHeaders)
    .addError(errorResponse(IdempotencyKeyInUse))
    .addError(errorResponse(IdempotencyKeyReused))
    .annotate(
      OpenApi.Transform,
      Option.match(earlier, {
        onNone: () => documentIdempotency,
        onSome: (transform) => (operation: Record<string, any>) => documentIdempotency(transform(operation))
      })
    )
}
