/**
 * The booking engine's parts without a database: who gets tickets in a batch, what an
 * Idempotency-Key's id makes once, and how lines batch.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either, Exit, Fiber, Logger, Ref, Scope } from "effect"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"
import { decide } from "../../src/Inventory/Operations.ts"
import type { Snapshot } from "../../src/Inventory/Plan.ts"
import * as GroupCommit from "../../src/Platform/GroupCommit.ts"

const NOW = new Date("2030-01-01T00:00:00Z")
const rules = { holdTtlMs: 600_000, maxTicketsPerCustomer: 100 }
const asks = (...counts: ReadonlyArray<number>): ReadonlyArray<Operation> =>
  counts.map((ticketsCount, i) => ({ _tag: "Book", userId: i + 1, items: defaultItems(ticketsCount) }))

/** An event with `available` tickets as a batch of `operations` would find it. */
const snapshot = (available: number, operations: ReadonlyArray<Operation>, overrides: Partial<Snapshot> = {}): Snapshot => {
  const customers = operations.flatMap((op) => "userId" in op ? [op.userId] : [])
  return {
    now: NOW,
    event: {
      availableTickets: available,
      date: new Date(NOW.getTime() + 86_400_000),
      cancelled: false,
      draft: false,
      salesStart: null,
      salesEnd: null
    },
    types: [],
    bookings: [],
    tickets: [],
    holds: [],
    line: undefined,
    customerTickets: new Map(customers.map((id) => [id, 0])),
    accounts: new Set(customers),
    ...overrides
  }
}
const booked = (available: number, operations: ReadonlyArray<Operation>, overrides: Partial<Snapshot> = {}) =>
  decide(7, snapshot(available, operations, overrides), operations, rules).outcomes.map(Either.match({
    onLeft: (error) => "available" in error ? `${error._tag} ${error.available}` : error._tag,
    onRight: (decision) => decision._tag === "Booking" ? `booked, ${decision.availableAfter} left` : decision._tag
  }))

describe("decide: a batch of bookings decides as serial bookings in arrival order would", () => {
  it("takes tickets in order; a refused request says what was left; a later smaller one still fits", () => {
    expect(booked(6, asks(3, 5, 2, 1, 1))).toEqual([
      "booked, 3 left",
      "NotEnoughTickets 3",
      "booked, 1 left",
      "booked, 0 left",
      "NotEnoughTickets 0"
    ])
  })

  it("no event, a started event: every request refused alike", () => {
    expect(booked(0, asks(1, 1), { event: undefined })).toEqual(["EventNotFound", "EventNotFound"])
    const started = { availableTickets: 5, date: NOW, cancelled: false, draft: false, salesStart: null, salesEnd: null }
    expect(booked(5, asks(1), { event: started })).toEqual(["EventAlreadyStarted"])
  })

  it("a booking whose account is gone takes nothing, and the next one gets its tickets", () => {
    expect(booked(2, asks(2, 2), { accounts: new Set([2]) })).toEqual(["Unauthorized", "booked, 0 left"])
  })
})

