/**
 * Idempotency-Key, the behaviour (the header's contract is IdempotencyKey.ts; rules and reasons in
 * docs/decisions/0012-idempotency-keys.md). A request with a key first holds the key (its own short
 * statement), then runs the operation, then stores the response:
 *
 * - the same key, user and request again → the stored status and body, `Idempotent-Replayed: true`;
 * - the same key with another method, path or body → 422 `IdempotencyKeyReused`;
 * - while the first still runs → 409 `IdempotencyKeyInUse`.
 *
 * A held key's lease is short (LEASE): the process renews the leases of all the keys its requests
 * hold, in one statement a beat (HEARTBEAT). So a key outlives its holder by seconds only if the
 * process died, and a retry then takes it over.
 *
 * Stored: successes and 4xx domain errors (the operation ran and decided). Not stored: 400/401 (it
 * could not run; the key is forgotten), 5xx, defects and interruptions (transient: the key is let
 * go, and a retry runs again).
 *
 * The operation gets the key's `IdempotencyId` and must record it, in its own transaction, on what
 * it creates, and answer with that instead of creating it again when it finds it: a retry after a
 * crash between the operation's commit and the stored response (or after an outcome that was not
 * stored) then gets the first result, never a second one. Bookings do this in the booking engine.
 */
import { HttpApiSchema, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Context, Effect, Exit, Layer, Option, Schema } from "effect"
import { createHash } from "node:crypto"
import type { IdempotencyId, UserId } from "../Domain/Ids.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { IdempotencyKeyInUse, IdempotencyKeyReused } from "../Edge/HttpErrors.ts"
import { AppConfig } from "../Platform/Config.ts"
import { type IdempotencyKeyHeaders, REPLAYED_HEADER } from "./IdempotencyKey.ts"
import { type HeldKey, IdempotencyStore, type StoredResponse } from "./IdempotencyStore.ts"

/** A call of an operation under a key. */
export interface IdempotentCall {
  readonly userId: UserId
  /** The request's Idempotency-Key; without one the operation simply runs. */
  readonly key: string | undefined
  /** What was asked (see `fingerprintOf`): a key is good for one request only. */
  readonly fingerprint: string
  /** The endpoint's success schema, with its status: how a success is stored. */
  readonly success: Schema.Schema<any, any, never>
}

/** What becomes of a key once its operation ended. */
type Settlement =
  | { readonly _tag: "Store"; readonly response: StoredResponse }
  | { readonly _tag: "Release" }
  | { readonly _tag: "Forget" }

const release: Settlement = { _tag: "Release" }

/** A settling store call slower than this is given up (logged): the answer must not wait on it. */
const SETTLE_TIMEOUT = "5 seconds"

/**
 * How long a claim or a renewal holds a key, and how often the process renews its keys: a lease
 * outlives three missed beats (a busy event loop, a slow pool) before a retry may take the key
 * over, and ends within seconds of a crash. Taking over a key whose request still runs is safe:
 * the engine never books one id twice (docs/decisions/0012-idempotency-keys.md).
 */
const LEASE_MS = 4_000
const HEARTBEAT = "1 second"

/** Which outcomes are stored, which let the key go, which forget it (see the module comment). */
const settlementOf = (exit: Exit.Exit<unknown, unknown>, success: Schema.Schema<any, any, never>): Settlement => {
  if (Exit.isSuccess(exit)) {
    const ast = success.ast
    const status = HttpApiSchema.getStatusSuccessAST(ast)
    if (HttpApiSchema.isVoid(ast)) return { _tag: "Store", response: { status, body: "" } }
    if (HttpApiSchema.getEncoding(ast).kind !== "Json") return release
    return Option.match(Schema.encodeOption(success)(exit.value), {
      onNone: () => release, // the API will fail to encode it too: a 500, not a response to keep
      onSome: (encoded) => ({ _tag: "Store", response: { status, body: JSON.stringify(encoded) } })
    })
  }
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error) || !isDomainError(error.value)) return release
  const errorClass = error.value.constructor as Schema.TaggedErrorClass<any, string, any>
  const status = HttpApiSchema.getStatusError(errorClass)
  if (status >= 500) return release
  if (status === 400 || status === 401) return { _tag: "Forget" }
  return { _tag: "Store", response: { status, body: JSON.stringify(Schema.encodeSync(errorResponse(errorClass))(error.value)) } }
}

/** A `Schema.TaggedError` of ours: its class is a schema that carries its status. */
const isDomainError = (error: unknown): error is { readonly _tag: string } =>
  typeof error === "object" && error !== null && "_tag" in error && Schema.isSchema(error.constructor)

/** The stored response, sent again as it was, marked as a replay. */
const replay = ({ body, status }: StoredResponse): HttpServerResponse.HttpServerResponse => {
  const headers = { [REPLAYED_HEADER]: "true" }
  return body === ""
    ? HttpServerResponse.empty({ status, headers })
    : HttpServerResponse.text(body, { status, headers, contentType: "application/json" })
}

