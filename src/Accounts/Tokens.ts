import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { errors as JoseErrors, jwtVerify, SignJWT } from "jose"
import { Unauthorized } from "../Domain/Errors.ts"
import { UserId } from "../Domain/Ids.ts"
import { Role } from "../Domain/Role.ts"
import { AppConfig } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface Claims {
  readonly userId: UserId
  readonly role: Role
}

/** Signed session tokens: HS256 JWTs with sub, role, iat, exp, iss and aud. */
export class Tokens extends Context.Tag("Tokens")<Tokens, {
  readonly issue: (claims: Claims) => Effect.Effect<{ readonly token: string; readonly expiresAt: Date }>
  readonly verify: (token: string) => Effect.Effect<Claims, Unauthorized>
}>() {
  static readonly layer = Layer.effect(
    Tokens,
    Effect.gen(function*() {
      const { jwt } = yield* AppConfig
      // Imported once: jose would otherwise import the raw secret on every verification.
      const key = yield* Effect.promise(() =>
        crypto.subtle.importKey(
          "raw",
          new TextEncoder().encode(Redacted.value(jwt.secret)),
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign", "verify"]
        )
      )
      // A token verified once needs only its expiry checked again: the same bytes carry the same
      // signature and claims. Bounded; the oldest entry goes first.
      const verified = new Map<string, { readonly claims: Claims; readonly expiresAtMs: number }>()
      const remember = (token: string, claims: Claims, expiresAtMs: number) => {
        if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!)
        verified.set(token, { claims, expiresAtMs })
      }
      return {
        issue: (claims) =>
          Effect.gen(function*() {
            const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
            const exp = now + jwt.ttlSeconds
            const token = yield* Effect.promise(() =>
              new SignJWT({ role: claims.role })
                .setProtectedHeader({ alg: "HS256", typ: "JWT" })
                .setSubject(String(claims.userId))
                .setIssuer(jwt.issuer)
                .setAudience(jwt.audience)
                .setIssuedAt(now)
                .setExpirationTime(exp)
                .sign(key)
            )
            return { token, expiresAt: new Date(exp * 1000) }
          }),
        verify: (token) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            const known = verified.get(token)
            if (known !== undefined && now < known.expiresAtMs) return known.claims
            const { payload } = yield* Effect.tryPromise({
              try: () =>
                jwtVerify(token, key, {
                  algorithms: ["HS256"],
                  issuer: jwt.issuer,
                  audience: jwt.audience,
                  requiredClaims: ["sub", "exp", "iat"],
                  currentDate: new Date(now)
                }),
              catch: (error) =>
                new Unauthorized({
                  message: error instanceof JoseErrors.JWTExpired ? "Token expired" : "Invalid token"
                })
            })
            const claims = yield* decodeClaims(payload).pipe(
              Effect.mapError(() => new Unauthorized({ message: "Invalid token" }))
            )
            remember(token, claims, payload.exp! * 1000)
            return claims
          })
      }
    })
  ).pipe(traced(Tokens))
}

const VERIFIED_TOKENS_KEPT = 10_000

const decodeClaims = Schema.decodeUnknown(
  Schema.transform(
    Schema.Struct({ sub: Schema.NumberFromString.pipe(Schema.compose(UserId)), role: Role }),
    Schema.Struct({ userId: Schema.typeSchema(UserId), role: Role }),
    { strict: true, decode: ({ role, sub }) => ({ userId: sub, role }), encode: ({ role, userId }) => ({ sub: userId, role }) }
  )
)
