/**
 * bcrypt off the event loop: a small pool of worker threads. A hash costs ~70 ms of CPU at cost 10;
 * on the main thread a burst of logins would stall every other request.
 */
import { Deferred, Effect, Exit, FiberId } from "effect"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"

export type PasswordTask =
  | { readonly op: "hash"; readonly password: string; readonly cost: number }
  | { readonly op: "compare"; readonly password: string; readonly hash: string }

// The worker is evaluated from a string so that it runs the same under tsx, vitest and compiled
// output; it loads bcryptjs from the path the main thread resolved.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require("node:worker_threads")
  const bcrypt = require(workerData.bcrypt)
  parentPort.on("message", ({ id, task }) => {
    const work = task.op === "hash" ? bcrypt.hash(task.password, task.cost) : bcrypt.compare(task.password, task.hash)
    work.then((value) => parentPort.postMessage({ id, value }), (error) => parentPort.postMessage({ id, error: String(error) }))
  })`

interface Slot {
  readonly worker: Worker
  readonly pending: Map<number, Deferred.Deferred<string | boolean>>
}

/** A pool of `size` threads, stopped when the scope closes; each task goes to the least busy one. */
export const makePasswordWorkers = (size: number) =>
  Effect.gen(function*() {
    const bcrypt = createRequire(import.meta.url).resolve("bcryptjs")
    let nextId = 0
    const slots = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Array.from({ length: size }, (): Slot => {
          const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcrypt } })
          const pending = new Map<number, Deferred.Deferred<string | boolean>>()
          worker.on("message", ({ error, id, value }: { id: number; value?: string | boolean; error?: string }) => {
            const waiting = pending.get(id)
            pending.delete(id)
            if (pending.size === 0) worker.unref()
            if (waiting !== undefined) {
              Deferred.unsafeDone(waiting, error === undefined ? Exit.succeed(value!) : Exit.die(new Error(error)))
            }
          })
          // A thread that dies fails what it held; it is not replaced (a bug, not a load condition).
          worker.on("error", (error) => {
            for (const waiting of pending.values()) Deferred.unsafeDone(waiting, Exit.die(error))
            pending.clear()
          })
          // Referenced only while it has work: an idle pool never keeps the process alive.
          worker.unref()
          return { worker, pending }
        })
      ),
      (slots) => Effect.promise(() => Promise.all(slots.map((slot) => slot.worker.terminate())))
    )

    return <A extends string | boolean>(task: PasswordTask): Effect.Effect<A> =>
      Effect.suspend(() => {
        const slot = slots.reduce((least, slot) => slot.pending.size < least.pending.size ? slot : least)
        const id = nextId++
        const done = Deferred.unsafeMake<string | boolean>(FiberId.none)
        if (slot.pending.size === 0) slot.worker.ref()
        slot.pending.set(id, done)
        slot.worker.postMessage({ id, task })
        return Deferred.await(done) as Effect.Effect<A>
      })
  })
