/**
 * CPU-bound work off the event loop: a small pool of worker threads, each running the same
 * CommonJS `source` (evaluated from a string, so that it runs the same under tsx, vitest and the
 * compiled bundle). The source answers every `{ id, task }` message with `{ id, value }` or
 * `{ id, error }` (a message).
 */
import { Data, Deferred, Effect, Exit, FiberId, type Scope } from "effect"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"

/** What a task's thread answered instead of a value. */
export class ThreadTaskError extends Data.TaggedError("ThreadTaskError")<{ readonly message: string }> {}

export interface ThreadPoolOptions {
  readonly source: string
  readonly workerData: unknown
  readonly size: number
  /** A thread with no task for this long is stopped, and started again by the next task (default IDLE_STOP_MS). */
  readonly idleStopMs?: number
}

/**
 * Each thread's young generation: 12 MB (4 MB semi-spaces, 8 MB in use) instead of the main
 * thread's 48 (16 MB semi-spaces). Hashing a password or building a mail keeps little alive, and
 * the mail thread held 47–49 MB with the default against 19–22 with this (`scenario.ts book 8 64`,
 * two runs each; whole-process RSS 222–223 against 185–193 MB). Smaller is worse: with 6 MB the
 * mails of a batch outlive the young collections and its old generation grew to 22–35 MB.
 * Building 3,000 emails costs the same CPU with 1, 2, 4 or 16 MB semi-spaces (0.78–1.03 ms each,
 * run to run). V8's `--max-semi-space-size` flag would override it: npm start sets none.
 */
const THREAD_YOUNG_GENERATION_MB = 12

/**
 * A source may embed a TypeScript function by its text (`fn.toString()`: type-checked code run on
 * the thread). Under tsx and vitest esbuild keeps functions' names by wrapping inner ones in
 * `__name(fn, "name")`, a helper of the module they came from: defined here as what it is for the
 * code, the function itself.
 */
const PRELUDE = "var __name = (fn) => fn;\n"

/** A thread that dies is replaced, but not sooner than this after the previous start: a source that cannot start must not spin. */
const RESTART_AFTER_MS = 1000

/**
 * A thread idle this long is stopped: each holds its own V8 heap, ~10–25 MB of the process's
 * memory (a mail thread after 3,000 QR codes: 25 MB; a bcrypt thread: 13 MB; stopping both gave
 * back 26 MB in a scratch measurement). A rush or a burst of logins keeps its thread; the first task
 * after a quiet spell pays the thread's start (tens of milliseconds, off the event loop), which a
 * mail or a login can wait.
 */
const IDLE_STOP_MS = 10_000

interface Slot {
  /** Undefined until the slot's first task: a thread costs memory (its own V8 heap) and start-up time. */
  worker: Worker | undefined
  startedAt: number
  /** Why the thread is gone while it waits to be replaced. */
  down: Error | undefined
  /** Stops the thread once it has been idle IDLE_STOP_MS; cleared by the next task. */
  idle: ReturnType<typeof setTimeout> | undefined
  readonly pending: Map<number, Deferred.Deferred<unknown, ThreadTaskError>>
}

/**
 * A pool of up to `size` threads, stopped when the scope closes; each task goes to the least busy
 * one, and a thread is started when a task first needs it (a process that never hashes a password
 * or sends a mail starts no thread for it), and stopped once idle for `idleStopMs`. Threads are
 * referenced only while they have work: an idle pool never keeps the process alive.
 * A thread that dies fails the tasks it held (defects) and is replaced; tasks sent while it is
 * down fail at once rather than wait for ever.
 */
export const makeThreadPool = <Task, Result>(
  { idleStopMs = IDLE_STOP_MS, size, source, workerData }: ThreadPoolOptions
): Effect.Effect<(task: Task) => Effect.Effect<Result, ThreadTaskError>, never, Scope.Scope> =>
  Effect.gen(function*() {
    let nextId = 0
    let closing = false

    /** Stops `slot`'s thread once it has had no task for `idleStopMs`; the next task starts another. */
    const stopWhenIdle = (slot: Slot, worker: Worker) => {
      clearTimeout(slot.idle)
      slot.idle = setTimeout(() => {
        if (closing || slot.worker !== worker || slot.pending.size > 0) return
        slot.worker = undefined
        void worker.terminate()
      }, idleStopMs)
      slot.idle.unref()
    }

    /** Starts `slot`'s thread; answers its tasks, and replaces it when it dies. */
    const start = (slot: Slot) => {
      const worker = new Worker(PRELUDE + source, {
        eval: true,
        workerData,
        resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB }
      })
      Object.assign(slot, { worker, startedAt: Date.now(), down: undefined })
      worker.on("message", ({ error, id, value }: { id: number; value?: unknown; error?: string }) => {
        const waiting = slot.pending.get(id)
        slot.pending.delete(id)
        if (slot.pending.size === 0) {
          worker.unref()
          stopWhenIdle(slot, worker)
        }
        if (waiting !== undefined) {
          Deferred.unsafeDone(waiting, error === undefined ? Exit.succeed(value) : Exit.fail(new ThreadTaskError({ message: error })))
        }
      })
      worker.on("error", (error) => {
        if (slot.worker === worker) slot.down = error
      })
      worker.on("exit", (code) => {
        // Stopped when the pool closed, or when idle (the slot has let go of it).
        if (closing || slot.worker !== worker) return
        const reason = slot.down ?? new Error(`the thread exited with code ${code}`)
        slot.down = reason
        for (const waiting of slot.pending.values()) Deferred.unsafeDone(waiting, Exit.die(reason))
        slot.pending.clear()
        const wait = Math.max(0, slot.startedAt + RESTART_AFTER_MS - Date.now())
        setTimeout(() => {
          if (!closing) start(slot)
        }, wait).unref()
      })
      worker.unref()
    }

    const slots = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Array.from(
          { length: size },
          (): Slot => ({ worker: undefined, startedAt: 0, down: undefined, idle: undefined, pending: new Map() })
        )
      ),
      (slots) =>
        Effect.promise(() => {
          closing = true
          return Promise.all(slots.map((slot) => slot.worker?.terminate()))
        })
    )

    return (task: Task) =>
      Effect.suspend(() => {
        const live = slots.filter((slot) => slot.down === undefined)
        if (live.length === 0) return Effect.die(slots[0]!.down!)
        // An idle thread already started, else one not started yet, else the least busy.
        const slot = live.reduce((best, slot) =>
          slot.pending.size < best.pending.size || (slot.pending.size === best.pending.size && best.worker === undefined) ? slot : best
        )
        clearTimeout(slot.idle)
        if (slot.worker === undefined) start(slot)
        const worker = slot.worker!
        const id = nextId++
        const done = Deferred.unsafeMake<unknown, ThreadTaskError>(FiberId.none)
        if (slot.pending.size === 0) worker.ref()
        slot.pending.set(id, done)
        worker.postMessage({ id, task })
        return Deferred.await(done) as Effect.Effect<Result, ThreadTaskError>
      })
  })

/**
 * What a thread's CommonJS `source` defines as `name`, evaluated in this thread: the same code a
 * pool's thread runs, for the callers that need its answer here (an HTTP response, the in-memory
 * mailer of tests). The source requires packages by absolute paths, as a thread's does.
 */
export const evaluateHere = <A>(source: string, name: string): A =>
  new Function("require", `${PRELUDE}${source}\nreturn ${name}`)(createRequire(import.meta.url)) as A