describe("decide: an Idempotency-Key's id makes each operation once", () => {
  const [k1, k2] = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
  const later = new Date(NOW.getTime() + 3_600_000)
  const bookingRow = {
    id: 40,
    userId: 1,
    ticketsCount: 2,
    items: [],
    status: "CONFIRMED" as const,
    cancelledAt: null,
    holdId: null,
    createdAt: NOW,
    idempotencyId: null,
    cancelIdempotencyId: null
  }
  const holdRow = {
    id: 50,
    userId: 1,
    ticketsCount: 2,
    items: [],
    status: "HELD" as const,
    expiresAt: later,
    entryId: null,
    createdAt: NOW,
    endedAt: null,
    idempotencyId: null
  }
  const summary = (plan: ReturnType<typeof decide>) =>
    plan.outcomes.map(Either.match({
      onLeft: (error) => error._tag,
      onRight: (d) =>
        d._tag === "Booking" ? `booking ${d.booking.id} ${d.booking.status}` : d._tag === "Hold" ? `hold ${d.hold.id}` : d._tag
    }))

  it("bookings and holds: a repeat in the same batch answers the first one's row; another id makes another", () => {
    const ops: ReadonlyArray<Operation> = [
      { _tag: "Book", userId: 1, items: defaultItems(2), idempotencyId: k1 },
      { _tag: "Book", userId: 1, items: defaultItems(2), idempotencyId: k1 },
      { _tag: "Hold", userId: 1, items: defaultItems(3), idempotencyId: k2 },
      { _tag: "Hold", userId: 1, items: defaultItems(3), idempotencyId: k2 },
      { _tag: "Book", userId: 1, items: defaultItems(1) }
    ]
    const plan = decide(7, snapshot(10, ops), ops, rules)
    expect(summary(plan)).toEqual(["booking -1 CONFIRMED", "booking -1 CONFIRMED", "hold -1", "hold -1", "booking -2 CONFIRMED"])
    expect(plan.availableTickets).toBe(4)
    expect(plan.bookings.inserts.map((row) => row.idempotencyId)).toEqual([k1, null])
    expect(plan.holds.inserts.map((row) => row.idempotencyId)).toEqual([k2])
    expect(plan.notices.map((notice) => [notice._tag, notice.cause])).toEqual([["BookingConfirmed", 0], ["HoldPlaced", 2], [
      "BookingConfirmed",
      4
    ]])
  })

  it("a later batch finds them in its state: nothing is written, no job, the listing unchanged", () => {
    const ops: ReadonlyArray<Operation> = [
      { _tag: "Book", userId: 1, items: defaultItems(2), idempotencyId: k1 },
      { _tag: "Hold", userId: 1, items: defaultItems(2), idempotencyId: k2 }
    ]
    const plan = decide(
      7,
      snapshot(5, ops, {
        bookings: [{ ...bookingRow, idempotencyId: k1 }],
        holds: [{ ...holdRow, idempotencyId: k2 }]
      }),
      ops,
      rules
    )
    expect(summary(plan)).toEqual(["booking 40 CONFIRMED", "hold 50"])
    expect(plan).toMatchObject({ changed: false, availabilityChanged: false, notices: [] })
    // Another customer's row is never an answer (it cannot share the id; if it did, the index refuses the insert).
    const theirs = decide(7, snapshot(5, ops, { bookings: [{ ...bookingRow, userId: 9, idempotencyId: k1 }] }), ops.slice(0, 1), rules)
    expect(summary(theirs)).toEqual(["booking -1 CONFIRMED"])
  })

  it("confirming a hold: the booking records the id, and a repeat answers it instead of HoldAlreadyConfirmed", () => {
    const confirm: Operation = { _tag: "Confirm", userId: 1, holdId: 50, idempotencyId: k1 }
    const first = decide(7, snapshot(5, [confirm], { holds: [holdRow] }), [confirm, confirm], rules)
    expect(summary(first)).toEqual(["booking -1 CONFIRMED", "booking -1 CONFIRMED"])
    expect(first.bookings.inserts).toMatchObject([{ holdId: 50, idempotencyId: k1 }])
    expect(first.notices.map((notice) => notice._tag)).toEqual(["BookingConfirmed"])
    expect(first.availabilityChanged).toBe(false)
    const made = { ...bookingRow, id: 41, holdId: 50, idempotencyId: k1 }
    const confirmed = { ...holdRow, status: "CONFIRMED" as const, endedAt: NOW }
    expect(summary(decide(7, snapshot(5, [confirm], { holds: [confirmed], bookings: [made] }), [confirm], rules))).toEqual([
      "booking 41 CONFIRMED"
    ])
    const otherKey: Operation = { ...confirm, idempotencyId: k2 }
    expect(summary(decide(7, snapshot(5, [otherKey], { holds: [confirmed], bookings: [made] }), [otherKey], rules)))
      .toEqual(["HoldAlreadyConfirmed"])
  })

  it("cancelling: the cancellation records the id; a repeat answers the cancelled booking, another id is BookingAlreadyCancelled", () => {
    const cancel: Operation = { _tag: "Cancel", userId: 1, bookingId: 40, idempotencyId: k1 }
    const batch: ReadonlyArray<Operation> = [cancel, cancel, { ...cancel, idempotencyId: k2 }, { ...cancel, idempotencyId: undefined }]
    const plan = decide(7, snapshot(5, [cancel], { bookings: [bookingRow] }), batch, rules)
    expect(summary(plan)).toEqual(["booking 40 CANCELLED", "booking 40 CANCELLED", "BookingAlreadyCancelled", "BookingAlreadyCancelled"])
    expect(plan.bookings.updates).toMatchObject([{ id: 40, status: "CANCELLED", cancelIdempotencyId: k1 }])
    expect(plan.availableTickets).toBe(7)
    expect(plan.notices.map((notice) => [notice._tag, notice.cause])).toEqual([["BookingCancelled", 0]])
    const cancelled = plan.bookings.updates[0]!
    const again = decide(7, snapshot(7, [cancel], { bookings: [cancelled] }), [cancel], rules)
    expect(summary(again)).toEqual(["booking 40 CANCELLED"])
    expect(again.changed).toBe(false)
  })
})

