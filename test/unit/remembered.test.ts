/** When the engine may decide a batch on what it remembers of an event, and what it remembers after. */
import { describe, expect, it } from "@effect/vitest"
import type { Event } from "../../src/Domain/Event.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"
import { decide } from "../../src/Inventory/Operations.ts"
import {
  CLOCK_MARGIN_MS,
  countNewcomers,
  decidable,
  MAX_CUSTOMERS,
  rememberAfter,
  type Remembered,
  snapshotOf
} from "../../src/Inventory/Remembered.ts"

const NOW = new Date("2030-01-01T00:00:00Z")
const later = (ms: number) => new Date(NOW.getTime() + ms)
const rules = { holdTtlMs: 600_000, maxTicketsPerCustomer: 4 }

const event: Event = {
  id: 7 as EventId,
  title: "Conf",
  description: "",
  date: later(86_400_000),
  location: "Hall",
  totalTickets: 10,
  availableTickets: 10,
  organizerId: 1 as UserId,
  status: "PUBLISHED",
  salesStart: null,
  salesEnd: null,
  currency: "EUR",
  createdAt: NOW,
  updatedAt: NOW
}
const remembered: Remembered = {
  version: "1;",
  event,
  types: [],
  nextExpiry: null,
  customerTickets: new Map([[1, 3], [2, 0]]),
  accounts: new Set([1, 2]),
  quietFrom: 0
}
const book = (userId: number, count = 1, idempotencyId?: string): Operation => ({
  _tag: "Book",
  userId,
  items: defaultItems(count),
  idempotencyId
})

describe("a remembered state", () => {
  it("decides bookings, when no time of the event is near", () => {
    expect(decidable(remembered, [book(1), book(2), book(3), book(1, 1, "a-key")], NOW)).toBe(true)
    // Another process wrote the event a moment ago.
    expect(decidable({ ...remembered, quietFrom: NOW.getTime() + 1 }, [book(1)], NOW)).toBe(false)
    expect(decidable(remembered, [{ _tag: "Hold", userId: 1, items: defaultItems(1) }], NOW)).toBe(false)
    expect(decidable(remembered, [{ _tag: "Cancel", userId: 1, bookingId: 5 }], NOW)).toBe(false)
    const near = later(CLOCK_MARGIN_MS - 1)
    expect(decidable({ ...remembered, event: { ...event, date: near } }, [book(1)], NOW)).toBe(false)
    expect(decidable({ ...remembered, event: { ...event, salesEnd: later(-CLOCK_MARGIN_MS + 1) } }, [book(1)], NOW)).toBe(false)
    expect(decidable({ ...remembered, event: { ...event, salesStart: later(-CLOCK_MARGIN_MS - 1) } }, [book(1)], NOW)).toBe(true)
  })

  it("counts a customer it had not counted as having an account and no tickets, for the guard to check", () => {
    const state = { ...remembered, customerTickets: new Map(remembered.customerTickets), accounts: new Set(remembered.accounts) }
    expect(countNewcomers(state, [book(1), book(3), book(3), book(4)])).toEqual([3, 4])
    expect([...state.customerTickets]).toEqual([[1, 3], [2, 0], [3, 0], [4, 0]])
    expect(state.accounts.has(3) && state.accounts.has(4)).toBe(true)
  })

  it("is not decided on once an open hold is due, however long ago", () => {
    expect(decidable({ ...remembered, nextExpiry: later(CLOCK_MARGIN_MS + 1) }, [book(1)], NOW)).toBe(true)
    expect(decidable({ ...remembered, nextExpiry: later(CLOCK_MARGIN_MS - 1) }, [book(1)], NOW)).toBe(false)
    expect(decidable({ ...remembered, nextExpiry: later(-60_000) }, [book(1)], NOW)).toBe(false)
  })

  it("after a batch: the tickets left and each customer's count move with what it booked; what was counted before stays", () => {
    const operations = [book(1, 1), book(2, 4), book(1, 1)]
    const snapshot = snapshotOf({ ...remembered, customerTickets: new Map([[1, 3], [2, 0]]) }, NOW)
    const plan = decide(event.id, snapshot, operations, rules)
    expect(plan.outcomes.map((o) => o._tag)).toEqual(["Right", "Right", "Left"]) // customer 1's limit of 4
    const earlier = { ...remembered, customerTickets: new Map([[9, 2]]), accounts: new Set([9]) }
    const after = rememberAfter({ event, types: [], snapshot, plan, quietFrom: 0 }, earlier, { version: "2;", nextExpiry: null })
    expect(after).toMatchObject({ version: "2;", event: { availableTickets: 5 } })
    expect([...after.customerTickets]).toEqual([[9, 2], [1, 4], [2, 4]])
    expect([...after.accounts].sort()).toEqual([1, 2, 9])
  })
  it("counts nobody once it would count more than MAX_CUSTOMERS: each is then a newcomer, checked by the guard", () => {
    const many = new Map(Array.from({ length: MAX_CUSTOMERS }, (_, i) => [i + 100, 1] as const))
    const earlier = { ...remembered, customerTickets: many, accounts: new Set(many.keys()) }
    expect(countNewcomers(earlier, [book(99_999)])).toEqual([99_999])
    const snapshot = snapshotOf(earlier, NOW)
    const plan = decide(event.id, snapshot, [book(99_999)], rules)
    const after = rememberAfter({ event, types: [], snapshot, plan, quietFrom: 0 }, earlier, { version: "2;", nextExpiry: null })
    expect(after.customerTickets.size + after.accounts.size).toBe(0)
    expect(after.event.availableTickets).toBe(9)
  })
})
