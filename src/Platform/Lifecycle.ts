/**
 * How the processes start and stop: shutdown steps logged and bounded in time, a deadline for the
 * whole shutdown, and signals handled once.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Duration, Effect, Exit, Fiber, Layer, LogLevel, Option, Runtime, Scope } from "effect"
import { AppConfig, shutdownDeadlineMs } from "./Config.ts"
import { refusalLine } from "./Refusal.ts"

/** Shutdown steps under way (abandoned ones included), each with what it waits for: the deadline names them. */
const stepsUnderWay = new Map<string, () => string>()

/**
 * `release` as a named shutdown step: logged at INFO when done, and named by the deadline while
 * it runs. `waitingFor` says what it is waiting for, if more than its name.
 */
export const shutdownStep = (step: string, waitingFor: () => string = () => "") => <A, E, R>(release: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const started = Date.now()
    stepsUnderWay.set(step, waitingFor)
    return release.pipe(
      Effect.ensuring(Effect.suspend(() => {
        stepsUnderWay.delete(step)
        return Effect.logInfo(`stopped ${step} (${Date.now() - started} ms)`)
      }))
    )
  })

/**
 * `layer`, whose release is a shutdown step that may take at most SHUTDOWN_TIMEOUT_MS: past that
 * it is left behind with a warning and the rest of the shutdown goes on (a queue or database that
 * stopped answering must not hold the process forever; jobs cut short are retried once their lock
 * expires).
 */
export const boundedShutdown = (step: string) => <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, E, R | AppConfig> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const { server: { shutdownTimeoutMs } } = yield* AppConfig
      const scope = yield* Effect.acquireRelease(Scope.make(), (scope, exit) =>
        // Released in a fiber of its own, so that giving up on it neither interrupts nor waits for it
        // (a release runs uninterruptibly: only the wait for it is made interruptible).
        Effect.forkDaemon(shutdownStep(step)(Scope.close(scope, exit))).pipe(
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
 * Runs `layer` (the process called `name` in its log) until SIGINT or SIGTERM, then releases it
 * and exits. It logs "<name> ready" once the layer is built and "<name> stopped" once released;
 * a refusal to start (Platform/Refusal.ts) is one line on standard error and the exit code 1.
 *
 * - The first signal is logged and arms SHUTDOWN_DEADLINE_MS: a timer that does not keep the
 *   process alive, and, if the shutdown is not done by then, logs the steps still under way and
 *   exits 1.
 * - runMain handles the first signal and stops listening, so a second one would kill the process
 *   mid-shutdown by default: a terminal's Ctrl-C reaches both npm and node, and npm relays it, so a
 *   repeat within a second is that duplicate and is ignored; a later one means "now" and exits at once.
 * - Once stopping, an exception nothing caught (a client library's connection failing while it is
 *   being closed) is logged instead of ending the process before the rest is released.
 */
export const launch = <E>(layer: Layer.Layer<never, E>, name: string): void => {
  const startedAt = Date.now()
  let deadlineMs = 0
  let stoppingSince: number | undefined
  // The layer's logger once it is built; before that, standard error.
  let log: (level: LogLevel.LogLevel, message: string, cause?: Cause.Cause<unknown>) => void = (level, message, cause) =>
    process.stderr.write(`${level.label} ${message}${cause === undefined ? "" : `\n${Cause.pretty(cause)}`}\n`)

  const deadlinePassed = () => {
    const waiting = [...stepsUnderWay].map(([step, waitingFor]) => [step, waitingFor()].filter((s) => s !== "").join(": "))
    log(
      LogLevel.Error,
      `shutdown not done after SHUTDOWN_DEADLINE_MS (${deadlineMs} ms), exiting; still waiting for: ${
        waiting.length === 0 ? "no step under way (a release outside them)" : waiting.join("; ")
      }`
    )
    process.exit(1)
  }
  const duringShutdown = (error: unknown) => log(LogLevel.Warning, "uncaught while stopping (ignored)", Cause.die(error))
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince === undefined) {
      stoppingSince = Date.now()
      log(LogLevel.Info, `${signal} received: stopping (at most ${deadlineMs} ms)`)
      setTimeout(deadlinePassed, deadlineMs).unref()
      process.on("uncaughtException", duringShutdown)
      return
    }
    if (Date.now() - stoppingSince < 1000) return
    process.stderr.write(`${signal} again: exiting before the shutdown finished\n`)
    process.exit(130)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)

  Effect.gen(function*() {
    deadlineMs = yield* shutdownDeadlineMs
    yield* Layer.build(layer)
    const runtime = yield* Effect.runtime<never>()
    log = (level, message, cause) => Runtime.runSync(runtime)(Effect.logWithLevel(level, message, cause ?? Cause.empty))
    log(LogLevel.Info, `${name} ready (${Date.now() - startedAt} ms)`)
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    // Once every step is released or abandoned, exit: runMain would also wait for the fibers an
    // abandoned step left running (a queue client's close that never returns).
    Effect.onExit((exit) =>
      Effect.sync(() => {
        if (stoppingSince === undefined || !Exit.isFailure(exit) || !Cause.isInterruptedOnly(exit.cause)) return
        log(LogLevel.Info, `${name} stopped (${Date.now() - stoppingSince} ms)`)
        process.exit(0)
      })
    ),
    // Released by now: what was built before the refusal is stopped.
    Effect.catchAllCause((cause) =>
      Option.match(refusalLine(cause), {
        onNone: () => Effect.failCause(cause),
        onSome: (line) =>
          Effect.sync(() => {
            process.stderr.write(`error: ${line}\n`)
            process.exit(1)
          })
      })
    ),
    NodeRuntime.runMain({ disablePrettyLogger: true })
  )
}