describe("decide: drafts, and what the listing hears of", () => {
  it("a draft is no event for booking, holding or the waiting list", () => {
    const draft = {
      availableTickets: 5,
      date: new Date(NOW.getTime() + 86_400_000),
      cancelled: false,
      draft: true,
      salesStart: null,
      salesEnd: null
    }
    const ops: ReadonlyArray<Operation> = [
      { _tag: "Book", userId: 1, items: defaultItems(1) },
      { _tag: "Hold", userId: 1, items: defaultItems(1) },
      { _tag: "Join", userId: 1, items: defaultItems(9) }
    ]
    const plan = decide(7, snapshot(5, ops, { event: draft, line: [] }), ops, rules)
    expect(plan.outcomes.map(Either.match({ onLeft: (e) => e._tag, onRight: (d) => d._tag })))
      .toEqual(["EventNotFound", "EventNotFound", "EventNotFound"])
    expect(plan.changed).toBe(false)
  })

  it("availabilityChanged: what the batch did to the tickets left, net", () => {
    const hold: Operation = { _tag: "Hold", userId: 1, items: defaultItems(2) }
    expect(decide(7, snapshot(5, [hold]), [hold], rules).availabilityChanged).toBe(true)
    const refused: Operation = { _tag: "Book", userId: 1, items: defaultItems(9) }
    expect(decide(7, snapshot(5, [refused]), [refused], rules)).toMatchObject({ availabilityChanged: false, changed: false })
  })

  it("what a batch does before its first operation (a due hold expires) is caused by none of them", () => {
    const due = {
      id: 50,
      userId: 2,
      ticketsCount: 2,
      items: [],
      status: "HELD" as const,
      expiresAt: NOW,
      entryId: null,
      createdAt: NOW,
      endedAt: null,
      idempotencyId: null
    }
    const entry = {
      id: 60,
      userId: 3,
      ticketsCount: 2,
      items: [],
      status: "WAITING" as const,
      reserved: 0,
      passedOver: 0,
      createdAt: NOW,
      endedAt: null
    }
    const book: Operation = { _tag: "Book", userId: 1, items: defaultItems(1) }
    const plan = decide(7, snapshot(1, [book], { holds: [due], line: [entry] }), [book], rules)
    expect(plan.notices.map((notice) => [notice._tag, notice.cause])).toEqual([["HoldPlaced", undefined], ["BookingConfirmed", 0]])
    expect(plan.availableTickets).toBe(0)
  })
})

/**
 * A line whose commits wait for `release` and record each batch they are given: its items when it
 * holds one key, `key: items` per key when it holds several.
 */
