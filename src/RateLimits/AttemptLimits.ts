/**
 * Limits on sign-in and sign-up attempts (policy and numbers: README, "Rate limits"):
 *
 * - per client address, every attempt counts: this is what stops one attacker, whatever accounts
 *   they try;
 * - per account (the email, lower-cased), only failed attempts count (a wrong password, a taken
 *   email): a guesser spread over many addresses gets `accountFailures` guesses per window.
 *
 * Windows are fixed: they end on time, refused attempts never extend them (nor count against the
 * account), so an attacker can keep an account refusing for one window at a time at most, never
 * lock it for longer. Each endpoint counts apart. If the store is unavailable, attempts go through (logged).
 */
import { Cause, Context, Effect, Exit, Layer, Option } from "effect"
import { TooManyRequests } from "../Edge/HttpErrors.ts"
import type { Quota } from "../Edge/RateLimitHeaders.ts"
import { AppConfig } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { RateLimitStore, type Window } from "./RateLimitStore.ts"

export type LimitedEndpoint = "login" | "register"

export interface Caller {
  readonly address: string
  readonly email: string
}

export class AttemptLimits extends Context.Tag("AttemptLimits")<AttemptLimits, {
  /** `<limit>;w=<seconds>` for each policy, for the `RateLimit-Policy` header. */
  readonly policy: string
  /**
   * Runs `attempt` unless a limit is reached (then `TooManyRequests`, with no work done); a failure
   * that `failed` accepts counts against the account. `report` hears the quota closest to refusing.
   */
  readonly guard: <A, E, R, R2>(
    endpoint: LimitedEndpoint,
    caller: Caller,
    attempt: Effect.Effect<A, E, R>,
    options: { readonly failed: (error: E) => boolean; readonly report: (quota: Quota) => Effect.Effect<void, never, R2> }
  ) => Effect.Effect<A, E | TooManyRequests, R | R2>
}>() {
  static readonly layer = Layer.effect(
    AttemptLimits,
    Effect.gen(function*() {
      const { rateLimits: settings } = yield* AppConfig
      const store = yield* RateLimitStore

      /** A store failure lets the attempt through: limits must not take sign-in down with them. */
      const tolerant = <A>(effect: Effect.Effect<A, { readonly message: string }>) =>
        effect.pipe(
          Effect.map(Option.some),
          Effect.catchAll((error) => Effect.logWarning(`rate limits not applied: ${error.message}`).pipe(Effect.as(Option.none())))
        )

      const quotaOf = (limit: number, window: Window): Quota => ({
        limit,
        remaining: Math.max(0, limit - window.hits),
        resetSeconds: Math.max(1, Math.ceil(window.resetMs / 1000)),
        exceeded: window.hits > limit
      })
      const closest = (quotas: ReadonlyArray<Quota>) =>
        quotas.reduce((a, b) => (b.remaining < a.remaining || (b.remaining === a.remaining && b.resetSeconds > a.resetSeconds) ? b : a))

      return {
        policy:
          `${settings.addressAttempts};w=${settings.addressWindowSeconds}, ${settings.accountFailures};w=${settings.accountWindowSeconds}`,

        guard: (endpoint, caller, attempt, { failed, report }) =>
          Effect.gen(function*() {
            const quotas: Array<Quota> = []
            const refuse = (quota: Quota) => Effect.zipRight(report(quota), Effect.fail(TooManyRequests.of(quota.resetSeconds)))

            const address = yield* tolerant(store.hit(`${endpoint}:address:${caller.address}`, settings.addressWindowSeconds * 1000))
            if (Option.isSome(address)) {
              const quota = quotaOf(settings.addressAttempts, address.value)
              if (quota.exceeded) return yield* refuse(quota)
              quotas.push(quota)
            }

            // Every attempt takes an account slot before it runs (so concurrent guesses cannot
            // overshoot), and gives it back unless it failed.
            const accountKey = `${endpoint}:account:${caller.email.trim().toLowerCase()}`
            const account = yield* tolerant(store.hit(accountKey, settings.accountWindowSeconds * 1000))
            if (Option.isSome(account)) {
              const quota = quotaOf(settings.accountFailures, account.value)
              if (quota.exceeded) {
                yield* tolerant(store.release(accountKey)) // a refusal is not a failure
                return yield* refuse(quota)
              }
            }

            return yield* attempt.pipe(
              Effect.onExit((exit) => {
                const counted = Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), failed)
                const released = counted || Option.isNone(account) ? Effect.void : tolerant(store.release(accountKey))
                const accountQuota = Option.map(account, (window) =>
                  quotaOf(settings.accountFailures, counted ? window : { ...window, hits: window.hits - 1 }))
                const all = Option.match(accountQuota, {
                  onNone: () =>
                    quotas,
                  onSome: (quota) => [...quotas, quota]
                })
                return Effect.zipRight(released, all.length === 0 ? Effect.void : report(closest(all)))
              })
            )
          })
      }
    })
  ).pipe(traced(AttemptLimits))
}
