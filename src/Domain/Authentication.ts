import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { CurrentUser } from "./CurrentUser.ts"
import { errorResponse, Unauthorized } from "./Errors.ts"

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