const recordingLine = (options: { maxBatch: number; maxWaiting: number; maxCommits?: number }) =>
  Effect.gen(function*() {
    const batches = yield* Ref.make<ReadonlyArray<unknown>>([])
    const release = yield* Deferred.make<void>()
    const line = yield* GroupCommit.make<string, number, number, string>({
      maxCommits: 10,
      ...options,
      overloaded: () => "overloaded",
      commit: (lines) =>
        Ref.update(batches, (all) => [
          ...all,
          lines.length === 1 ? lines[0]!.items : Object.fromEntries(lines.map(({ items, key }) => [key, items]))
        ]).pipe(
          Effect.zipRight(Deferred.await(release)),
          Effect.as(lines.map(({ items }) => items.map((n) => n < 0 ? Either.left(`refused ${n}`) : Either.right(n * 10))))
        )
    })
    const submitted = (key: string, item: number) => Effect.fork(line.submit(key, item))
    return { line, batches: Ref.get(batches), release: Deferred.succeed(release, undefined), submitted }
  })

describe("GroupCommit: one commit in flight per key, the rest wait and go together", () => {
  it.scoped("one commit takes the waiting lines of several keys, each in arrival order; never two commits for one key", () =>
    Effect.gen(function*() {
      const { batches, release, submitted } = yield* recordingLine({ maxBatch: 100, maxWaiting: 100, maxCommits: 1 })
      const first = yield* submitted("a", 1)
      yield* Effect.yieldNow()
      const rest = yield* Effect.forEach([["b", 2], ["a", 3], ["c", 4], ["b", 5]] as const, ([key, n]) => submitted(key, n))
      yield* Effect.yieldNow()
      expect(yield* batches).toEqual([[1]]) // the only commit slot is taken
      yield* release
      expect(yield* Fiber.join(first)).toBe(10)
      expect(yield* Effect.forEach(rest, Fiber.join)).toEqual([20, 30, 40, 50])
      expect(yield* batches).toEqual([[1], { b: [2, 5], a: [3], c: [4] }])
    }))

  it.scoped("a key whose commit is in flight waits for it, while other keys commit beside it", () =>
    Effect.gen(function*() {
      const { batches, release, submitted } = yield* recordingLine({ maxBatch: 100, maxWaiting: 100, maxCommits: 2 })
      yield* submitted("a", 1)
      yield* Effect.yieldNow()
      yield* submitted("a", 2)
      yield* submitted("b", 3)
      yield* Effect.yieldNow()
      expect(yield* batches).toEqual([[1], [3]])
      yield* release
      yield* Effect.repeatN(Effect.yieldNow(), 5)
      expect(yield* batches).toEqual([[1], [3], [2]])
    }))

  it.scoped("closing the scope fails the items still waiting; a later submit is interrupted", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const release = yield* Deferred.make<void>()
      const line = yield* GroupCommit.make<string, number, number, string>({
        maxBatch: 10,
        maxWaiting: 10,
        maxCommits: 1,
        overloaded: () => "overloaded",
        commit: (lines) => Effect.as(Deferred.await(release), lines.map(({ items }) => items.map(Either.right)))
      }).pipe(Scope.extend(scope))
      const inFlight = yield* Effect.fork(line.submit("a", 1))
      yield* Effect.yieldNow()
      const waiting = yield* Effect.fork(line.submit("b", 2))
      yield* Effect.yieldNow()
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void)) // waits for the commit in flight
      yield* Effect.yieldNow()
      expect(Exit.isInterrupted(yield* Fiber.await(waiting))).toBe(true)
      expect(Exit.isInterrupted(yield* Effect.exit(line.submit("c", 3)))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.join(inFlight)).toBe(1) // the batch in flight is committed and answered
      yield* Fiber.join(closing)
    }))

  it.scoped("a lone item commits at once; items arriving meanwhile form the next batch, each with its own outcome", () =>
    Effect.gen(function*() {
      const { batches, release, submitted } = yield* recordingLine({ maxBatch: 100, maxWaiting: 100 })
      const first = yield* submitted("event", 1)
      yield* Effect.yieldNow()
      expect(yield* batches).toEqual([[1]])
      const rest = yield* Effect.forEach([2, -3, 4], (n) => submitted("event", n))
      const elsewhere = yield* submitted("other event", 5) // another key does not wait
      yield* Effect.yieldNow()
      expect(yield* batches).toEqual([[1], [5]])
      yield* release
      expect(yield* Fiber.join(first)).toBe(10)
      expect(yield* Effect.forEach(rest, (fiber) => Effect.either(Fiber.join(fiber)))).toEqual([
        Either.right(20),
        Either.left("refused -3"),
        Either.right(40)
      ])
      expect(yield* Fiber.join(elsewhere)).toBe(50)
      expect(yield* batches).toEqual([[1], [5], [2, -3, 4]])
    }))

  it.scoped("batches are at most maxBatch; past maxWaiting an item is refused at once", () =>
    Effect.gen(function*() {
      const { batches, line, release, submitted } = yield* recordingLine({ maxBatch: 2, maxWaiting: 3 })
      yield* submitted("event", 1)
      yield* Effect.yieldNow()
      yield* Effect.forEach([2, 3, 4], (n) => submitted("event", n))
      yield* Effect.yieldNow()
      expect(yield* Effect.flip(line.submit("event", 5))).toBe("overloaded")
      yield* release
      yield* Effect.repeatN(Effect.yieldNow(), 5) // each commit is a fiber of its own
      expect(yield* batches).toEqual([[1], [2, 3], [4]])
    }))

  it.scoped("an item whose caller gave up before its batch was taken is left out", () =>
    Effect.gen(function*() {
      const { batches, release, submitted } = yield* recordingLine({ maxBatch: 100, maxWaiting: 100 })
      yield* submitted("event", 1)
      yield* Effect.yieldNow()
      const impatient = yield* submitted("event", 2)
      const patient = yield* submitted("event", 3)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(impatient)
      yield* release
      expect(yield* Fiber.join(patient)).toBe(30)
      expect(yield* batches).toEqual([[1], [3]])
    }))

  it.scoped("an item whose caller gave up after its batch was taken is still committed, and the lost answer is logged", () =>
    Effect.gen(function*() {
      const logged = yield* Ref.make<ReadonlyArray<string>>([])
      const logger = Logger.make(({ message }) => Effect.runSync(Ref.update(logged, (all) => [...all, String(message)])))
      yield* Effect.gen(function*() {
        const { batches, release, submitted } = yield* recordingLine({ maxBatch: 100, maxWaiting: 100 })
        const gone = yield* submitted("event", 1)
        yield* Effect.yieldNow()
        yield* Fiber.interruptFork(gone)
        yield* Effect.yieldNow()
        yield* release
        expect((yield* Fiber.await(gone))._tag).toBe("Failure")
        expect(yield* batches).toEqual([[1]])
        yield* Effect.yieldNow()
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(yield* Ref.get(logged)).toContain("outcomes committed after their callers gave up")
    }))

  it.scoped("a commit that dies fails each item of its batch with that defect, and the line goes on", () =>
    Effect.gen(function*() {
      const line = yield* GroupCommit.make<string, number, number, string>({
        maxBatch: 10,
        maxWaiting: 10,
        maxCommits: 1,
        overloaded: () => "overloaded",
        commit: (lines) =>
          lines.some(({ items }) => items.includes(0))
            ? Effect.dieMessage("boom")
            : Effect.succeed(lines.map(({ items }) => items.map(Either.right)))
      })
      const dead = yield* Effect.exit(line.submit("event", 0))
      expect(dead._tag === "Failure" && String(dead.cause)).toContain("boom")
      expect(yield* line.submit("event", 7)).toBe(7)
    }))
})
