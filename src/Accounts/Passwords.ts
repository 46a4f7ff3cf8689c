import bcrypt from "bcryptjs"
import { Context, Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../Config.ts"

/** Password hashing. The hash of a throw-away password lets a login for an unknown email cost the same. */
export class Passwords extends Context.Tag("Passwords")<Passwords, {
  readonly hash: (password: Redacted.Redacted<string>) => Effect.Effect<string>
  /** Compares against `hash`, or against a dummy hash when there is none, in about the same time. */
  readonly verify: (password: Redacted.Redacted<string>, hash: string | undefined) => Effect.Effect<boolean>
}>() {
  static readonly layer = Layer.effect(
    Passwords,
    Effect.gen(function*() {
      const { bcryptCost } = yield* AppConfig
      const hash = (password: Redacted.Redacted<string>) =>
        Effect.promise(() => bcrypt.hash(Redacted.value(password), bcryptCost))
      const dummyHash = yield* hash(Redacted.make("a password nobody has"))
      return {
        hash,
        verify: (password, stored) =>
          Effect.promise(() => bcrypt.compare(Redacted.value(password), stored ?? dummyHash)).pipe(
            Effect.map((matches) => matches && stored !== undefined)
          )
      }
    })
  )
}
