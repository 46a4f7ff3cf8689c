import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Context, type Option } from "effect"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { Unauthorized } from "../Domain/Errors.ts"
import { errorResponse } from "./ErrorResponse.ts"

/**
 * The contract of authentication: endpoints that carry this middleware need a valid
 * `Authorization: Bearer <jwt>` and see the caller as `CurrentUser`. The implementation is
 * `Accounts/Authentication.ts`.
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: errorResponse(Unauthorized),
  provides: CurrentUser,
  security: {
    bearer: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The `token` returned by POST /api/auth/login"),
      HttpApiSecurity.annotate(OpenApi.Format, "JWT")
    )
  }
}) {}

/** Who calls a public endpoint whose answer depends on it: none without a token. */
export class Viewer extends Context.Tag("Viewer")<Viewer, Option.Option<CurrentUser["Type"]>>() {}

/**
 * For public endpoints that show more to some callers (an organizer's own drafts): no
 * `Authorization` header is an anonymous caller; a header that does not authenticate is 401, as on
 * any protected endpoint, rather than silently showing less.
 */
export class OptionalAuthentication extends HttpApiMiddleware.Tag<OptionalAuthentication>()("OptionalAuthentication", {
  failure: errorResponse(Unauthorized),
  provides: Viewer
}) {}

/** OpenAPI: the bearer token may be sent, or not. */
export const documentOptionalBearer = (operation: Record<string, any>): Record<string, any> => ({
  ...operation,
  security: [{}, { bearer: [] }]
})
