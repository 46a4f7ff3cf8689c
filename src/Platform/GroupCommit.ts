/**
 * Group commit, keyed: work items for the same key (bookings of one event) that arrive while a
 * commit for that key is in flight wait in the key's line, and the next commit takes the whole
 * line (up to `maxBatch`) at once. There is no timer: a lone item commits immediately, and the
 * busier a key gets, the larger its batches. Each submitter gets its own outcome.
 *
 * A line is a plain array, created with its first item and dropped once drained, so idle keys
 * cost nothing; one fiber per busy key drains it.
 */
import { Cause, Deferred, Effect, Either, Exit, FiberId, FiberSet } from "effect"

export interface GroupCommitOptions<K, I, A, E> {
  /** Most items one commit takes. */
  readonly maxBatch: number
  /** Most items that may wait for one key; past that `submit` fails with `overloaded` at once. */
  readonly maxWaiting: number
  /**
   * Commits a batch for `key`: one outcome per item, in order. It must not fail; if it dies, every
   * item of the batch dies with the same cause.
   */
  readonly commit: (key: K, items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<Either.Either<A, E>>>
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

/** Drainer fibers belong to the scope: closing it lets the batch in flight finish, then stops. */
export const make = <K, I, A, E>(options: GroupCommitOptions<K, I, A, E>) =>
  Effect.gen(function*() {
    const runFork = yield* FiberSet.makeRuntime<never>()
    const lines = new Map<K, Array<Waiter<I, A, E>>>()

    /** The next `maxBatch` waiters, less those that gave up, taken off the line. */
    const takeBatch = (line: Array<Waiter<I, A, E>>) => line.splice(0, options.maxBatch).filter((waiter) => !waiter.abandoned)

    const settle = (batch: ReadonlyArray<Waiter<I, A, E>>, exit: Exit.Exit<ReadonlyArray<Either.Either<A, E>>>) => {
      batch.forEach((waiter, i) => {
        const outcome = Exit.isSuccess(exit)
          ? Either.match(exit.value[i]!, { onLeft: Exit.fail, onRight: Exit.succeed })
          : Exit.failCause(exit.cause)
        Deferred.unsafeDone(waiter.outcome, outcome)
      })
    }

    // A batch, once taken, is committed and answered even if the scope closes meanwhile. A caller
    // that gave up after its item was taken (client gone, deadline) never hears the outcome: say so.
    const commitBatch = (key: K, batch: ReadonlyArray<Waiter<I, A, E>>) =>
      Effect.uninterruptible(
        Effect.flatMap(Effect.exit(options.commit(key, batch.map((waiter) => waiter.item))), (exit) => {
          settle(batch, exit)
          const unanswered = batch.filter((waiter) => waiter.abandoned).length
          return unanswered === 0 ? Effect.void : Effect.logWarning("outcomes committed after their callers gave up").pipe(
            Effect.annotateLogs({ key: String(key), unanswered, batch: batch.length })
          )
        })
      )

    const drain = (key: K, line: Array<Waiter<I, A, E>>): Effect.Effect<void> =>
      Effect.iterate(true, {
        while: (more) => more,
        body: () =>
          Effect.suspend(() => {
            const batch = takeBatch(line)
            if (batch.length > 0) return Effect.as(commitBatch(key, batch), true)
            lines.delete(key) // nothing arrived during the last commit: the line closes
            return Effect.succeed(false)
          })
      }).pipe(
        // Stopped between batches (shutdown): nobody is left waiting for ever.
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            lines.delete(key)
            for (const waiter of line.splice(0)) Deferred.unsafeDone(waiter.outcome, Exit.failCause(Cause.interrupt(FiberId.none)))
          })
        ),
        Effect.asVoid
      )

    const submit = (key: K, item: I): Effect.Effect<A, E> =>
      Effect.suspend(() => {
        let line = lines.get(key)
        if (line !== undefined && line.length >= options.maxWaiting) return Effect.fail(options.overloaded())
        const waiter: Waiter<I, A, E> = { item, outcome: Deferred.unsafeMake(FiberId.none), abandoned: false }
        if (line === undefined) {
          line = [waiter]
          lines.set(key, line)
          runFork(drain(key, line))
        } else {
          line.push(waiter)
        }
        return Deferred.await(waiter.outcome).pipe(
          Effect.onInterrupt(() => Effect.sync(() => (waiter.abandoned = true)))
        )
      })

    return { submit } satisfies GroupCommit<K, I, A, E>
  })
