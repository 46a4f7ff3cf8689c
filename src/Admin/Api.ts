import { HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Unauthorized } from "../Domain/Errors.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { OperatorApiDisabled } from "../Edge/HttpErrors.ts"
import { QueueHealthReport } from "../Jobs/QueueHealth.ts"

/**
 * Operators sign in with the ADMIN_TOKEN from the configuration. Without one configured the
 * operator endpoints are off and answer 404.
 */
export class OperatorAuthentication extends HttpApiMiddleware.Tag<OperatorAuthentication>()("OperatorAuthentication", {
  failure: Schema.Union(errorResponse(Unauthorized), errorResponse(OperatorApiDisabled)),
  security: {
    operatorToken: HttpApiSecurity.bearer.pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "The ADMIN_TOKEN of the server's configuration")
    )
  }
}) {}

export class AdminApi extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.get("queues", "/queues")
      .addSuccess(QueueHealthReport)
      .annotate(OpenApi.Summary, "Queue health: jobs per queue and state, and the outbox backlog (operators)")
  )
  .middleware(OperatorAuthentication)
  .annotate(OpenApi.Title, "Admin")
  .prefix("/admin")
{}
