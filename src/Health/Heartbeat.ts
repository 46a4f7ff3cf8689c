/**
 * A liveness signal for processes without an HTTP port (`npm run worker`): with HEARTBEAT_FILE set,
 * the current time is written to that file every few seconds while the database answers, and the
 * file is removed on shutdown. A container health check reads its age (scripts/healthcheck.ts).
 */
import { Effect, Layer, Option, Schedule } from "effect"
import { rm, writeFile } from "node:fs/promises"
import { optionalString } from "../Platform/Config.ts"
import { Readiness } from "./Readiness.ts"

/** How often the file is rewritten; a health check should allow several missed beats. */
export const HEARTBEAT_INTERVAL_MS = 5_000

export const HeartbeatLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const file = yield* optionalString("HEARTBEAT_FILE")
    if (Option.isNone(file)) return
    const readiness = yield* Readiness
    const path = file.value
    // A beat is skipped (and the file ages) while the database does not answer.
    const beat = readiness.check.pipe(
      Effect.zipRight(Effect.promise(() => writeFile(path, `${new Date().toISOString()}\n`))),
      Effect.catchAllCause((cause) => Effect.logWarning("heartbeat skipped", cause))
    )
    yield* Effect.addFinalizer(() => Effect.promise(() => rm(path, { force: true })))
    yield* beat.pipe(Effect.repeat(Schedule.spaced(HEARTBEAT_INTERVAL_MS)), Effect.forkScoped)
  })
)
