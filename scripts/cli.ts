/** What the database tools (`npm run seed`, `npm run db:reset`) share: flags, the production guard, a question, the run. */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { createInterface } from "node:readline"
import { isProduction } from "../src/Platform/Config.ts"
import { loadDotEnv } from "../src/Platform/DotEnv.ts"
import { LoggingLive } from "../src/Platform/Logging.ts"
import { Refusal, refusalLine } from "../src/Platform/Refusal.ts"

/** The command line's flags, each one of `known`. */
export const flags = <const Flag extends string>(known: ReadonlyArray<Flag>) =>
  Effect.gen(function*() {
    const given = process.argv.slice(2)
    const unknown = given.filter((arg) => !(known as ReadonlyArray<string>).includes(arg))
    if (unknown.length > 0) {
      const expected = known.length === 0 ? "it takes none" : `known: ${known.join(" ")}`
      return yield* new Refusal({ message: `unknown argument ${unknown.join(" ")}; ${expected}` })
    }
    return new Set(given as Array<Flag>)
  })

/** `NODE_ENV=production` needs `--allow-production`: these tools are for development databases. */
export const refuseInProduction = (command: string, allowed: boolean) =>
  Effect.flatMap(isProduction, (production) =>
    production && !allowed
      ? new Refusal({
        message: `NODE_ENV=production: ${command} refuses to touch a production database; add --allow-production if you mean it`
      })
      : Effect.void)

/** Asks on the terminal; `yes` (or `y`) is a yes, anything else (or no input at all) a no. */
export const confirm = (question: string) =>
  Effect.async<boolean>((resume) => {
    const terminal = createInterface({ input: process.stdin, output: process.stdout })
    let answered = false
    terminal.question(`${question} [yes/no] `, (answer) => {
      answered = true
      // A piped answer is not echoed: end the prompt's line.
      if (!process.stdin.isTTY) process.stdout.write(`${answer}\n`)
      terminal.close()
      resume(Effect.succeed(/^y(es)?$/i.test(answer.trim())))
    })
    // Standard input ended (nothing piped, or Ctrl-D): not a yes.
    terminal.once("close", () => {
      if (answered) return
      process.stdout.write("\n")
      resume(Effect.succeed(false))
    })
    return Effect.sync(() => terminal.close())
  })

/**
 * Runs a tool: `.env` loaded, warnings and errors logged (the services' info lines would bury
 * the tool's own output), a refusal printed as its line (any other failure as its message) and
 * the exit code 1.
 */
export const runCli = <E>(program: Effect.Effect<void, E>) => {
  loadDotEnv()
  program.pipe(
    Effect.tapErrorCause((cause) => {
      const failure = Cause.failureOption(cause)
      const message = Option.getOrElse(
        refusalLine(cause),
        () =>
          Option.isSome(failure) && typeof (failure.value as { message?: unknown }).message === "string"
            ? (failure.value as { message: string }).message
            : Cause.pretty(cause)
      )
      return Cause.isInterruptedOnly(cause) ? Effect.void : Console.error(`error: ${message}`)
    }),
    Effect.provide(Layer.merge(LoggingLive, Logger.minimumLogLevel(LogLevel.Warning))),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
}
