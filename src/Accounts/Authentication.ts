import { HttpServerRequest } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Authentication } from "../Domain/Authentication.ts"
import { Unauthorized } from "../Domain/Errors.ts"
import { Tokens } from "./Tokens.ts"

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/

/** Turns `Authorization: Bearer <jwt>` into the CurrentUser, or fails with 401. */
export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const tokens = yield* Tokens
    return {
      // The platform hands over the header minus its first 7 characters; read it whole to check the scheme.
      bearer: () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers.authorization
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
    }
  })
)