export class Idempotency extends Context.Tag("Idempotency")<Idempotency, {
  /** Runs `operation` under the call's key (if any), or answers for it (a replay, 409, 422). */
  readonly run: <A, E, R>(
    call: IdempotentCall,
    operation: (id: IdempotencyId | undefined) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A | HttpServerResponse.HttpServerResponse, E | IdempotencyKeyInUse | IdempotencyKeyReused, R>
}>() {
  /** With the heartbeat that renews the keys this process holds, until the scope closes. */
  static readonly layer = Layer.scoped(
    Idempotency,
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const { idempotencyTtlHours } = yield* AppConfig
      const terms = { leaseMs: LEASE_MS, ttlMs: idempotencyTtlHours * 3_600_000 }

      /** The keys this process's requests hold now; the heartbeat runs while there are any. */
      const holding = new Set<HeldKey>()
      const anyHeld = yield* Effect.makeLatch(false)
      const hold = (held: HeldKey) => {
        holding.add(held)
        anyHeld.unsafeOpen()
      }
      const letGo = (held: HeldKey) => {
        if (holding.delete(held) && holding.size === 0) anyHeld.unsafeClose()
      }
      yield* anyHeld.await.pipe(
        Effect.zipRight(Effect.sleep(HEARTBEAT)),
        Effect.zipRight(Effect.suspend(() => holding.size === 0 ? Effect.void : store.renew([...holding], LEASE_MS))),
        Effect.catchAllCause((cause) => Effect.logWarning("renewing the leases of held idempotency keys failed", cause)),
        Effect.forever,
        Effect.forkScoped
      )

      const settle = (held: HeldKey, settlement: Settlement) => {
        switch (settlement._tag) {
          case "Store":
            return store.complete(held, settlement.response)
          case "Forget":
            // A key taken over may have an earlier try's result recorded under its id: keep the id.
            return held.fresh ? store.forget(held) : store.release(held)
          case "Release":
            return store.release(held)
        }
      }

      return {
        run: <A, E, R>(call: IdempotentCall, operation: (id: IdempotencyId | undefined) => Effect.Effect<A, E, R>) => {
          const { fingerprint, key, success, userId } = call
          if (key === undefined) return operation(undefined)
          // Once the key is held, the operation's end always settles it (a gap between the two
          // would leave the key held until its lease ran out).
          return Effect.uninterruptibleMask((restore) =>
            Effect.flatMap(restore(store.claim({ userId, key, fingerprint }, terms)), (claim): Effect.Effect<
              A | HttpServerResponse.HttpServerResponse,
              E | IdempotencyKeyInUse | IdempotencyKeyReused,
              R
            > => {
              switch (claim._tag) {
                case "Completed":
                  return Effect.succeed(replay(claim.response))
                case "InProgress":
                  return Effect.fail(IdempotencyKeyInUse.instance)
                case "Mismatch":
                  return Effect.fail(IdempotencyKeyReused.instance)
                case "Held":
                  hold(claim.held)
                  return restore(operation(claim.held.id)).pipe(
                    Effect.onExit((exit) =>
                      settle(claim.held, settlementOf(exit, success)).pipe(
                        Effect.interruptible,
                        Effect.timeoutFail({ duration: SETTLE_TIMEOUT, onTimeout: () => "timed out" }),
                        // The answer goes out anyway; the key stays held until its lease ends, and
                        // then a retry finds what the operation recorded.
                        Effect.catchAllCause((cause) =>
                          Effect.logWarning("storing an idempotent response failed", cause).pipe(
                            Effect.annotateLogs({ userId, key })
                          )
                        ),
                        Effect.ensuring(Effect.sync(() => letGo(claim.held)))
                      )
                    )
                  )
              }
            })
          )
        }
      }
    })
  )
}

/** Object keys sorted at every level, so `{"a":1,"b":2}` and `{ "b": 2, "a": 1 }` are one body. */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
    : value

/**
 * What a request asks: its method, the route it matched (the template and its parameters, so the
 * spellings the router takes as one path are one) and its JSON body in canonical form, hashed.
 */
export const fingerprintOf = (request: HttpServerRequest.HttpServerRequest, route: HttpRouter.RouteContext) =>
  Effect.map(Effect.orElseSucceed(request.text, () => ""), (text) => {
    let body: unknown = text
    try {
      body = text === "" ? null : canonical(JSON.parse(text))
    } catch {
      // not JSON: the text as it is
    }
    const params = canonical(route.params)
    return createHash("sha256").update(JSON.stringify([request.method, route.route.path, params, body])).digest("hex")
  })

/**
 * In a handler of an endpoint declared with `acceptsIdempotencyKey`: runs `operation` for `userId`
 * under the request's Idempotency-Key. `endpoint` gives the success schema (`MyApi.endpoints.name`).
 */
export const idempotent = <A, E, R>(
  endpoint: { readonly successSchema: Schema.Schema<any, any, never> },
  caller: { readonly userId: UserId; readonly headers: IdempotencyKeyHeaders },
  operation: (id: IdempotencyId | undefined) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    const key = caller.headers["idempotency-key"]
    const fingerprint = key === undefined
      ? ""
      : yield* fingerprintOf(yield* HttpServerRequest.HttpServerRequest, yield* HttpRouter.RouteContext)
    const idempotency = yield* Idempotency
    return yield* idempotency.run({ userId: caller.userId, key, fingerprint, success: endpoint.successSchema }, operation)
  })
