import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, TestClock } from "effect"
import * as ReadCache from "../../src/Platform/ReadCache.ts"

/** A cache whose lookups are counted and, when `gate` is given, wait for it. */
const counting = (gate?: Deferred.Deferred<void>) =>
  Effect.gen(function*() {
    let lookups = 0
    const cache = yield* ReadCache.make<string, never>({ timeToLiveMs: 1000, capacity: 100 })
    const lookup = (key: string) =>
      Effect.suspend(() => {
        lookups++
        return Effect.as(gate ? Deferred.await(gate) : Effect.void, `${key}#${lookups}`)
      })
    return { cache: { get: (key: string) => cache.get(key, lookup(key)), invalidate: cache.invalidate }, lookups: () => lookups }
  })

describe("ReadCache", () => {
  it.effect("concurrent reads of one key share one lookup", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { cache, lookups } = yield* counting(gate)
      const readers = yield* Effect.forkAll(Array.from({ length: 20 }, () => cache.get("a")))
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      const answers = yield* Fiber.join(readers)
      expect(new Set(answers)).toEqual(new Set(["a#1"]))
      expect(lookups()).toBe(1)
    }))

  it.effect("an answer is reused until it is older than its time to live", () =>
    Effect.gen(function*() {
      const { cache } = yield* counting()
      expect(yield* cache.get("a")).toBe("a#1")
      yield* TestClock.adjust("999 millis")
      expect(yield* cache.get("a")).toBe("a#1")
      yield* TestClock.adjust("1 millis")
      expect(yield* cache.get("a")).toBe("a#2")
    }))

  it.effect("invalidate makes the next read of every key look up again", () =>
    Effect.gen(function*() {
      const { cache } = yield* counting()
      expect(yield* cache.get("a")).toBe("a#1")
      expect(yield* cache.get("b")).toBe("b#2")
      cache.invalidate()
      expect(yield* cache.get("a")).toBe("a#3")
      expect(yield* cache.get("b")).toBe("b#4")
    }))

  it.effect("a failed lookup is not remembered, and a reader that gives up does not fail the others", () =>
    Effect.gen(function*() {
      let calls = 0
      const gate = yield* Deferred.make<void>()
      const cached = yield* ReadCache.make<string, string>({ timeToLiveMs: 1000, capacity: 100 })
      const cache = {
        get: (key: string) =>
          cached.get(key, Effect.suspend(() => ++calls === 1 ? Effect.fail("down") : Effect.as(Deferred.await(gate), "up")))
      }
      expect(yield* Effect.flip(cache.get("a"))).toBe("down")
      const quitter = yield* Effect.fork(cache.get("a"))
      const patient = yield* Effect.fork(cache.get("a"))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(quitter)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(patient)).toBe("up")
      expect(calls).toBe(2)
    }))
})
