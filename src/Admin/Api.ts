import { HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AuditEntry, AuditParams } from "../Audit/AuditEntry.ts"
import { ActingAs } from "../Audit/Origin.ts"
import { Unauthorized } from "../Domain/Errors.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { OperatorApiDisabled } from "../Edge/HttpErrors.ts"
import { documentPageHeaders } from "../Edge/PageHeaders.ts"
import { QueueHealthReport } from "../Jobs/QueueHealth.ts"

/**
 * Operators sign in with the ADMIN_TOKEN from the configuration. Without one configured the
 * operator endpoints are off and answer 404. What an operator changes, the audit trail names
 * as the `admin`'s (`ActingAs`).
 */
export class OperatorAuthentication extends HttpApiMiddleware.Tag<OperatorAuthentication>()("OperatorAuthentication", {
  failure: Schema.Union(errorResponse(Unauthorized), errorResponse(OperatorApiDisabled)),
  provides: ActingAs,
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
  .add(
    HttpApiEndpoint.get("audit", "/audit")
      .setUrlParams(AuditParams)
      .addSuccess(Schema.Array(AuditEntry))
      .annotate(OpenApi.Summary, "The audit trail of everything, newest first (operators)")
      .annotate(
        OpenApi.Description,
        "Filters as on GET /api/events/{id}/audit, and `eventId`. The body is the page; `X-Total-Count` and `Link` as on other lists."
      )
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .middleware(OperatorAuthentication)
  .annotate(OpenApi.Title, "Admin")
  .prefix("/admin")
{}
