/**
 * The outbox relay: publishes committed outbox rows to BullMQ, then marks them published.
 *
 * Rows this process committed are handed over by the outbox as their transaction commits, and
 * published at once: no LISTEN round, no polling, and commits that arrive while a publish is in
 * flight go together in the next one. They are marked published in bulk a moment later. A sweep
 * publishes what was left pending (a crash between commit and publish, a queue that was down,
 * another process's rows): only rows older than `SWEEP_MIN_AGE_MS`, so that it does not race the
 * direct path. Several relays (one per process) can run at once: the sweep claims rows with
 * `FOR UPDATE SKIP LOCKED`, and a row published twice carries the same job id, which BullMQ ignores
 * (the delivery log keeps its email single anyway).
 */
import { type Cause, Effect, Layer, Ref, Schedule } from "effect"
import { AppConfig } from "../Config.ts"
import { Outbox } from "./Outbox.ts"
import { QueueBackend } from "./QueueBackend.ts"

/** Rows published per sweep transaction. */
export const RELAY_BATCH = 200

/** The sweep leaves younger rows to the direct path (published within milliseconds, marked within `MARK_EVERY`). */
export const SWEEP_MIN_AGE_MS = 5_000

/** Published rows are marked together: one statement for all the commits of this interval. */
const MARK_EVERY = "100 millis"

export const RelayLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { jobs } = yield* AppConfig
    const outbox = yield* Outbox
    const backend = yield* QueueBackend
    const poll = `${jobs.pollIntervalMs} millis` as const

    // Log when publishing starts failing and when it recovers, not on every attempt in between.
    const failing = yield* Ref.make(false)
    const recovered = Effect.whenEffect(Effect.logInfo("job queue reachable again; outbox published"), Ref.getAndSet(failing, false))
    const failed = (cause: Cause.Cause<unknown>) =>
      Effect.whenEffect(
        Effect.logWarning(`publishing the outbox failed; jobs stay there and are retried every ${jobs.pollIntervalMs} ms`, cause),
        Ref.getAndSet(failing, true).pipe(Effect.map((was) => !was))
      )

    // The direct path: what this process committed, published as soon as it is taken.
    const published = yield* Ref.make<ReadonlyArray<string>>([])
    const direct = outbox.committed.pipe(
      Effect.flatMap((entries) =>
        backend.publish(entries).pipe(
          Effect.zipRight(Ref.update(published, (ids) => [...ids, ...entries.map((entry) => entry.id)])),
          Effect.zipRight(recovered),
          // Left pending: the sweep publishes them once the queue answers again.
          Effect.catchAllCause(failed)
        )
      )
    )
    yield* Effect.forever(direct).pipe(Effect.forkScoped)
    const mark = Effect.flatMap(Ref.getAndSet(published, []), (ids) => ids.length === 0 ? Effect.void : outbox.markPublished(ids))
    yield* mark.pipe(
      // Unmarked rows are only published again by the sweep: harmless, so a failure is logged, not retried.
      Effect.catchAllCause((cause) => Effect.logWarning("marking published outbox rows failed", cause)),
      Effect.repeat(Schedule.spaced(MARK_EVERY)),
      Effect.forkScoped
    )
    // The last marks before the pool closes (the scope closes this layer before the database's).
    yield* Effect.addFinalizer(() => Effect.ignore(mark))

    /** Publishes batches until nothing old enough is pending. */
    const sweep = outbox.publishPending(RELAY_BATCH, backend.publish, SWEEP_MIN_AGE_MS).pipe(
      Effect.repeat({ while: (count) => count === RELAY_BATCH }),
      Effect.zipRight(recovered),
      Effect.catchAllCause(failed)
    )
    yield* sweep.pipe(Effect.repeat(Schedule.spaced(poll)), Effect.forkScoped)

    yield* outbox.prune(jobs.outboxRetentionHours).pipe(
      Effect.tap((pruned) => pruned > 0 ? Effect.logInfo(`pruned ${pruned} published outbox rows`) : Effect.void),
      Effect.catchAllCause((cause) => Effect.logWarning("pruning the outbox failed", cause)),
      Effect.repeat(Schedule.spaced("1 hour")),
      Effect.forkScoped
    )
  })
)
