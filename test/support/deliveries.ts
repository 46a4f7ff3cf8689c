/**
 * The delivery log's contract, asserted the same way on its memory twin (test/unit/deliveries.test.ts)
 * and on PostgreSQL (test/db/outbox.test.ts): what a job sees of `Deliveries.onceEach`, whichever
 * store keeps the log.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Ref } from "effect"
import { Deliveries, type Delivery } from "../../src/Notifications/Deliveries.ts"

let counter = 0
/** A key no other test uses: tests share one log. */
export const uniqueKey = (name: string) => `${name}-${Date.now().toString(36)}x${++counter}`

export const delivery = (key: string): Delivery => ({
  key,
  kind: "BookingConfirmed",
  jobId: "BookingConfirmed-1",
  recipient: "ann@example.com"
})

/** A send that waits `delay`, counts its runs, keeps the ids it was given and answers `message-<run>`. */
export const sender = (delay: "0 millis" | "300 millis" = "0 millis") =>
  Effect.map(Effect.all([Ref.make(0), Ref.make<ReadonlyArray<string>>([])]), ([runs, ids]) => ({
    runs: Ref.get(runs),
    ids: Ref.get(ids),
    send: (id: string) =>
      Ref.update(ids, (all) => [...all, id]).pipe(
        Effect.zipRight(Ref.updateAndGet(runs, (n) => n + 1)),
        Effect.delay(delay),
        Effect.map((n) => `message-${n}`)
      )
  }))

export const onceEach = <E>(sends: ReadonlyArray<readonly [key: string, send: (id: string) => Effect.Effect<string, E>]>) =>
  Effect.flatMap(Deliveries, (deliveries) => deliveries.onceEach(sends.map(([key, send]) => ({ delivery: delivery(key), send }))))

/** One delivery: its outcome, or its send's failure. */
export const once = <E>(key: string, send: (id: string) => Effect.Effect<string, E>) =>
  Effect.flatMap(onceEach([[key, send]]), (results) => results[0]!)

export const deliveriesContract = (it: Vitest.MethodsNonLive<Deliveries, true>) => {
  it.effect("the same key twice: sent, then already-sent without sending", () =>
    Effect.gen(function*() {
      const key = uniqueKey("booking")
      const { runs, send } = yield* sender()
      expect(yield* once(key, send)).toBe("sent")
      expect(yield* once(key, send)).toBe("already-sent")
      expect(yield* runs).toBe(1)
    }))

  it.effect("a failed send records nothing: a later once sends, with the same id (so the same Message-ID)", () =>
    Effect.gen(function*() {
      const key = uniqueKey("booking")
      const given: Array<string> = []
      const failure = yield* once(key, (id) => Effect.sync(() => given.push(id)).pipe(Effect.zipRight(Effect.fail("smtp down" as const))))
        .pipe(Effect.flip)
      expect(failure).toBe("smtp down")

      const { ids, runs, send } = yield* sender()
      expect(yield* once(key, send)).toBe("sent")
      expect(yield* runs).toBe(1)
      expect(yield* ids).toEqual(given)
      expect(given[0]).toMatch(new RegExp(`^${key}\\.[0-9a-f-]{36}$`))
    }))

  it.effect("two concurrent once of one key: one sends, the other waits for it and answers already-sent", () =>
    Effect.gen(function*() {
      const key = uniqueKey("booking")
      const { runs, send } = yield* sender("300 millis")
      const outcomes = yield* Effect.all([once(key, send), once(key, send)], { concurrency: 2 })
      expect([...outcomes].sort()).toEqual(["already-sent", "sent"])
      expect(yield* runs).toBe(1)
    }))

  it.effect("a batch: each send's outcome in order; a failed one withdraws only its own claim", () =>
    Effect.gen(function*() {
      const [one, two, three, four] = ["1", "2", "3", "4"].map((n) => uniqueKey(`booking-${n}`))
      yield* once(two!, () => Effect.succeed("earlier"))
      const { runs, send } = yield* sender()
      const results = yield* onceEach([[three!, send], [two!, send], [one!, () => Effect.fail("refused" as const)], [four!, send]])
      expect(results).toEqual([Either.right("sent"), Either.right("already-sent"), Either.left("refused"), Either.right("sent")])
      expect(yield* runs).toBe(2)
      // Only the refused one is sent again.
      const retry = yield* onceEach([[three!, send], [two!, send], [one!, send], [four!, send]])
      expect(retry).toEqual([
        Either.right("already-sent"),
        Either.right("already-sent"),
        Either.right("sent"),
        Either.right("already-sent")
      ])
      expect(yield* runs).toBe(3)
    }))

  it.effect("a key twice in one batch is sent once", () =>
    Effect.gen(function*() {
      const key = uniqueKey("booking")
      const { runs, send } = yield* sender()
      expect(yield* onceEach([[key, send], [key, send]])).toEqual([Either.right("sent"), Either.right("already-sent")])
      expect(yield* runs).toBe(1)
    }))

  it.effect("a send that dies (its mail thread did): the batch dies once the others are recorded; a retry sends only that one", () =>
    Effect.gen(function*() {
      const [first, dying] = [uniqueKey("booking-a"), uniqueKey("booking-b")]
      const { runs, send } = yield* sender()
      const exit = yield* Effect.exit(onceEach([[first, send], [dying, () => Effect.die(new Error("thread gone"))]]))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(yield* runs).toBe(1)
      expect(yield* onceEach([[first, send], [dying, send]])).toEqual([Either.right("already-sent"), Either.right("sent")])
      expect(yield* runs).toBe(2)
    }))
}
