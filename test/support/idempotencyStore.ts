/**
 * The Idempotency-Key store's contract, asserted the same way on its memory twin (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts): what Platform/Idempotency.ts relies on.
 * Time never has to pass: a lease or a time to live of 0 ms has run out by the next statement, one
 * of an hour has not, so both stores answer alike whichever clock they read.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect } from "effect"
import type { UserId } from "../../src/Domain/Ids.ts"
import { type Claim, type HeldKey, IdempotencyStore, type KeyTerms } from "../../src/Idempotency/IdempotencyStore.ts"

const HOUR = 3_600_000
/** A request's usual terms: held for an hour (it runs), kept for a day. */
const running: KeyTerms = { leaseMs: HOUR, ttlMs: 24 * HOUR }
/** Its holder died: the lease has run out by the next statement. */
const died: KeyTerms = { leaseMs: 0, ttlMs: 24 * HOUR }
/** Kept no time: the key has expired by the next statement. */
const expiring: KeyTerms = { leaseMs: 0, ttlMs: 0 }

let counter = 0
/** A key no other test uses: tests share one store. */
const aKey = () => `contract-${Date.now().toString(36)}x${++counter}`
const ann = 1 as UserId

const claim = (key: string, fingerprint = "POST /things {n:1}", terms: KeyTerms = running, userId = ann) =>
  Effect.flatMap(IdempotencyStore, (store) => store.claim({ userId, key, fingerprint }, terms))

/** The claim as held, failing the test if it is not. */
const held = (claimed: Claim): HeldKey => {
  if (claimed._tag !== "Held") throw new Error(`the key was not held: ${claimed._tag}`)
  return claimed.held
}

export const idempotencyStoreContract = (it: Vitest.MethodsNonLive<IdempotencyStore, true>) => {
  it.effect("IdempotencyStore: a new key is held, fresh; meanwhile the same request is InProgress, another a Mismatch; keys are per user", () =>
    Effect.gen(function*() {
      const key = aKey()
      const first = held(yield* claim(key))
      expect(first).toMatchObject({ userId: ann, key, fresh: true })
      expect(first.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(yield* claim(key)).toEqual({ _tag: "InProgress" })
      expect(yield* claim(key, "POST /things {n:2}")).toEqual({ _tag: "Mismatch" })
      const theirs = held(yield* claim(key, "POST /things {n:2}", running, 2 as UserId))
      expect(theirs.fresh).toBe(true)
      expect(theirs.id).not.toBe(first.id)
    }))

  it.effect("IdempotencyStore: a completed key answers its response to the same request, Mismatch to another; its holder cannot let go of it, only complete it again", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const key = aKey()
      const holder = held(yield* claim(key))
      yield* store.complete(holder, { status: 201, body: "{\"n\":1}" })
      expect(yield* claim(key)).toEqual({ _tag: "Completed", response: { status: 201, body: "{\"n\":1}" } })
      expect(yield* claim(key, "POST /things {n:2}")).toEqual({ _tag: "Mismatch" })
      yield* store.release(holder)
      yield* store.forget(holder)
      yield* store.renew([holder], HOUR)
      expect(yield* claim(key)).toEqual({ _tag: "Completed", response: { status: 201, body: "{\"n\":1}" } })
      // The key is its holder's until another takes it: completing again stores the later response.
      yield* store.complete(holder, { status: 200, body: "{\"n\":2}" })
      expect(yield* claim(key)).toEqual({ _tag: "Completed", response: { status: 200, body: "{\"n\":2}" } })
    }))

  it.effect("IdempotencyStore: released, the key is taken again by the same request under its id (not fresh), not by another", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const key = aKey()
      const first = held(yield* claim(key))
      yield* store.release(first)
      expect(yield* claim(key, "POST /things {n:2}")).toEqual({ _tag: "Mismatch" })
      const again = held(yield* claim(key))
      expect(again).toMatchObject({ id: first.id, fresh: false })
      expect(again.attempt).not.toBe(first.attempt)
    }))

  it.effect("IdempotencyStore: forgotten, the key starts afresh for any request, with a new id", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const key = aKey()
      const first = held(yield* claim(key))
      yield* store.forget(first)
      const other = held(yield* claim(key, "POST /things {n:2}"))
      expect(other.fresh).toBe(true)
      expect(other.id).not.toBe(first.id)
    }))

  it.effect("IdempotencyStore: a lease run out is taken over by the same request (same id); the old holder can then change nothing", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const key = aKey()
      const dead = held(yield* claim(key, undefined, died))
      expect(yield* claim(key, "POST /things {n:2}")).toEqual({ _tag: "Mismatch" })
      const heir = held(yield* claim(key))
      expect(heir).toMatchObject({ id: dead.id, fresh: false })

      yield* store.complete(dead, { status: 500, body: "" })
      yield* store.release(dead)
      yield* store.forget(dead)
      expect(yield* claim(key)).toEqual({ _tag: "InProgress" })
      yield* store.complete(heir, { status: 201, body: "{}" })
      expect(yield* claim(key)).toEqual({ _tag: "Completed", response: { status: 201, body: "{}" } })
    }))

  it.effect("IdempotencyStore: renew keeps the keys its holders still hold; a key taken over stays with its new holder", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const [kept, lost] = [aKey(), aKey()]
      const keeper = held(yield* claim(kept, undefined, died))
      const loser = held(yield* claim(lost, undefined, died))
      const heir = held(yield* claim(lost, undefined, died))
      yield* store.renew([keeper, loser], HOUR)
      expect(yield* claim(kept)).toEqual({ _tag: "InProgress" })
      // The old holder's renewal did not reach the heir's lease (run out): the next request takes it over.
      expect(held(yield* claim(lost))).toMatchObject({ id: heir.id, fresh: false })
      yield* store.renew([], HOUR)
    }))

  it.effect("IdempotencyStore: an expired key starts afresh for any request (new id), unless someone still holds it", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      const [done, stuck] = [aKey(), aKey()]
      const first = held(yield* claim(done, undefined, expiring))
      yield* store.complete(first, { status: 201, body: "{}" })
      const renewed = held(yield* claim(done, "POST /things {n:2}"))
      expect(renewed.fresh).toBe(true)
      expect(renewed.id).not.toBe(first.id)

      yield* claim(stuck, undefined, { leaseMs: HOUR, ttlMs: 0 })
      expect(yield* claim(stuck)).toEqual({ _tag: "InProgress" })
      expect(yield* claim(stuck, "POST /things {n:2}")).toEqual({ _tag: "InProgress" })
    }))

  it.effect("IdempotencyStore: purge deletes the expired keys nobody holds and answers how many; held and unexpired keys stay", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      yield* store.purge // what earlier tests left expired
      const [gone, alsoGone, stuck, live] = [aKey(), aKey(), aKey(), aKey()]
      const completed = held(yield* claim(gone, undefined, expiring))
      yield* store.complete(completed, { status: 201, body: "{}" })
      yield* claim(alsoGone, undefined, expiring)
      yield* claim(stuck, undefined, { leaseMs: HOUR, ttlMs: 0 })
      const kept = held(yield* claim(live))
      yield* store.complete(kept, { status: 201, body: "{\"kept\":true}" })

      expect(yield* store.purge).toBe(2)
      expect(yield* store.purge).toBe(0)
      expect(yield* claim(stuck)).toEqual({ _tag: "InProgress" })
      expect(yield* claim(live)).toEqual({ _tag: "Completed", response: { status: 201, body: "{\"kept\":true}" } })
    }))
}
