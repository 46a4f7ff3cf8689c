/**
 * A plain, serial model of one event's tickets, and random scenarios to hold the engine to it:
 * steps of operations submitted at once (so the engine batches them), each step starting with
 * some holds' time being up. After every step the engine must have answered each operation as
 * the model did, and stored the same rows; the ledger total = available + held + booked must
 * hold throughout.
 */
import { expect } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"

export const TOTAL = 10
export const CUSTOMERS = 5
export const LIMIT = 6
const PASSES = 3

export type ModelOp =
  | { readonly _tag: "book" | "hold" | "join"; readonly user: number; readonly n: number }
  | { readonly _tag: "cancel" | "confirm" | "release"; readonly user: number | null; readonly ref: number }
  | { readonly _tag: "reduce"; readonly user: number | null; readonly ref: number; readonly n: number }
  | { readonly _tag: "leave"; readonly user: number }
  | { readonly _tag: "expire"; readonly ref: number }

/** `due`: holds (by their place among the holds made so far) whose time is up when the step starts. */
export interface Step {
  readonly due: ReadonlyArray<number>
  readonly ops: ReadonlyArray<ModelOp>
}

const user = fc.nat(CUSTOMERS - 1)
const owner = fc.option(user, { freq: 4 }) // mostly the row's owner (null), sometimes anyone
const ref = fc.nat(30)
const n = fc.integer({ min: 1, max: 5 })
const op: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("book" as const), user, n }) },
  { weight: 3, arbitrary: fc.record({ _tag: fc.constant("hold" as const), user, n }) },
  { weight: 5, arbitrary: fc.record({ _tag: fc.constant("join" as const), user, n }) },
  {
    weight: 4,
    arbitrary: fc.record({ _tag: fc.constantFrom("cancel" as const, "confirm" as const, "release" as const), user: owner, ref })
  },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("reduce" as const), user: owner, ref, n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("leave" as const), user }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("expire" as const), ref }) }
)
const step = fc.record({ due: fc.array(ref, { maxLength: 2 }), ops: fc.array(op, { minLength: 1, maxLength: 6 }) })
/** Scenarios start sold out (each customer books two tickets at once): the waiting list has work from then on. */
const soldOut: Step = { due: [], ops: Array.from({ length: CUSTOMERS }, (_, user) => ({ _tag: "book" as const, user, n: 2 })) }
export const scenario: fc.Arbitrary<ReadonlyArray<Step>> = fc.array(step, { minLength: 1, maxLength: 14 }).map((
  steps
) => [soldOut, ...steps])

/**
 * A scenario that surely reaches the rule's far end (random ones rarely do): a group of 4 waits
 * while smaller entries behind it get three offers; then it stops the line, returned tickets are
 * kept for it (a released offer's too) until its whole group fits, and it gets its offer.
 */
export const lineStopper: ReadonlyArray<Step> = [
  soldOut, // bookings 0-4: two tickets each
  { due: [], ops: [{ _tag: "join", user: 0, n: 4 }, { _tag: "join", user: 1, n: 1 }] },
  { due: [], ops: [{ _tag: "reduce", user: null, ref: 4, n: 1 }] }, // 1 back: offered to customer 1 (hold 0)
  { due: [], ops: [{ _tag: "confirm", user: null, ref: 0 }, { _tag: "join", user: 2, n: 1 }] }, // booking 5
  { due: [], ops: [{ _tag: "cancel", user: null, ref: 3 }, { _tag: "join", user: 3, n: 2 }] }, // 2 back: customer 2 (hold 1)
  { due: [], ops: [{ _tag: "cancel", user: null, ref: 2 }] }, // 3 back: customer 3 (hold 2); customer 0 passed over thrice
  { due: [], ops: [{ _tag: "reduce", user: null, ref: 1, n: 1 }, { _tag: "join", user: 4, n: 1 }] }, // kept back, 4 waits behind
  { due: [], ops: [{ _tag: "release", user: null, ref: 1 }] }, // a released offer: kept back too
  { due: [], ops: [{ _tag: "cancel", user: null, ref: 5 }] } // enough: customer 0 gets the offer of 4
]

/** How often the model's runs reached each part of the offer rule (a run that never blocks the line proves little). */
export const reached = { offers: 0, passedOver: 0, blocked: 0 }
// ---- The model -----------------------------------------------------------------------------

