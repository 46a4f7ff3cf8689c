/** How the processes start and stop: shutdown steps with a time bound, and signals handled once. */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import { AppConfig } from "../Config.ts"

/**
 * `layer`, whose release may take at most SHUTDOWN_TIMEOUT_MS: past that it is left behind with a
 * warning and the rest of the shutdown goes on (a queue or database that stopped answering must
 * not hold the process forever; jobs cut short are retried once their lock expires).
 */
export const boundedShutdown = (step: string) => <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R | AppConfig> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const { server: { shutdownTimeoutMs } } = yield* AppConfig
      const scope = yield* Effect.acquireRelease(Scope.make(), (scope, exit) =>
        // Released in a fiber of its own, so that giving up on it neither interrupts nor waits for it
        // (a release runs uninterruptibly: only the wait for it is made interruptible).
        Effect.forkDaemon(Scope.close(scope, exit)).pipe(
          Effect.flatMap((closing) => Effect.interruptible(Fiber.join(closing))),
          Effect.timeoutOption(Duration.millis(shutdownTimeoutMs)),
          Effect.flatMap(Option.match({
            onSome: () => Effect.void,
            onNone: () => Effect.logWarning(`stopping ${step} took longer than ${shutdownTimeoutMs} ms: left behind`)
          }))
        ))
      return yield* Layer.buildWithScope(layer, scope)
    })
  )

/**
 * Runs `layer` until SIGINT or SIGTERM, then releases it and exits. runMain handles the first
 * signal and stops listening, so a second one would kill the process mid-shutdown by default:
 * a terminal's Ctrl-C reaches both npm and node, and npm relays it, so a repeat within a second
 * is that duplicate and is ignored; a later one means "now" and exits at once.
 */
export const launch = <E>(layer: Layer.Layer<never, E>): void => {
  let firstSignalAt: number | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === undefined) return void (firstSignalAt = Date.now())
    if (Date.now() - firstSignalAt < 1000) return
    process.stderr.write(`${signal} again: exiting before the shutdown finished\n`)
    process.exit(130)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  Layer.launch(layer).pipe(
    // Once every step is released or abandoned, exit: runMain would also wait for the fibers an
    // abandoned step left running (a queue client's close that never returns).
    Effect.onExit((exit) =>
      Effect.sync(() => {
        if (firstSignalAt !== undefined && Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) process.exit(0)
      })
    ),
    NodeRuntime.runMain({ disablePrettyLogger: true })
  )
}
