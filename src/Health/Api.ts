import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { NotReady } from "../Edge/HttpErrors.ts"

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("live", "/")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
      .annotate(OpenApi.Summary, "Liveness: the process is up")
  )
  .add(
    HttpApiEndpoint.get("ready", "/ready")
      .addSuccess(Schema.Struct({ status: Schema.Literal("ready") }))
      .addError(errorResponse(NotReady))
      .annotate(OpenApi.Summary, "Readiness: the database answers")
  )
  .annotate(OpenApi.Title, "Health")
  .prefix("/health")
{}
