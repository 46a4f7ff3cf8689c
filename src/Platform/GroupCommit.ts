/**
 * Group commit, keyed: work items for the same key (operations on one event) that arrive while a
 * commit for that key is in flight wait in the key's line, and the next commit takes the whole
 * line at once. There is no timer: a lone item commits immediately, and the busier a key gets, the
 * larger its batches.
 *
 * One commit may take the lines of several keys (up to `maxBatch` items in all), and up to
 * `maxCommits` commits run at once, never two for the same key: items spread over many keys are
 * batched too, instead of one commit each. Each submitter gets its own outcome.
 *
 * A line is a plain array, created with its first item and dropped once taken, so idle keys cost
 * nothing.
 */
import { Cause, Deferred, Effect, Either, Exit, FiberId, FiberSet } from "effect"

/** The items of one key that a commit takes, in arrival order. */
export interface Line<K, I> {
  readonly key: K
  readonly items: ReadonlyArray<I>
}

export interface GroupCommitOptions<K, I, A, E> {
  /** Most items one commit takes, over all its keys. */
  readonly maxBatch: number
  /** Most items that may wait for one key; past that `submit` fails with `overloaded` at once. */
  readonly maxWaiting: number
  /** Most commits in flight at once. */
  readonly maxCommits: number
  /**
   * Commits the lines of several keys (no key twice): one outcome per item, per line, in order. It
   * must not fail; if it dies, every item it was given dies with the same cause.
   */
  readonly commit: (lines: ReadonlyArray<Line<K, I>>) => Effect.Effect<ReadonlyArray<ReadonlyArray<Either.Either<A, E>>>>
  readonly overloaded: () => E
}

export interface GroupCommit<K, I, A, E> {
  /** Queues `item` behind the key's commit in flight, if any; waits for its own outcome. */
  readonly submit: (key: K, item: I) => Effect.Effect<A, E>
}

interface Waiter<I, A, E> {
  readonly item: I
  readonly outcome: Deferred.Deferred<A, E>
  /** The submitter was interrupted before its batch was taken: leave it out. */
  abandoned: boolean
}

interface Taken<K, I, A, E> {
  readonly key: K
  readonly waiters: ReadonlyArray<Waiter<I, A, E>>
}

/** Commit fibers belong to the scope: closing it lets the commits in flight finish, and fails the items still waiting. */
export const make = <K, I, A, E>(options: GroupCommitOptions<K, I, A, E>) =>
  Effect.gen(function*() {
    const runFork = yield* FiberSet.makeRuntime<never>()
    /** Items waiting, per key. */
    const lines = new Map<K, Array<Waiter<I, A, E>>>()
    /** Keys with a commit in flight: their items wait for it. */
    const busy = new Set<K>()
    /** Keys with items waiting and no commit in flight, oldest first. */
    const ready = new Set<K>()
    let inFlight = 0
    let closed = false

    /** Each waiter of the batch gets its own outcome, or the commit's defect. */
    const settle = (batch: ReadonlyArray<Taken<K, I, A, E>>, exit: Exit.Exit<ReadonlyArray<ReadonlyArray<Either.Either<A, E>>>>) =>
      batch.forEach(({ waiters }, i) =>
        waiters.forEach((waiter, j) =>
          Deferred.unsafeDone(
            waiter.outcome,
            Exit.isSuccess(exit)
              ? Either.match(exit.value[i]![j]!, { onLeft: Exit.fail, onRight: Exit.succeed })
              : Exit.failCause(exit.cause)
          )
        )
      )

    // A batch, once taken, is committed and answered even if the scope closes meanwhile. A caller
    // that gave up after its item was taken (client gone, deadline) never hears the outcome: say so.
    const commitBatch = (batch: ReadonlyArray<Taken<K, I, A, E>>) =>
      Effect.uninterruptible(
        Effect.flatMap(
          Effect.exit(options.commit(batch.map(({ key, waiters }) => ({ key, items: waiters.map((waiter) => waiter.item) })))),
          (exit) => {
            settle(batch, exit)
            const unanswered = batch.reduce((n, taken) => n + taken.waiters.filter((waiter) => waiter.abandoned).length, 0)
            return unanswered === 0 ? Effect.void : Effect.logWarning("outcomes committed after their callers gave up").pipe(
              Effect.annotateLogs({ keys: batch.map(({ key }) => String(key)).join(","), unanswered })
            )
          }
        )
      ).pipe(Effect.ensuring(Effect.sync(() => finished(batch))))

    /** The next batch: the ready keys' lines, oldest first, up to `maxBatch` items, less those that gave up. */
    const takeBatch = () => {
      const batch: Array<Taken<K, I, A, E>> = []
      let room = options.maxBatch
      for (const key of ready) {
        if (room === 0) break
        const line = lines.get(key)!
        const waiters = line.splice(0, room)
        room -= waiters.length
        if (line.length === 0) {
          lines.delete(key)
          ready.delete(key)
        }
        const live = waiters.filter((waiter) => !waiter.abandoned)
        if (live.length === 0) continue
        ready.delete(key)
        busy.add(key)
        batch.push({ key, waiters: live })
      }
      return batch
    }

    const pump = () => {
      while (!closed && inFlight < options.maxCommits && ready.size > 0) {
        const batch = takeBatch()
        if (batch.length === 0) continue
        inFlight++
        runFork(commitBatch(batch))
      }
    }

    const finished = (batch: ReadonlyArray<Taken<K, I, A, E>>) => {
      inFlight--
      for (const { key, waiters } of batch) {
        // Answered already, unless the commit never ran (interrupted before it began): then say so.
        for (const waiter of waiters) Deferred.unsafeDone(waiter.outcome, Exit.failCause(Cause.interrupt(FiberId.none)))
        busy.delete(key)
        if (lines.has(key)) ready.add(key)
      }
      pump()
    }

    // Closing: nobody is left waiting for ever (the commits in flight finish and answer their own).
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const line of lines.values()) {
          for (const waiter of line) Deferred.unsafeDone(waiter.outcome, Exit.failCause(Cause.interrupt(FiberId.none)))
        }
        lines.clear()
        ready.clear()
      })
    )

    const submit = (key: K, item: I): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        if (closed) return Effect.interrupt
        let line = lines.get(key)
        if (line !== undefined && line.length >= options.maxWaiting) return Effect.fail(options.overloaded())
        const waiter: Waiter<I, A, E> = { item, outcome: Deferred.unsafeMake(FiberId.none), abandoned: false }
        if (line === undefined) lines.set(key, line = [])
        line.push(waiter)
        if (!busy.has(key)) ready.add(key)
        pump()
        return Deferred.await(waiter.outcome).pipe(
          Effect.onInterrupt(() => Effect.sync(() => (waiter.abandoned = true)))
        )
      })

    return { submit } satisfies GroupCommit<K, I, A, E>
  })
