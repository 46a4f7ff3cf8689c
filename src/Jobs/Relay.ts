/**
 * The outbox relay: publishes committed outbox rows to BullMQ, then marks them published.
 *
 * Woken by PostgreSQL's NOTIFY when a transaction that wrote jobs commits, and by a timer as a
 * fallback (a dropped LISTEN connection, rows left by a failed attempt). Several relays (one per
 * process) can run at once: each claims rows with `FOR UPDATE SKIP LOCKED`, and a row published
 * twice (a crash before it was marked) carries the same job id, which BullMQ ignores.
 */
import { type Cause, Effect, Layer, Queue, Ref, Schedule, Stream } from "effect"
import { AppConfig } from "../Config.ts"
import { Outbox } from "./Outbox.ts"
import { QueueBackend } from "./QueueBackend.ts"

/** Rows published per transaction. */
export const RELAY_BATCH = 200

/**
 * The least time between two passes. Under a booking rush every commit wakes the relay, and a pass
 * costs a few round trips and ~2 ms of CPU; gathering the commits of 50 ms into one pass makes that
 * a handful of passes a second, and an email 50 ms later is no later for its reader.
 */
const GATHER = "50 millis"

export const RelayLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { jobs } = yield* AppConfig
    const outbox = yield* Outbox
    const backend = yield* QueueBackend
    const poll = `${jobs.pollIntervalMs} millis` as const

    // At most one pending wake-up: a burst of commits is one pass over the outbox.
    const wakeUps = yield* Queue.sliding<void>(1)
    yield* outbox.commits.pipe(
      Stream.runForEach(() => Queue.offer(wakeUps, undefined)),
      Effect.tapErrorCause((cause) => Effect.logWarning("outbox LISTEN connection lost; polling until it is back", cause)),
      Effect.retry(Schedule.spaced(poll)),
      Effect.forkScoped
    )

    /** Publishes batches until the outbox is drained. */
    const drain = outbox.publishPending(RELAY_BATCH, backend.publish).pipe(
      Effect.repeat({ while: (published) => published === RELAY_BATCH })
    )

    // Log when publishing starts failing and when it recovers, not on every attempt in between.
    const failing = yield* Ref.make(false)
    const recovered = Effect.whenEffect(Effect.logInfo("job queue reachable again; outbox published"), Ref.getAndSet(failing, false))
    const failed = (cause: Cause.Cause<unknown>) =>
      Effect.whenEffect(
        Effect.logWarning(`publishing the outbox failed; jobs stay there and are retried every ${jobs.pollIntervalMs} ms`, cause),
        Ref.getAndSet(failing, true).pipe(Effect.map((was) => !was))
      )
    const pass = drain.pipe(
      Effect.zipRight(recovered),
      Effect.zipRight(Effect.race(Queue.take(wakeUps), Effect.sleep(poll))),
      Effect.zipRight(Effect.sleep(GATHER)),
      Effect.catchAllCause((cause) => failed(cause).pipe(Effect.zipRight(Effect.sleep(poll))))
    )
    yield* Effect.forever(pass).pipe(Effect.forkScoped)

    yield* outbox.prune(jobs.outboxRetentionHours).pipe(
      Effect.tap((pruned) => pruned > 0 ? Effect.logInfo(`pruned ${pruned} published outbox rows`) : Effect.void),
      Effect.catchAllCause((cause) => Effect.logWarning("pruning the outbox failed", cause)),
      Effect.repeat(Schedule.spaced("1 hour")),
      Effect.forkScoped
    )
  })
)
