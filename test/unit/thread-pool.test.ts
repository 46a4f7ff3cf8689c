import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Schedule } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
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

  it.live("starts a thread only when a task needs it: none before the first task, a second only while the first is busy", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "thread-pool-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const log = join(dir, "started")
      // Each thread notes its start; "slow" answers after 300 ms.
      const run = yield* makeThreadPool<number | "slow", number>({
        source: `
          const { parentPort, workerData, threadId } = require("node:worker_threads")
          require("node:fs").appendFileSync(workerData, threadId + "\\n")
          parentPort.on("message", ({ id, task }) =>
            setTimeout(() => parentPort.postMessage({ id, value: threadId }), task === "slow" ? 300 : 0))`,
        workerData: log,
        size: 2
      })
      const started = () => existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").length : 0
      // A thread would start on its own, outside any clock of the test: a real pause gives it the chance.
      yield* Effect.sleep("200 millis")
      expect(started()).toBe(0)
      const first = yield* run(1)
      expect(yield* run(2)).toBe(first) // the idle thread, not a new one
      expect(started()).toBe(1)
      const [slow, other] = yield* Effect.all([run("slow"), Effect.delay(run(3), "50 millis")], { concurrency: 2 })
      expect(slow).toBe(first)
      expect(other).not.toBe(first)
      expect(started()).toBe(2)
    })))
  it.live("stops a thread idle for idleStopMs, not one in use, and starts another for the next task", () =>
    Effect.scoped(Effect.gen(function*() {
      // Answers with its thread's id; "slow" after 400 ms (longer than the idle time).
      const run = yield* makeThreadPool<number | "slow", number>({
        source: `
          const { parentPort, threadId } = require("node:worker_threads")
          parentPort.on("message", ({ id, task }) =>
            setTimeout(() => parentPort.postMessage({ id, value: threadId }), task === "slow" ? 400 : 0))`,
        workerData: null,
        size: 1,
        idleStopMs: 200
      })
      const first = yield* run(1)
      yield* Effect.sleep("100 millis")
      expect(yield* run(2)).toBe(first) // idle for less than idleStopMs: the same thread
      expect(yield* run("slow")).toBe(first) // busy for longer than idleStopMs: kept
      yield* Effect.sleep("400 millis")
      const next = yield* run(3)
      expect(next).not.toBe(first) // idle for longer: stopped, and a new one started
      expect(yield* run(4)).toBe(next)
    })))
})