type BookingStatus = "CONFIRMED" | "CANCELLED"
type HoldStatus = "HELD" | "CONFIRMED" | "RELEASED" | "EXPIRED"
type EntryStatus = "WAITING" | "OFFERED" | "ACCEPTED" | "EXPIRED" | "LEFT"

interface MBooking {
  user: number
  tickets: number
  status: BookingStatus
}
interface MHold {
  user: number
  tickets: number
  status: HoldStatus
  entry: number | null
  due: boolean
}
interface MEntry {
  user: number
  tickets: number
  status: EntryStatus
  reserved: number
  passed: number
}

/** What the store holds, rows in creation order, users as their index among the scene's customers. */
export interface Stored {
  readonly available: number
  readonly bookings: ReadonlyArray<{ readonly user: number; readonly tickets: number; readonly status: string }>
  readonly holds: ReadonlyArray<{ readonly user: number; readonly tickets: number; readonly status: string; readonly entry: number | null }>
  readonly entries: ReadonlyArray<{
    readonly user: number
    readonly tickets: number
    readonly status: string
    readonly reserved: number
    readonly passed: number
  }>
}

export class Model {
  available = TOTAL
  readonly bookings: Array<MBooking> = []
  readonly holds: Array<MHold> = []
  readonly entries: Array<MEntry> = []

  private ticketsOf(user: number) {
    return this.bookings.filter((b) => b.user === user && b.status === "CONFIRMED").reduce((s, b) => s + b.tickets, 0) +
      this.holds.filter((h) => h.user === user && h.status === "HELD").reduce((s, h) => s + h.tickets, 0) +
      this.entries.filter((e) => e.user === user && e.status === "WAITING").reduce((s, e) => s + e.tickets, 0)
  }

  private offer() {
    for (;;) {
      const passed: Array<MEntry> = []
      let offered = false
      for (const [index, entry] of this.entries.entries()) {
        if (entry.status !== "WAITING") continue
        if (entry.tickets - entry.reserved <= this.available) {
          this.available -= entry.tickets - entry.reserved
          entry.reserved = 0
          entry.status = "OFFERED"
          this.holds.push({ user: entry.user, tickets: entry.tickets, status: "HELD", entry: index, due: false })
          for (const ahead of passed) ahead.passed++
          reached.offers++
          if (passed.length > 0) reached.passedOver++
          offered = true
          break
        }
        if (entry.passed >= PASSES) {
          reached.blocked++
          entry.reserved += this.available
          this.available = 0
          return
        }
        passed.push(entry)
      }
      if (!offered) return
    }
  }

  private endHold(hold: MHold, status: "RELEASED" | "EXPIRED") {
    hold.status = status
    this.available += hold.tickets
    if (hold.entry !== null) this.entries[hold.entry]!.status = status === "EXPIRED" ? "EXPIRED" : "LEFT"
  }

  /** The step's due holds expire before anything else happens. */
  startStep(due: ReadonlyArray<number>) {
    for (const index of [...new Set(due)].sort((a, b) => a - b)) {
      const hold = this.holds[index]!
      hold.due = true
      if (hold.status === "HELD") this.endHold(hold, "EXPIRED")
    }
    this.offer()
  }

