import { type HttpApp, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

/**
 * A 503 (a full booking line, a failed batch, the database not ready) is temporary: say when to
 * come back. Typed errors carry no headers in HttpApi, so it is added here, around the app.
 */
export const retryAfter = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.map(app, (response) =>
    response.status === 503 && response.headers["retry-after"] === undefined
      ? HttpServerResponse.setHeader(response, "retry-after", "1")
      : response)
