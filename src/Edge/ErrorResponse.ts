import { HttpApiSchema, HttpServerResponse } from "@effect/platform"
import { Schema } from "effect"
import { errorResponse } from "../Domain/Errors.ts"

/** A response carrying `error` in the standard shape `{ message, status, code }`, with its status. */
export const errorResponseOf = <Self, Tag extends string, Fields extends Schema.Struct.Fields>(
  errorClass: Schema.TaggedErrorClass<Self, Tag, Fields>,
  error: Self
) =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(errorResponse(errorClass))(error), {
    status: HttpApiSchema.getStatusError(errorClass)
  })