  /** Applies `op` (its refs resolved to row indexes, -1 for none); answers "ok", an Expire result, or the error's tag. */
  apply(op: ModelOp, index: number): string {
    switch (op._tag) {
      case "book":
      case "hold": {
        if (this.ticketsOf(op.user) + op.n > LIMIT) return "CustomerLimitReached"
        if (op.n > this.available) return "NotEnoughTickets"
        this.available -= op.n
        if (op._tag === "book") this.bookings.push({ user: op.user, tickets: op.n, status: "CONFIRMED" })
        else this.holds.push({ user: op.user, tickets: op.n, status: "HELD", entry: null, due: false })
        return "ok"
      }
      case "cancel":
      case "reduce": {
        const booking = this.bookings[index]
        if (booking === undefined || booking.user !== (op.user ?? booking.user)) return "BookingNotFound"
        if (booking.status === "CANCELLED") return "BookingAlreadyCancelled"
        const kept = op._tag === "reduce" ? op.n : 0
        if (kept >= booking.tickets) return "ValidationError"
        this.available += booking.tickets - kept
        if (kept === 0) booking.status = "CANCELLED"
        else booking.tickets = kept
        this.offer()
        return "ok"
      }
      case "confirm":
      case "release": {
        const hold = this.holds[index]
        if (hold === undefined || hold.user !== (op.user ?? hold.user) || hold.status === "RELEASED") return "HoldNotFound"
        if (hold.status === "CONFIRMED") return "HoldAlreadyConfirmed"
        if (hold.status === "EXPIRED") return "HoldExpired"
        if (op._tag === "release") {
          this.endHold(hold, "RELEASED")
          this.offer()
          return "ok"
        }
        hold.status = "CONFIRMED"
        if (hold.entry !== null) this.entries[hold.entry]!.status = "ACCEPTED"
        this.bookings.push({ user: hold.user, tickets: hold.tickets, status: "CONFIRMED" })
        return "ok"
      }
      case "join": {
        if (this.entries.some((e) => e.user === op.user && (e.status === "WAITING" || e.status === "OFFERED"))) return "AlreadyOnWaitlist"
        if (op.n <= this.available) return "TicketsAvailable"
        if (this.ticketsOf(op.user) + op.n > LIMIT) return "CustomerLimitReached"
        this.entries.push({ user: op.user, tickets: op.n, status: "WAITING", reserved: 0, passed: 0 })
        return "ok"
      }
      case "leave": {
        const at = this.entries.findIndex((e) => e.user === op.user && (e.status === "WAITING" || e.status === "OFFERED"))
        if (at < 0) return "NotOnWaitlist"
        const entry = this.entries[at]!
        const offer = this.holds.find((h) => h.entry === at && h.status === "HELD")
        if (offer !== undefined) this.endHold(offer, "RELEASED")
        else {
          this.available += entry.reserved
          entry.reserved = 0
          entry.status = "LEFT"
        }
        this.offer()
        return "ok"
      }
      case "expire": {
        const hold = this.holds[index]
        return hold === undefined || (hold.status !== "HELD" && hold.status !== "EXPIRED")
          ? "ended"
          : hold.status === "EXPIRED"
          ? "expired"
          : "not-due"
      }
    }
  }

  /** The rows as a store should hold them. */
  stored(): Stored {
    return {
      available: this.available,
      bookings: this.bookings.map(({ status, tickets, user }) => ({ user, tickets, status })),
      holds: this.holds.map(({ entry, status, tickets, user }) => ({ user, tickets, status, entry })),
      entries: this.entries.map(({ passed, reserved, status, tickets, user }) => ({
        user,
        tickets,
        status,
        reserved: status === "WAITING" ? reserved : 0,
        passed
      }))
    }
  }

  /** The ledger's held part: open holds and tickets kept back for a waiting group. */
  held() {
    return this.holds.filter((h) => h.status === "HELD").reduce((s, h) => s + h.tickets, 0) +
      this.entries.filter((e) => e.status === "WAITING").reduce((s, e) => s + e.reserved, 0)
  }
}

// ---- Running a scenario against the engine -------------------------------------------------

/** How a tier sets a scene up, moves a hold's time on and reads the store. */
export interface Harness<R> {
  /** An event with TOTAL tickets and CUSTOMERS customers. */
  readonly scene: Effect.Effect<{ readonly eventId: EventId; readonly customers: ReadonlyArray<UserId> }, never, R>
  /** These holds' time is up (their expiry is now in the past). */
  readonly makeDue: (holdIds: ReadonlyArray<number>) => Effect.Effect<void, never, R>
  /** The event's rows, each table in id order, with real ids. */
  readonly read: (eventId: EventId) => Effect.Effect<
    {
      readonly available: number
      readonly bookings: ReadonlyArray<{ readonly id: number; readonly userId: number; readonly tickets: number; readonly status: string }>
      readonly holds: ReadonlyArray<
        { readonly id: number; readonly userId: number; readonly tickets: number; readonly status: string; readonly entryId: number | null }
      >
      readonly entries: ReadonlyArray<
        {
          readonly id: number
          readonly userId: number
          readonly tickets: number
          readonly status: string
          readonly reserved: number
          readonly passed: number
        }
      >
    },
    never,
    R
  >
}

