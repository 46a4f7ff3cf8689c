/**
 * bcrypt off the event loop, on a small pool of threads (Platform/ThreadPool.ts). A hash costs
 * ~70 ms of CPU at cost 10; on the main thread a burst of logins would stall every other request.
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import { makeThreadPool } from "../Platform/ThreadPool.ts"

export type PasswordTask =
  | { readonly op: "hash"; readonly password: string; readonly cost: number }
  | { readonly op: "compare"; readonly password: string; readonly hash: string }

// It loads bcryptjs from the path the main thread resolved.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require("node:worker_threads")
  const bcrypt = require(workerData.bcrypt)
  parentPort.on("message", ({ id, task }) => {
    const work = task.op === "hash" ? bcrypt.hash(task.password, task.cost) : bcrypt.compare(task.password, task.hash)
    work.then((value) => parentPort.postMessage({ id, value }), (error) => parentPort.postMessage({ id, error: String(error) }))
  })`

/** `size` threads; a task that fails in its thread (never with valid input) is a defect. */
export const makePasswordWorkers = (size: number) =>
  Effect.map(
    makeThreadPool<PasswordTask, string | boolean>({
      source: WORKER_SOURCE,
      workerData: { bcrypt: createRequire(import.meta.url).resolve("bcryptjs") },
      size
    }),
    (run) => <A extends string | boolean>(task: PasswordTask): Effect.Effect<A> => Effect.orDie(run(task)) as Effect.Effect<A>
  )
