import { type HttpApp, HttpApiSchema, type HttpServerResponse } from "@effect/platform"
import { Duration, Effect, Schema } from "effect"
import { AppConfig } from "../Config.ts"
import { errorResponseOf } from "./ErrorResponses.ts"

/** The server gave up on a request that ran past REQUEST_DEADLINE_MS; whatever it had not committed was rolled back. */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()(
  "RequestTimeout",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503, description: "The request took too long and was abandoned; try again" })
) {}

/**
 * Answers 503 RequestTimeout when the app has not answered within the deadline, interrupting its
 * work (so a request stuck on a lock or a dead dependency cannot hold its connection forever).
 */
export const requestDeadline = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(AppConfig, ({ server: { deadlineMs } }) =>
    Effect.timeoutTo(app, {
      duration: Duration.millis(deadlineMs),
      onSuccess: (response): HttpServerResponse.HttpServerResponse => response,
      onTimeout: () =>
        errorResponseOf(RequestTimeout, new RequestTimeout({ message: `The request was not answered within ${deadlineMs} ms` }))
    }))
