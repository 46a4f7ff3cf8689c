import { Context, Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { makePasswordWorkers } from "./PasswordWorkers.ts"

/**
 * Password hashing (bcrypt, in worker threads: PasswordWorkers.ts). A login for an unknown email
 * is compared against a stand-in hash, so that it costs the same.
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
      // Well formed and at the same cost, so a compare with it takes as long as with a real hash, but
      // no password's digest is 31 "a"s; nothing is hashed for it (at start-up that woke a thread).
      const standIn = `$2b$${String(bcryptCost).padStart(2, "0")}$${"a".repeat(53)}`
      return {
        hash,
        verify: (password, stored) =>
          run<boolean>({ op: "compare", password: Redacted.value(password), hash: stored ?? standIn }).pipe(
            Effect.map((matches) => matches && stored !== undefined)
          )
      }
    })
  ).pipe(traced(Passwords))
}
