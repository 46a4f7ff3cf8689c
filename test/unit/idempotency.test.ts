/**
 * The Idempotency-Key mechanism on its own, over the in-memory key store and a TestClock: what is
 * stored and replayed, what lets a retry run, leases renewed while requests run and taken over
 * once their process died, and expiry. The store's own rules (purging included) are its contract's:
 * test/support/idempotencyStore.ts.
 */
import { HttpApiSchema, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Ref, Schema, Scope, TestClock } from "effect"
import { NotEnoughTickets, Overloaded, Unauthorized, ValidationError } from "../../src/Domain/Errors.ts"
import type { IdempotencyId, UserId } from "../../src/Domain/Ids.ts"
import { errorResponse } from "../../src/Edge/ErrorResponse.ts"
import { Idempotency, type IdempotentCall } from "../../src/Idempotency/Idempotency.ts"
import { IdempotencyStore } from "../../src/Idempotency/IdempotencyStore.ts"
import { AppConfig } from "../../src/Platform/Config.ts"

const Created = Schema.Struct({ n: Schema.Number }).annotations(HttpApiSchema.annotations({ status: 201 }))

// Claims made on the store itself below (requests of a process that then died) take a 30 s lease. Keys are kept 24 h.
const LEASE = "30 seconds"
const TestLayer = Idempotency.layer.pipe(Layer.provideMerge(IdempotencyStore.layerMemory), Layer.provide(AppConfig.layerTest()))

const call = (key: string | undefined, fingerprint = "POST /things {n:1}", userId = 1): IdempotentCall => ({
  userId: userId as UserId,
  key,
  fingerprint,
  success: Created
})

/** An operation that records the ids it ran with, and answers `n`. */
const recorder = Effect.map(Ref.make<ReadonlyArray<IdempotencyId | undefined>>([]), (runs) => ({
  runs: Ref.get(runs),
  op: (n: number) => (id: IdempotencyId | undefined) => Effect.as(Ref.update(runs, (all) => [...all, id]), { n })
}))

const run = <A, E>(c: IdempotentCall, operation: (id: IdempotencyId | undefined) => Effect.Effect<A, E>) =>
  Effect.flatMap(Idempotency, (idempotency) => idempotency.run(c, operation))

const asReplay = (answer: unknown) => {
  expect(HttpServerResponse.isServerResponse(answer)).toBe(true)
  const response = answer as HttpServerResponse.HttpServerResponse
  expect(response.headers["idempotent-replayed"]).toBe("true")
  const body = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
  return { status: response.status, body }
}

