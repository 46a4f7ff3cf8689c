/**
 * What the engine remembers of an event after a batch that only took tickets, so that the next
 * batch of bookings is decided without reading: its write goes with BEGIN and COMMIT in one
 * message, one round trip instead of two (InventoryRepo.ts). Reading took the first trip and held
 * the event's row lock across the event loop's turn between the two, which bounded a lone
 * booking's time and a hot event's rate (docs/performance.md).
 *
 * The message begins with a guard (`inventory_unchanged`, migration 0016): it locks the events and
 * rolls the transaction back unless each one's version is the one remembered, so another process,
 * an organizer's edit or a ticket type's change since is never missed: the engine then reads and
 * decides again. What depends on time is decided by the service's clock only when no time of the
 * event (its start, its sales windows, its open holds' first expiry) is within `CLOCK_MARGIN_MS` of
 * it, and the guard checks that the database's clock is within that margin too: both clocks then
 * put every such time on the same side.
 *
 * Only bookings are decided so. A customer not counted yet on the event is taken to have an
 * account and none of its tickets, and an Idempotency-Key to be new (what a repeat answers must
 * be read): the guard checks both.
 */
import type { Event } from "../Domain/Event.ts"
import type { TicketTypeRow } from "../Domain/TicketRows.ts"
import { limitedCustomer, type Operation, takesOnly } from "./Operation.ts"
import type { EventState, Plan, Snapshot } from "./Plan.ts"

export interface Remembered {
  /** The event's version (`inventory_versions`) when its batch committed. */
  readonly version: string
  readonly event: Event
  readonly types: ReadonlyArray<TicketTypeRow>
  /** Its open holds' first expiry (none open: null). */
  readonly nextExpiry: Date | null
  /**
   * Tickets by customer (bookings, open holds, waiting entries), for the customers seen so far, and
   * which of them have an account. Owned by this state: the next one takes them over and adds to them.
   */
  readonly customerTickets: Map<number, number>
  readonly accounts: Set<number>
  /**
   * Not decided on before this time (milliseconds): another process wrote the event lately, and a
   * batch decided on this state would likely find it changed, costing a round trip more.
   */
  readonly quietFrom: number
}

/** How far apart the service's and the database's clocks may be, and the least distance from now to any of the event's times. */
export const CLOCK_MARGIN_MS = 2_000

/** Customers counted per event at most: past it, an event's count starts again from nobody (each customer is then a newcomer once). */
export const MAX_CUSTOMERS = 10_000

/** How long a state is not decided on after another process was found to have written its event. */
export const CONTENDED_MS = 1_000

/** The event's row as a batch decides on it. */
export const eventStateOf = (event: Event): EventState => ({
  availableTickets: event.availableTickets,
  date: event.date,
  cancelled: event.status === "CANCELLED",
  draft: event.status === "DRAFT",
  salesStart: event.salesStart,
  salesEnd: event.salesEnd
})

/**
 * Whether `operations` may be decided on `remembered` at `now` (see above). A hold that is due
 * must be expired by the batch, which needs its row: its expiry must be ahead.
 */
export const decidable = (remembered: Remembered, operations: ReadonlyArray<Operation>, now: Date) => {
  const { event, nextExpiry, types } = remembered
  const times = [event.date, event.salesStart, event.salesEnd, ...types.flatMap((t) => [t.salesStart, t.salesEnd])]
  const far = (time: Date | null) => time === null || Math.abs(time.getTime() - now.getTime()) > CLOCK_MARGIN_MS
  return now.getTime() >= remembered.quietFrom && operations.every((operation) => operation._tag === "Book") &&
    times.every(far) && (nextExpiry === null || nextExpiry.getTime() - now.getTime() > CLOCK_MARGIN_MS)
}

/**
 * The customers of `operations` not counted yet, now counted as having an account and no tickets
 * (what the guard checks); `forgetNewcomers` undoes it if the batch fails.
 */
export const countNewcomers = (remembered: Remembered, operations: ReadonlyArray<Operation>): ReadonlyArray<number> => {
  const newcomers: Array<number> = []
  for (const operation of operations) {
    const customer = limitedCustomer(operation)
    if (customer === undefined || remembered.customerTickets.has(customer)) continue
    remembered.customerTickets.set(customer, 0)
    remembered.accounts.add(customer)
    newcomers.push(customer)
  }
  return newcomers
}

/** Undoes `countNewcomers` when the batch failed: the state may still serve the next read's batch. */
export const forgetNewcomers = (remembered: Remembered, newcomers: ReadonlyArray<number>) => {
  for (const customer of newcomers) {
    remembered.customerTickets.delete(customer)
    remembered.accounts.delete(customer)
  }
}

/** The snapshot a batch of bookings is decided on: no booking, ticket, hold or entry is read for one. */
export const snapshotOf = (remembered: Remembered, now: Date): Snapshot => ({
  now,
  event: eventStateOf(remembered.event),
  types: remembered.types,
  bookings: [],
  tickets: [],
  holds: [],
  line: undefined,
  customerTickets: remembered.customerTickets,
  accounts: remembered.accounts
})

/**
 * Whether a batch leaves a state worth remembering: it only took tickets, and no hold fell due
 * (which loads the waiting list and changes other customers' tickets).
 */
export const rememberable = (operations: ReadonlyArray<Operation>, snapshot: Snapshot) =>
  snapshot.event !== undefined && snapshot.line === undefined && operations.every(takesOnly)

/**
 * What to remember once the batch committed: the event and its types as the plan left them, and
 * every customer's tickets counted so far (`earlier`'s too when it is of the version the batch was
 * decided on: nothing changed in between). `earlier`'s counts are taken over, not copied.
 */
export const rememberAfter = (
  decided: {
    readonly event: Event
    readonly types: ReadonlyArray<TicketTypeRow>
    readonly snapshot: Snapshot
    readonly plan: Plan
    readonly quietFrom: number
  },
  earlier: Remembered | undefined,
  committed: { readonly version: string; readonly nextExpiry: Date | null }
): Remembered => {
  const { event, plan, quietFrom, snapshot, types } = decided
  const customerTickets = earlier?.customerTickets ?? new Map<number, number>()
  const accounts = earlier?.accounts ?? new Set<number>()
  // A batch decided on `earlier` read nothing: its snapshot's counts are `earlier`'s own (all of
  // them: merging them into themselves would walk every customer counted, every batch).
  if (snapshot.customerTickets !== customerTickets) {
    for (const [id, tickets] of snapshot.customerTickets) customerTickets.set(id, tickets)
    for (const id of snapshot.accounts) accounts.add(id)
  }
  for (const { ticketsCount, userId } of [...plan.bookings.inserts, ...plan.holds.inserts]) {
    customerTickets.set(userId, (customerTickets.get(userId) ?? 0) + ticketsCount)
  }
  if (customerTickets.size > MAX_CUSTOMERS) {
    customerTickets.clear()
    accounts.clear()
  }
  const taken = new Map(plan.types.map(({ id, taken }) => [id, taken]))
  return {
    version: committed.version,
    event: { ...event, availableTickets: plan.availableTickets },
    types: types.map((type) => ({ ...type, taken: taken.get(type.id) ?? type.taken })),
    nextExpiry: committed.nextExpiry,
    customerTickets,
    accounts,
    quietFrom
  }
}
