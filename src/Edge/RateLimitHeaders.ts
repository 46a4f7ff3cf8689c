/**
 * Rate-limit state on responses, in the IETF draft's individual fields
 * (draft-ietf-httpapi-ratelimit-headers-07): `RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset` (seconds) for the policy closest to refusing, `RateLimit-Policy` listing every
 * policy as `<limit>;w=<window seconds>`, and `Retry-After` (seconds) on a 429.
 */
import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

export interface Quota {
  readonly limit: number
  readonly remaining: number
  readonly resetSeconds: number
  /** This request was refused (429): `Retry-After` is `resetSeconds`. */
  readonly exceeded: boolean
}

/** Adds the headers to whatever response this request ends with (success or error). */
export const setRateLimitHeaders = (quota: Quota, policy: string) =>
  HttpApp.appendPreResponseHandler((_, response) =>
    Effect.succeed(HttpServerResponse.setHeaders(response, {
      "ratelimit-limit": String(quota.limit),
      "ratelimit-remaining": String(quota.remaining),
      "ratelimit-reset": String(quota.resetSeconds),
      "ratelimit-policy": policy,
      ...(quota.exceeded ? { "retry-after": String(quota.resetSeconds) } : {})
    }))
  )

const integerHeader = (description: string) => ({ description, schema: { type: "integer", minimum: 0 } })
const HEADERS = {
  "RateLimit-Limit": integerHeader("Requests allowed by the policy closest to refusing"),
  "RateLimit-Remaining": integerHeader("What is left of it"),
  "RateLimit-Reset": integerHeader("Seconds until its window ends"),
  "RateLimit-Policy": { description: "Every policy, as `<limit>;w=<window seconds>`", schema: { type: "string" } }
}

/** Refused before the limits are consulted: a malformed or oversized request, a server failure. */
const UNLIMITED = new Set(["400", "413", "500"])

/** OpenAPI: an operation's limited responses carry the headers; its 429 also `Retry-After`. */
export const documentRateLimitHeaders = (operation: Record<string, any>): Record<string, any> => {
  for (const [status, response] of Object.entries<Record<string, any>>(operation.responses ?? {})) {
    if (!UNLIMITED.has(status)) {
      response.headers = {
        ...response.headers,
        ...HEADERS,
        ...(status === "429" ? { "Retry-After": integerHeader("Seconds to wait before trying again") } : {})
      }
    }
  }
  return operation
}
