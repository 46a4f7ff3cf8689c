/**
 * The rate-limit counters' contract, asserted the same way on the memory twin (test/unit/repositories.test.ts),
 * on PostgreSQL (test/db/repository-contract.test.ts) and on Redis (test/db/rate-limits.test.ts).
 * Time never has to pass: a window of 0 ms has ended by the next hit, one of a minute has not.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect } from "effect"
import { RateLimitStore } from "../../src/RateLimits/RateLimitStore.ts"

const MINUTE = 60_000

let counter = 0
/** A counter no other test uses: tests share one store. */
const aKey = () => `contract:${Date.now().toString(36)}x${++counter}`

export const rateLimitStoreContract = (it: Vitest.MethodsNonLive<RateLimitStore, true>) => {
  it.effect("RateLimitStore: hits count in a fixed window that later hits never extend; counters are per key", () =>
    Effect.gen(function*() {
      const store = yield* RateLimitStore
      const key = aKey()
      const hits = []
      for (let i = 0; i < 3; i++) hits.push(yield* store.hit(key, MINUTE))
      expect(hits.map((w) => w.hits)).toEqual([1, 2, 3])
      for (const { resetMs } of hits) {
        expect(resetMs).toBeGreaterThan(0)
        expect(resetMs).toBeLessThanOrEqual(MINUTE)
      }
      expect(hits[2]!.resetMs).toBeLessThanOrEqual(hits[0]!.resetMs)
      // The window is the first hit's: a hit asking for a longer or a shorter one neither moves nor ends it.
      const longer = yield* store.hit(key, 60 * MINUTE)
      expect(longer.hits).toBe(4)
      expect(longer.resetMs).toBeLessThanOrEqual(MINUTE)
      expect((yield* store.hit(key, 0)).hits).toBe(5)
      expect((yield* store.hit(key, MINUTE)).hits).toBe(6)
      expect((yield* store.hit(aKey(), MINUTE)).hits).toBe(1)
    }))

  it.effect("RateLimitStore: release takes one hit back while the window is open, never below none", () =>
    Effect.gen(function*() {
      const store = yield* RateLimitStore
      const key = aKey()
      yield* store.hit(key, MINUTE)
      yield* store.hit(key, MINUTE)
      yield* store.release(key)
      expect((yield* store.hit(key, MINUTE)).hits).toBe(2)
      yield* store.release(key)
      yield* store.release(key)
      yield* store.release(key)
      expect((yield* store.hit(key, MINUTE)).hits).toBe(1)

      const untouched = aKey()
      yield* store.release(untouched) // no window: nothing to take back
      expect((yield* store.hit(untouched, MINUTE)).hits).toBe(1)
    }))

  it.effect("RateLimitStore: the first hit after a window ended opens a new one, of its own length; a release then is a no-op", () =>
    Effect.gen(function*() {
      const store = yield* RateLimitStore
      const key = aKey()
      expect(yield* store.hit(key, 0)).toEqual({ hits: 1, resetMs: 0 })
      expect(yield* store.hit(key, 0)).toEqual({ hits: 1, resetMs: 0 })
      yield* store.release(key)
      const opened = yield* store.hit(key, MINUTE)
      expect(opened.hits).toBe(1)
      expect(opened.resetMs).toBeGreaterThan(0)
    }))
}
