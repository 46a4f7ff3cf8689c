import { HttpServerRequest } from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { Unauthorized } from "../Domain/Errors.ts"
import { Authentication, OptionalAuthentication } from "../Edge/Authentication.ts"
import { Tokens } from "./Tokens.ts"

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/

/** The caller named by an `Authorization: Bearer <jwt>` header, or 401. */
const callerOf = (tokens: Tokens["Type"], header: string | undefined) =>
  Effect.gen(function*() {
    if (header === undefined || header === "") {
      return yield* new Unauthorized({ message: "Missing Authorization header: expected 'Bearer <token>'" })
    }
    const match = BEARER.exec(header)
    if (match === null) {
      return yield* new Unauthorized({ message: "Malformed Authorization header: expected 'Bearer <token>'" })
    }
    const claims = yield* tokens.verify(match[1]!)
    return { id: claims.userId, role: claims.role }
  })

/** Turns `Authorization: Bearer <jwt>` into the CurrentUser, or fails with 401. */
export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const tokens = yield* Tokens
    return {
      // The platform hands over the header minus its first 7 characters; read it whole to check the scheme.
      bearer: () => Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => callerOf(tokens, request.headers.authorization))
    }
  })
)

/** No `Authorization` header: an anonymous Viewer; otherwise as AuthenticationLive. */
export const OptionalAuthenticationLive = Layer.effect(
  OptionalAuthentication,
  Effect.map(Tokens, (tokens) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const header = request.headers.authorization
      return header === undefined ? Effect.succeed(Option.none()) : Effect.map(callerOf(tokens, header), Option.some)
    }))
)