describe("Idempotency", () => {
  it.effect("without a key the operation just runs, every time, with no id", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      expect(yield* run(call(undefined), op(1))).toEqual({ n: 1 })
      expect(yield* run(call(undefined), op(1))).toEqual({ n: 1 })
      expect(yield* runs).toEqual([undefined, undefined])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a success is stored: the same key and request get its status and body back, marked, without running", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      expect(yield* run(call("k"), op(1))).toEqual({ n: 1 })
      expect(asReplay(yield* run(call("k"), op(2)))).toEqual({ status: 201, body: "{\"n\":1}" })
      expect(yield* runs).toHaveLength(1)
      expect(typeof (yield* runs)[0]).toBe("string")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("keys are per user", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      yield* run(call("k", "f", 1), op(1))
      expect(yield* run(call("k", "f", 2), op(2))).toEqual({ n: 2 })
      const [mine, theirs] = yield* runs
      expect(mine).not.toBe(theirs)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("while the first runs: 409 for the same request, 422 for another; then the first's answer", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const finish = yield* Deferred.make<void>()
      const first = yield* Effect.fork(
        run(call("k"), () => Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(finish)), Effect.as({ n: 1 })))
      )
      yield* Deferred.await(started)
      const { op, runs } = yield* recorder
      expect((yield* Effect.flip(run(call("k"), op(2))))._tag).toBe("IdempotencyKeyInUse")
      expect((yield* Effect.flip(run(call("k", "another body"), op(2))))._tag).toBe("IdempotencyKeyReused")
      yield* Deferred.succeed(finish, undefined)
      expect(yield* Fiber.join(first)).toEqual({ n: 1 })
      expect(asReplay(yield* run(call("k"), op(2))).body).toBe("{\"n\":1}")
      expect((yield* Effect.flip(run(call("k", "another body"), op(2))))._tag).toBe("IdempotencyKeyReused")
      expect(yield* runs).toEqual([])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a holder that died keeps the key until its lease ends; then a retry takes it over with the same id", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      // A request that held the key and never came back (its process died).
      const dead = yield* store.claim({ userId: 1 as UserId, key: "k", fingerprint: "f" }, { leaseMs: 30_000, ttlMs: 86_400_000 })
      if (dead._tag !== "Held") return expect.fail("the key was free")
      const { op, runs } = yield* recorder
      yield* TestClock.adjust("29 seconds")
      expect((yield* Effect.flip(run(call("k", "f"), op(1))))._tag).toBe("IdempotencyKeyInUse")
      expect((yield* Effect.flip(run(call("k", "other"), op(1))))._tag).toBe("IdempotencyKeyReused")
      yield* TestClock.adjust("1 second")
      expect(yield* run(call("k", "f"), op(1))).toEqual({ n: 1 })
      expect(yield* runs).toEqual([dead.held.id])
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a running request's key is renewed while it runs; once its process is gone, a retry takes it over within seconds", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      const started = yield* Deferred.make<void>()
      const finish = yield* Deferred.make<void>()
      const slow = yield* Effect.fork(
        run(call("slow"), () => Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(finish)), Effect.as({ n: 1 })))
      )
      yield* Deferred.await(started)
      yield* TestClock.adjust("1 minute")
      expect((yield* Effect.flip(run(call("slow"), op(2))))._tag).toBe("IdempotencyKeyInUse")
      yield* Deferred.succeed(finish, undefined)
      expect(yield* Fiber.join(slow)).toEqual({ n: 1 })

      // Another process (its own Idempotency over the same store) holds a key and dies mid-request.
      const other = yield* Scope.make()
      const elsewhere = Context.get(
        yield* Layer.buildWithScope(Idempotency.layer.pipe(Layer.provide(AppConfig.layerTest())), other),
        Idempotency
      )
      const held = yield* Deferred.make<void>()
      yield* Effect.fork(elsewhere.run(call("k"), () => Deferred.succeed(held, undefined).pipe(Effect.zipRight(Effect.never))))
      yield* Deferred.await(held)
      yield* Scope.close(other, Exit.void)
      yield* TestClock.adjust("3 seconds")
      expect((yield* Effect.flip(run(call("k"), op(3))))._tag).toBe("IdempotencyKeyInUse")
      yield* TestClock.adjust("1 second")
      expect(yield* run(call("k"), op(3))).toEqual({ n: 3 })
      expect(yield* runs).toHaveLength(1)
    }).pipe(Effect.provide(TestLayer)))

  it.effect(`keys are kept IDEMPOTENCY_TTL_HOURS (24): then the key starts afresh, with a new id, for any request`, () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      yield* run(call("k"), op(1))
      yield* TestClock.adjust("23 hours")
      yield* TestClock.adjust("59 minutes")
      expect(asReplay(yield* run(call("k"), op(2))).body).toBe("{\"n\":1}")
      expect((yield* Effect.flip(run(call("k", "other"), op(2))))._tag).toBe("IdempotencyKeyReused")
      yield* TestClock.adjust("1 minute")
      expect(yield* run(call("k", "other"), op(3))).toEqual({ n: 3 })
      const [before, after] = yield* runs
      expect(after).toBeDefined()
      expect(after).not.toBe(before)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("IDEMPOTENCY_TTL_HOURS sets how long", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      yield* run(call("k"), op(1))
      yield* TestClock.adjust("1 hour")
      expect(yield* run(call("k"), op(2))).toEqual({ n: 2 })
      expect(yield* runs).toHaveLength(2)
    }).pipe(
      Effect.provide(Idempotency.layer.pipe(
        Layer.provideMerge(IdempotencyStore.layerMemory),
        Layer.provide(AppConfig.layerTest({ IDEMPOTENCY_TTL_HOURS: 1 }))
      ))
    ))

  it.effect("a 4xx domain error is stored and replayed as it was sent", () =>
    Effect.gen(function*() {
      const refusal = NotEnoughTickets.of(5, 3)
      expect(yield* Effect.flip(run(call("k"), () => Effect.fail(refusal)))).toBe(refusal)
      const replayed = asReplay(yield* run(call("k"), () => Effect.succeed({ n: 1 })))
      expect(replayed).toEqual({ status: 409, body: JSON.stringify(Schema.encodeSync(errorResponse(NotEnoughTickets))(refusal)) })
      expect(JSON.parse(replayed.body)).toMatchObject({ code: "NotEnoughTickets", status: 409, available: 3 })
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a 5xx, a defect or an interruption is not stored: a retry runs again, under the same id", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      const failing = (outcome: Effect.Effect<never, Overloaded>) => (id: IdempotencyId | undefined) => Effect.zipRight(op(0)(id), outcome)
      expect(yield* Effect.flip(run(call("k"), failing(Effect.fail(Overloaded.instance))))).toBe(Overloaded.instance)
      expect((yield* Effect.exit(run(call("k"), failing(Effect.dieMessage("boom")))))._tag).toBe("Failure")
      const started = yield* Deferred.make<void>()
      const stuck = yield* Effect.fork(
        run(call("k"), (id) => op(0)(id).pipe(Effect.zipRight(Deferred.succeed(started, undefined)), Effect.zipRight(Effect.never)))
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(stuck)
      expect(yield* run(call("k"), op(1))).toEqual({ n: 1 })
      const ids = yield* runs
      expect(ids).toHaveLength(4)
      expect(new Set(ids).size).toBe(1)
      // ...and once stored, replayed.
      expect(asReplay(yield* run(call("k"), op(2))).body).toBe("{\"n\":1}")
    }).pipe(Effect.provide(TestLayer)))

  it.effect("a 400 or 401 (the request could not run) forgets the key: it may then be used for another request", () =>
    Effect.gen(function*() {
      const { op, runs } = yield* recorder
      const invalid = new ValidationError({ message: "ticketsCount: must be at most 10 per booking" })
      yield* Effect.flip(run(call("k", "too many"), () => Effect.fail(invalid)))
      yield* Effect.flip(run(call("k", "gone"), () => Effect.fail(Unauthorized.accountGone)))
      expect(yield* run(call("k", "fixed"), op(1))).toEqual({ n: 1 })
      expect(yield* runs).toHaveLength(1)
    }).pipe(Effect.provide(TestLayer)))

  it.effect("...but a key taken over from a request that died is kept (its id may already be on a booking)", () =>
    Effect.gen(function*() {
      const store = yield* IdempotencyStore
      yield* store.claim({ userId: 1 as UserId, key: "k", fingerprint: "f" }, { leaseMs: 30_000, ttlMs: 86_400_000 })
      yield* TestClock.adjust(LEASE)
      yield* Effect.flip(run(call("k", "f"), () => Effect.fail(new ValidationError({ message: "no" }))))
      expect((yield* Effect.flip(run(call("k", "other"), () => Effect.succeed({ n: 1 }))))._tag).toBe("IdempotencyKeyReused")
    }).pipe(Effect.provide(TestLayer)))
})
