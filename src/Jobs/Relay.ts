/**
 * The outbox relay: publishes committed outbox rows to BullMQ, then marks them published.
 *
 * Rows this process committed are handed over by the outbox as their transaction commits, and
 * published within `GATHER`: no LISTEN round and no polling, and the confirmations of the commits
 * gathered meanwhile go as one job (the catalogue's merges, `JobMerge`): a lone customer booking back to back
 * would otherwise pay the queue's and the worker's per-job cost (a handful of Redis round trips,
 * the job's own statements) for every booking. They are marked published in bulk. A sweep
 * publishes what was left pending (a crash between commit and publish, a queue that was down,
 * another process's rows): only rows older than `SWEEP_MIN_AGE_MS`, so that it does not race the
 * direct path. Several relays (one per process) can run at once: the sweep claims rows with
 * `FOR UPDATE SKIP LOCKED`, and a row published twice carries the same job id, which BullMQ ignores
 * (the delivery log keeps its email single anyway).
 */
import { type Cause, Effect, Layer, Ref, Schedule } from "effect"
import { AppConfig } from "../Platform/Config.ts"
import { JobCatalogue, type JobMerge } from "./JobCatalogue.ts"
import { Outbox, type OutboxEntry } from "./Outbox.ts"
import { QueueBackend } from "./QueueBackend.ts"

/** Rows published per sweep transaction. */
export const RELAY_BATCH = 200

/** The sweep leaves younger rows to the direct path (published within milliseconds, marked within `MARK_EVERY`). */
export const SWEEP_MIN_AGE_MS = 5_000

/** Published rows are marked together: one statement for all the commits of this interval. */
const MARK_EVERY = "100 millis"

/** How long the direct path waits for more commits after one arrives; an email this much later is no later for its reader. */
const GATHER = "50 millis"

/**
 * The jobs to publish for the entries gathered: the rows of each type that merges (`merges`, by
 * name) merged, up to its `max` a job, under the first row's job id and their count, which no
 * other publish gives; every other row as itself.
 */
export const jobsOf = (
  entries: ReadonlyArray<OutboxEntry>,
  merges: ReadonlyMap<string, JobMerge>
): ReadonlyArray<OutboxEntry> => {
  let merged: ReadonlyArray<OutboxEntry> = entries
  for (const [name, merge] of merges) merged = mergedOf(merged, name, merge)
  return merged
}

/** `entries` with those named `name` merged by `merge` (first), the others after them in their order. */
const mergedOf = (entries: ReadonlyArray<OutboxEntry>, name: string, merge: JobMerge): ReadonlyArray<OutboxEntry> => {
  const confirmations = entries.filter((entry) => entry.name === name)
  if (confirmations.length < 2) return entries
  const merged: Array<OutboxEntry> = []
  let group: Array<OutboxEntry> = []
  let bookings = 0
  const close = () => {
    if (group.length === 0) return
    const [first] = group
    merged.push(
      group.length === 1 ? first! : {
        ...first!,
        jobId: `${first!.jobId}-${group.length}`,
        payload: merge.combine(group.map((entry) => entry.payload))
      }
    )
    group = []
    bookings = 0
  }
  for (const entry of confirmations) {
    const size = merge.size(entry.payload)
    if (bookings + size > merge.max) close()
    group.push(entry)
    bookings += size
  }
  close()
  return [...merged, ...entries.filter((entry) => entry.name !== name)]
}

export const RelayLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { jobs } = yield* AppConfig
    const outbox = yield* Outbox
    const backend = yield* QueueBackend
    const { merges } = yield* JobCatalogue
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
    const direct = outbox.committed(GATHER).pipe(
      Effect.flatMap((entries) =>
        backend.publish(jobsOf(entries, merges)).pipe(
          Effect.zipRight(Ref.update(published, (ids) => [...ids, ...entries.map((entry) => entry.id)])),
          Effect.zipRight(recovered),
          // Left pending: the sweep publishes them once the queue answers again.
          Effect.catchAllCause(failed)
        )
      )
    )
    yield* Effect.forever(direct).pipe(Effect.forkScoped)
    // Unmarked rows are only published again by the sweep: harmless, so a failure is logged, not retried.
    const mark = Effect.flatMap(Ref.getAndSet(published, []), (ids) => ids.length === 0 ? Effect.void : outbox.markPublished(ids))
      .pipe(Effect.catchAllCause((cause) => Effect.logWarning("marking published outbox rows failed", cause)))
    yield* mark.pipe(Effect.repeat(Schedule.spaced(MARK_EVERY)), Effect.forkScoped)
    // The last marks before the pool closes (the scope closes this layer before the database's).
    yield* Effect.addFinalizer(() => mark)

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
