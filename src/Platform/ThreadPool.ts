/**
 * CPU-bound work off the event loop: a small pool of worker threads, each running the same
 * CommonJS `source` (evaluated from a string, so that it runs the same under tsx, vitest and the
 * compiled bundle). The source answers every `{ id, task }` message with `{ id, value }` or
 * `{ id, error }` (a message).
 */
import { Data, Deferred, Effect, Exit, FiberId, type Scope } from "effect"
import { Worker } from "node:worker_threads"

/** What a task's thread answered instead of a value. */
export class ThreadTaskError extends Data.TaggedError("ThreadTaskError")<{ readonly message: string }> {}

export interface ThreadPoolOptions {
  readonly source: string
  readonly workerData: unknown
  readonly size: number
}

interface Slot {
  readonly worker: Worker
  readonly pending: Map<number, Deferred.Deferred<unknown, ThreadTaskError>>
}

/**
 * A pool of `size` threads, stopped when the scope closes; each task goes to the least busy one.
 * Threads are referenced only while they have work: an idle pool never keeps the process alive.
 */
export const makeThreadPool = <Task, Result>(
  { size, source, workerData }: ThreadPoolOptions
): Effect.Effect<(task: Task) => Effect.Effect<Result, ThreadTaskError>, never, Scope.Scope> =>
  Effect.gen(function*() {
    let nextId = 0
    const slots = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Array.from({ length: size }, (): Slot => {
          const worker = new Worker(source, { eval: true, workerData })
          const pending = new Map<number, Deferred.Deferred<unknown, ThreadTaskError>>()
          worker.on("message", ({ error, id, value }: { id: number; value?: unknown; error?: string }) => {
            const waiting = pending.get(id)
            pending.delete(id)
            if (pending.size === 0) worker.unref()
            if (waiting !== undefined) {
              Deferred.unsafeDone(waiting, error === undefined ? Exit.succeed(value) : Exit.fail(new ThreadTaskError({ message: error })))
            }
          })
          // A thread that dies fails what it held; it is not replaced (a bug, not a load condition).
          worker.on("error", (error) => {
            for (const waiting of pending.values()) Deferred.unsafeDone(waiting, Exit.die(error))
            pending.clear()
          })
          worker.unref()
          return { worker, pending }
        })
      ),
      (slots) => Effect.promise(() => Promise.all(slots.map((slot) => slot.worker.terminate())))
    )

    return (task: Task) =>
      Effect.suspend(() => {
        const slot = slots.reduce((least, slot) => slot.pending.size < least.pending.size ? slot : least)
        const id = nextId++
        const done = Deferred.unsafeMake<unknown, ThreadTaskError>(FiberId.none)
        if (slot.pending.size === 0) slot.worker.ref()
        slot.pending.set(id, done)
        slot.worker.postMessage({ id, task })
        return Deferred.await(done) as Effect.Effect<Result, ThreadTaskError>
      })
  })
