/**
 * `npm run bench:login`: a failed login must not tell whether the email exists. Times, in one run
 * with real bcrypt (cost 10), logins with a wrong password against logins with an unknown email.
 */
import { Console, Effect, Layer, Redacted } from "effect"
import { Accounts } from "../src/Accounts/Accounts.ts"
import { Passwords } from "../src/Accounts/Passwords.ts"
import { Tokens } from "../src/Accounts/Tokens.ts"
import { PersistenceMemory } from "../src/Persistence.ts"
import { AppConfig } from "../src/Platform/Config.ts"

const ROUNDS = 30

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const program = Effect.gen(function*() {
  const accounts = yield* Accounts
  yield* accounts.register({ email: "known@example.com", password: Redacted.make("the-right-password"), role: "CUSTOMER" })
  const time = (email: string) =>
    Effect.gen(function*() {
      const started = performance.now()
      yield* Effect.flip(accounts.login({ email, password: Redacted.make("a-wrong-password") }))
      return performance.now() - started
    })
  const wrongPassword: Array<number> = []
  const unknownEmail: Array<number> = []
  for (let i = 0; i < ROUNDS; i++) {
    wrongPassword.push(yield* time("known@example.com"))
    unknownEmail.push(yield* time(`nobody-${i}@example.com`))
  }
  const [known, unknown] = [median(wrongPassword), median(unknownEmail)]
  yield* Console.log(`${ROUNDS} failed logins each, bcrypt cost 10 (median)`)
  yield* Console.log(`wrong password  ${known.toFixed(1)} ms`)
  yield* Console.log(`unknown email   ${unknown.toFixed(1)} ms   ratio ${(unknown / known).toFixed(2)}`)
})

program.pipe(
  Effect.provide(
    Accounts.layer.pipe(
      Layer.provide([Passwords.layer, Tokens.layer, PersistenceMemory]),
      Layer.provide(AppConfig.layerTest({ bcryptCost: 10 }))
    )
  ),
  Effect.runPromise
)