const NO_ROW = 2_147_483_647

/**
 * Plays `steps` on a fresh scene: each step's operations are submitted at once, in order (the line
 * keeps that order), and must be answered as the model answers them in that order; after each step
 * the store must equal the model's rows.
 */
export const play = <R>(harness: Harness<R>, steps: ReadonlyArray<Step>) =>
  Effect.gen(function*() {
    const inventory = yield* Inventory
    const { customers, eventId } = yield* harness.scene
    const model = new Model()
    const userIndex = (id: number) => customers.indexOf(id as UserId)
    let ids = { bookings: [] as Array<number>, holds: [] as Array<number>, entries: [] as Array<number> }

    for (const [s, step] of steps.entries()) {
      // Refs name rows that exist when the step starts (nobody knows the ids of rows made meanwhile).
      const counts = { bookings: model.bookings.length, holds: model.holds.length }
      const due = counts.holds === 0 ? [] : step.due.map((ref) => ref % counts.holds)
      yield* harness.makeDue(due.map((index) => ids.holds[index]!))
      model.startStep(due)

      const resolved = step.ops.map((op) => {
        const table = op._tag === "cancel" || op._tag === "reduce" ? "bookings" : "holds"
        const index = "ref" in op && counts[table] > 0 ? op.ref % counts[table] : -1
        const id = index < 0 ? NO_ROW : ids[table][index]!
        // An operation on someone's row is made by its owner unless the step names another customer.
        const owner = index < 0 ? 0 : table === "bookings" ? model.bookings[index]!.user : model.holds[index]!.user
        const who = customers["user" in op && op.user !== null ? op.user : owner]!
        const operation: Operation = (() => {
          switch (op._tag) {
            case "book":
              return { _tag: "Book", userId: who, items: defaultItems(op.n) }
            case "hold":
              return { _tag: "Hold", userId: who, items: defaultItems(op.n) }
            case "join":
              return { _tag: "Join", userId: who, items: defaultItems(op.n) }
            case "leave":
              return { _tag: "Leave", userId: who }
            case "cancel":
              return { _tag: "Cancel", userId: who, bookingId: id }
            case "reduce":
              return { _tag: "Reduce", userId: who, bookingId: id, ticketsCount: op.n }
            case "confirm":
              return { _tag: "Confirm", userId: who, holdId: id }
            case "release":
              return { _tag: "Release", userId: who, holdId: id }
            case "expire":
              return { _tag: "Expire", holdId: id }
          }
        })()
        const modelOp = "user" in op ? { ...op, user: userIndex(who) } as ModelOp : op
        return { operation, modelOp, index }
      })

      const outcomes = yield* Effect.forEach(
        resolved,
        ({ operation }) => Effect.either(inventory.submit(eventId, operation)),
        { concurrency: "unbounded" }
      )
      const expected = resolved.map(({ index, modelOp }) => model.apply(modelOp, index))
      const answered = outcomes.map(Either.match({
        onLeft: (error) => error._tag,
        onRight: (value) => typeof value === "string" ? value : "ok"
      }))
      expect(answered, `step ${s}: ${JSON.stringify(step.ops)}`).toEqual(expected)

      const stored = yield* harness.read(eventId)
      ids = { bookings: stored.bookings.map((b) => b.id), holds: stored.holds.map((h) => h.id), entries: stored.entries.map((e) => e.id) }
      expect({
        available: stored.available,
        bookings: stored.bookings.map((b) => ({ user: userIndex(b.userId), tickets: b.tickets, status: b.status })),
        holds: stored.holds.map((h) => ({
          user: userIndex(h.userId),
          tickets: h.tickets,
          status: h.status,
          entry: h.entryId === null ? null : ids.entries.indexOf(h.entryId)
        })),
        entries: stored.entries.map((e) => ({
          user: userIndex(e.userId),
          tickets: e.tickets,
          status: e.status,
          reserved: e.reserved,
          passed: e.passed
        }))
      }, `store after step ${s}`).toEqual(model.stored())
      const booked = model.bookings.filter((b) => b.status === "CONFIRMED").reduce((sum, b) => sum + b.tickets, 0)
      expect(model.available + model.held() + booked).toBe(TOTAL)
    }
  })
