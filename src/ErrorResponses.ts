/**
 * The one place where failures that are not domain errors become `{ message, status, code }`:
 * schema decode failures, unknown routes and methods, malformed or oversized bodies, and defects.
 * Beside Http.ts because it knows the app's Api (its routes, its middleware).
 */
import {
  HttpApi,
  HttpApiBuilder,
  type HttpApp,
  HttpIncomingMessage,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import { Cause, Effect, Option } from "effect"
import { Api } from "./Api.ts"
import { ValidationError } from "./Domain/Errors.ts"
import { errorResponseOf } from "./Edge/ErrorResponse.ts"
import {
  InternalServerError,
  InvalidJson,
  MethodNotAllowed,
  PayloadTooLarge,
  RouteNotFound,
  UnsupportedMediaType
} from "./Edge/HttpErrors.ts"
import { isJsonBody, MAX_JSON_DEPTH, tooDeepAt, unsupportedBody } from "./Edge/RequestBodies.ts"
import { AppConfig } from "./Platform/Config.ts"

/** "title: must not be empty; foo: is not a known field" from the decode error's issues. */
export const describeDecodeError = (error: HttpApiDecodeError): string =>
  error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".")
      const message = issue._tag === "Missing"
        ? "is required"
        : issue._tag === "Unexpected"
        ? "is not a known field"
        : issue.message
      // At the root, a type mismatch means the body is not an object at all (absent, null, an array...).
      if (path === "") return message.startsWith("Expected ") ? "The request body must be a JSON object" : message
      return `${path}: ${message}`
    })
    .join("; ")

const isRequestError = (u: unknown): u is HttpServerError.RequestError => HttpServerError.isServerError(u) && u._tag === "RequestError"

const CHUNKED_HARD_CAP_FACTOR = 10

const payloadTooLarge = (limit: number) => new PayloadTooLarge({ message: `The request body must be at most ${limit} bytes` })

/**
 * Inside the API, so that the API encodes the result like any typed error: decode failures become
 * ValidationError, an unreadable body InvalidJson or PayloadTooLarge, and any other defect is logged
 * and becomes InternalServerError (a defect must never pass for a typed error).
 */
export const ApiFailures = HttpApiBuilder.middleware(
  Api,
  Effect.map(AppConfig, ({ maxBodyBytes }) => (app) =>
    // The app's failures are not in its static type: the router fails with whatever a handler or a decoder did.
    (app as HttpApp.Default<unknown>).pipe(
      Effect.mapError((error) =>
        error instanceof HttpApiDecodeError ? new ValidationError({ message: describeDecodeError(error) }) : error
      ),
      Effect.catchAllDefect((defect): Effect.Effect<never, InvalidJson | PayloadTooLarge | InternalServerError> => {
        if (isRequestError(defect) && defect.reason === "Decode") {
          return Effect.fail(
            String(defect.cause).includes("maxBytes exceeded")
              ? payloadTooLarge(maxBodyBytes)
              : new InvalidJson({ message: "The request body is not valid JSON" })
          )
        }
        return Effect.logError("defect", Cause.die(defect)).pipe(Effect.zipRight(Effect.fail(InternalServerError.instance)))
      })
    ) as HttpApp.Default<ValidationError | InvalidJson | PayloadTooLarge | InternalServerError>)
)

/** Path patterns of every endpoint, to tell an unknown route (404) from a wrong method (405). */
const routes = (() => {
  const list: Array<{ readonly method: string; readonly pattern: RegExp }> = []
  HttpApi.reflect(Api, {
    onGroup() {},
    onEndpoint({ endpoint }) {
      const pattern = endpoint.path.replace(/:[^/]+/g, "[^/]+")
      list.push({ method: endpoint.method, pattern: new RegExp(`^${pattern}/?$`) })
    }
  })
  return list
})()

const allowedMethods = (path: string) => [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))]

const isRouteNotFound = (u: unknown): u is HttpServerError.RouteNotFound => HttpServerError.isServerError(u) && u._tag === "RouteNotFound"

const tooLarge = (limit: number) => errorResponseOf(PayloadTooLarge, payloadTooLarge(limit))

const tooDeep = (field: string) =>
  errorResponseOf(
    ValidationError,
    new ValidationError({
      message: `${field === "" ? "The request body" : field}: must not nest arrays or objects more than ${MAX_JSON_DEPTH} levels deep`
    })
  )

/**
 * Around the whole app: oversized, non-JSON and too deeply nested bodies are refused before the
 * platform parses them, unknown routes and methods answered, and anything still unanswered becomes
 * a logged 500. Built once with the body limit: per request it is a few plain steps.
 */
export const errorResponses = (maxBodyBytes: number) => <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) => {
  // The platform's body limit (MaxBodySize) is provided with the server (Http.ts), not here per request.
  const answered = Effect.catchAllCause(
    app,
    (cause) => Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => unanswered(request, cause))
  )
  return Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const declared = request.headers["content-length"]
    if (declared !== undefined && Number(declared) > maxBodyBytes) return Effect.succeed(tooLarge(maxBodyBytes))
    const unsupported = unsupportedBody(request)
    if (unsupported !== undefined) {
      return Effect.succeed(errorResponseOf(UnsupportedMediaType, new UnsupportedMediaType({ message: unsupported })))
    }
    const chunked = declared === undefined && request.headers["transfer-encoding"] !== undefined
    const json = isJsonBody(request)
    if (!chunked && !json) return answered
    // Read here (the request caches the text for the handler). A chunked body announces no size:
    // past the hard cap the platform has to drop the connection; up to it, the client gets a 413.
    return request.text.pipe(
      HttpIncomingMessage.withMaxBodySize(Option.some(chunked ? maxBodyBytes * CHUNKED_HARD_CAP_FACTOR : maxBodyBytes)),
      Effect.option,
      Effect.flatMap((body) => {
        if (chunked && (Option.isNone(body) || Buffer.byteLength(body.value) > maxBodyBytes)) return Effect.succeed(tooLarge(maxBodyBytes))
        // A body that cannot be read is left to the app, which answers the same failure from the cache.
        const field = json && Option.isSome(body) ? tooDeepAt(body.value, MAX_JSON_DEPTH) : undefined
        return field === undefined ? answered : Effect.succeed(tooDeep(field))
      })
    )
  })
}

/** What the app left unanswered: an unknown route (404) or method (405), else a logged 500. */
const unanswered = <E>(request: HttpServerRequest.HttpServerRequest, cause: Cause.Cause<E>) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
  const failure = Cause.squash(cause)
  if (isRouteNotFound(failure)) {
    const path = new URL(request.url, "http://localhost").pathname
    const allowed = allowedMethods(path)
    if (allowed.length === 0) {
      return Effect.succeed(errorResponseOf(RouteNotFound, new RouteNotFound({ message: `No route for ${request.method} ${path}` })))
    }
    return Effect.succeed(
      errorResponseOf(
        MethodNotAllowed,
        new MethodNotAllowed({ message: `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}` })
      ).pipe(
        HttpServerResponse.setHeader("allow", allowed.join(", "))
      )
    )
  }
  return Effect.logError("unhandled failure", cause).pipe(
    Effect.as(errorResponseOf(InternalServerError, InternalServerError.instance))
  )
}
