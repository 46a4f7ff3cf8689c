import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schedule } from "effect"
import { makeThreadPool, ThreadTaskError } from "../../src/Platform/ThreadPool.ts"

/** Doubles a number; "fail" answers an error; "crash" ends its thread. */
const SOURCE = `
  const { parentPort } = require("node:worker_threads")
  parentPort.on("message", ({ id, task }) => {
    if (task === "crash") process.exit(1)
    if (task === "fail") return parentPort.postMessage({ id, error: "refused" })
    parentPort.postMessage({ id, value: task * 2 })
  })`

const pool = makeThreadPool<number | "fail" | "crash", number>({ source: SOURCE, workerData: null, size: 1 })

describe("ThreadPool", () => {
  it.scoped("answers each task with its thread's value, or its error as a ThreadTaskError", () =>
    Effect.gen(function*() {
      const run = yield* pool
      expect(yield* Effect.all([run(1), run(2), run(3)], { concurrency: 3 })).toEqual([2, 4, 6])
      expect(yield* Effect.flip(run("fail"))).toEqual(new ThreadTaskError({ message: "refused" }))
    }))

  it.live("a thread that dies fails its task, fails tasks at once while it is down, and is replaced", () =>
    Effect.scoped(Effect.gen(function*() {
      const run = yield* pool
      const crashed = yield* Effect.exit(run("crash"))
      expect(Exit.isFailure(crashed) && Cause.isDie(crashed.cause)).toBe(true)
      // Down: an answer at once (a defect), not a task waiting for a thread that is gone.
      const whileDown = yield* Effect.exit(run(21)).pipe(Effect.timeout("500 millis"))
      expect(Exit.isFailure(whileDown)).toBe(true)
      // Replaced within about a second of its start.
      const answer = yield* run(21).pipe(
        Effect.sandbox,
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("5 seconds")))
      )
      expect(answer).toBe(42)
    })))
})
