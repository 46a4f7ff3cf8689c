import { Context, Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../Config.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { makePasswordWorkers } from "./PasswordWorkers.ts"

/**
 * Password hashing (bcrypt, in worker threads: PasswordWorkers.ts). The hash of a throw-away
 * password lets a login for an unknown email cost the same.
 */
export class Passwords extends Context.Tag("Passwords")<Passwords, {
  readonly hash: (password: Redacted.Redacted<string>) => Effect.Effect<string>
  /** Compares against `hash`, or against a dummy hash when there is none, in about the same time. */
  readonly verify: (password: Redacted.Redacted<string>, hash: string | undefined) => Effect.Effect<boolean>
}>() {
  static readonly layer = Layer.scoped(
    Passwords,
    Effect.gen(function*() {
      const { bcryptCost, passwordWorkers } = yield* AppConfig
      const run = yield* makePasswordWorkers(passwordWorkers)
      const hash = (password: Redacted.Redacted<string>) =>
        run<string>({ op: "hash", password: Redacted.value(password), cost: bcryptCost })
      // Needed only for unknown emails: computed in the background so that start-up does not wait for it.
      const dummyHash = yield* Effect.cached(hash(Redacted.make("a password nobody has")))
      yield* Effect.forkScoped(dummyHash)
      return {
        hash,
        verify: (password, stored) =>
          Effect.flatMap(
            stored === undefined ? dummyHash : Effect.succeed(stored),
            (hash) => run<boolean>({ op: "compare", password: Redacted.value(password), hash })
          ).pipe(
            Effect.map((matches) => matches && stored !== undefined)
          )
      }
    })
  ).pipe(traced(Passwords))
}
