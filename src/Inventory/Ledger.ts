/**
 * One event's tickets while a batch is being decided: the rows as the operations so far left them,
 * the tickets on sale, each limited customer's running total, and what the batch will write and
 * announce. `decide` (Operations.ts) makes one from the snapshot, each operation (Operation.ts)
 * reads and updates it through these methods, and it ends as the batch's plan.
 *
 * It keeps total = available + held + booked, where held counts open holds (offers included) and
 * the tickets kept back for a waiting group (`reserved`, see Offers.ts); and for each ticket type,
 * taken = its tickets booked, held and kept back. Every change of `available` by a typed row moves
 * its types' `taken` with it (take, giveBack, keepBack): what is left of a type is the smaller of
 * its quota left and the event's tickets left.
 *
 * A mutable object on purpose: it lives for one batch only, and a batch of 64 bookings must not
 * copy maps at each operation (it runs on every booking's path).
 */
import type { Either } from "effect"
import { SalesClosed } from "../Domain/Errors.ts"
import type { BookingRow, EntryItemRow, EntryRow, HoldRow, ItemRow, TicketRow, TicketTypeRow } from "../Domain/TicketRows.ts"
import type { Decision, EventState, Issue, Notice, Plan, Refusal, RowWrite, Rules, Snapshot, TableChanges } from "./Plan.ts"

/** An operation that may carry an Idempotency-Key (see Operation.ts). */
interface Keyed {
  readonly userId: number
  readonly idempotencyId?: string | undefined
}

export class Ledger {
  readonly eventId: number
  /** `undefined`: no such event. */
  readonly event: EventState | undefined
  /** The transaction's time: one instant for the whole batch. */
  readonly now: Date
  readonly rules: Rules
  /** Which customers' accounts still exist. */
  readonly accounts: ReadonlySet<number>
  /** Tickets on sale. */
  available: number
  /** The event's ticket types by id (empty: an event without types, see `Snapshot.types`). */
  readonly types: ReadonlyMap<number, TicketTypeRow>
  readonly defaultType: TicketTypeRow | undefined
  readonly bookings: Map<number, BookingRow>
  readonly holds: Map<number, HoldRow>
  readonly entries: Map<number, EntryRow>
  /** The operation being applied, by its index in the batch (see `Notice.cause`); none before the first. */
  cause: number | undefined = undefined

  private readonly initiallyAvailable: number
  /** Each type's `taken` as the operations so far left it. */
  private readonly taken: Map<number, number>
  /** The tickets of the bookings the batch named, by booking, in issue order. */
  private readonly ticketsByBooking = new Map<number, Array<TicketRow>>()
  private readonly issued: Array<Issue> = []
  private readonly cancelledTickets: Array<number> = []
  /** Ids of the open entries, in line order; `undefined`: the waiting list was not loaded. */
  private openEntries: ReadonlyArray<number> | undefined
  private readonly customerTickets: Map<number, number>
  /** Rows this batch created or changed, per table, in the order it first touched them. */
  private readonly touched = { bookings: new Set<number>(), holds: new Set<number>(), entries: new Set<number>() }
  /** How many rows of each table this batch created (the n-th new row's provisional id is -n). */
  private readonly created = { bookings: 0, holds: 0, entries: 0 }
  private readonly notices: Array<Notice> = []
  /** Every row write, in order, with the row before it: what the audit trail tells (AuditTrail.ts). */
  private readonly writes: Array<RowWrite> = []
  /** Rows made under an Idempotency-Key, by its id: a repeat of the key is answered with them. */
  private readonly keyed = { bookings: new Map<string, number>(), holds: new Map<string, number>() }

  constructor(eventId: number, snapshot: Snapshot, rules: Rules) {
    this.eventId = eventId
    this.event = snapshot.event
    this.now = snapshot.now
    this.rules = rules
    this.accounts = snapshot.accounts
    this.initiallyAvailable = this.available = snapshot.event?.availableTickets ?? 0
    this.bookings = new Map(snapshot.bookings.map((row) => [row.id, row]))
    this.holds = new Map(snapshot.holds.map((row) => [row.id, row]))
    this.entries = new Map((snapshot.line ?? []).map((row) => [row.id, row]))
    this.openEntries = snapshot.line?.map((row) => row.id)
    this.customerTickets = new Map(snapshot.customerTickets)
    this.types = new Map(snapshot.types.map((type) => [type.id, type]))
    this.defaultType = snapshot.types.find((type) => type.isDefault)
    this.taken = new Map(snapshot.types.map((type) => [type.id, type.taken]))
    for (const ticket of snapshot.tickets) {
      const tickets = this.ticketsByBooking.get(ticket.bookingId)
      if (tickets === undefined) this.ticketsByBooking.set(ticket.bookingId, [ticket])
      else tickets.push(ticket)
    }
    for (const row of snapshot.bookings) if (row.idempotencyId !== null) this.keyed.bookings.set(row.idempotencyId, row.id)
    for (const row of snapshot.holds) if (row.idempotencyId !== null) this.keyed.holds.set(row.idempotencyId, row.id)
  }

  // ---- The event ---------------------------------------------------------------------------

  /** No event for anyone taking tickets: none, cancelled, or a draft (seen by its organizer only). */
  gone(): boolean {
    return this.event === undefined || this.event.cancelled || this.event.draft
  }

  started(): boolean {
    return this.event !== undefined && this.event.date.getTime() <= this.now.getTime()
  }

  salesClosed(): SalesClosed | undefined {
    const { event, now } = this
    return event?.salesStart != null && now < event.salesStart
      ? SalesClosed.notYet(this.eventId, event.salesStart)
      : event?.salesEnd != null && now >= event.salesEnd
      ? SalesClosed.ended(this.eventId, event.salesEnd)
      : undefined
  }

  // ---- Ticket types ------------------------------------------------------------------------

  type(id: number): TicketTypeRow {
    const type = this.types.get(id)
    if (type === undefined) throw new Error(`ticket type ${id} was not loaded`)
    return type
  }

  /** What is left of the type's own quota (not yet bounded by the event's tickets left). */
  quotaLeft(id: number): number {
    const { quota } = this.type(id)
    return quota === null ? Number.POSITIVE_INFINITY : quota - this.taken.get(id)!
  }

  /** What is left of a type: the smaller of its quota left and the event's tickets left. */
  leftOf(id: number): number {
    return Math.min(this.quotaLeft(id), this.available)
  }

  /** Why the type is not on sale now (its own sales window), if so. */
  typeSalesClosed(id: number): SalesClosed | undefined {
    const { name, salesEnd, salesStart } = this.type(id)
    const { now } = this
    return salesStart !== null && now < salesStart
      ? SalesClosed.typeNotYet(id, name, salesStart)
      : salesEnd !== null && now >= salesEnd
      ? SalesClosed.typeEnded(id, name, salesEnd)
      : undefined
  }

  /** Tickets kept back for a waiting entry: off sale, and taken from its type (none for an untyped one). */
  keepBack(ticketTypeId: number | undefined, count: number): void {
    this.available -= count
    if (ticketTypeId !== undefined) this.taken.set(ticketTypeId, this.taken.get(ticketTypeId)! + count)
  }

  /** Tickets kept back for a waiting entry, back on sale. */
  release(ticketTypeId: number | undefined, count: number): void {
    this.keepBack(ticketTypeId, -count)
  }

  // ---- Reading rows ------------------------------------------------------------------------

  /** Ids of the open entries (WAITING, OFFERED), in line order. */
  line(): ReadonlyArray<number> {
    if (this.openEntries === undefined) throw new Error("the waiting list was not loaded")
    return this.openEntries
  }

  /** Whether the waiting list was loaded (a batch that only takes tickets has none to offer to). */
  hasLine(): boolean {
    return this.openEntries !== undefined
  }

  entry(id: number): EntryRow {
    const row = this.entries.get(id)
    if (row === undefined) throw new Error(`waiting-list entry ${id} was not loaded`)
    return row
  }

  /** The customer's tickets for this event: confirmed bookings, open holds and waiting entries. */
  customerTicketsOf(userId: number): number {
    const tickets = this.customerTickets.get(userId)
    if (tickets === undefined) throw new Error(`tickets of customer ${userId} were not loaded`)
    return tickets
  }

  /** The booking the caller already made under this operation's key, if any (never another customer's). */
  bookingMadeWith(operation: Keyed): BookingRow | undefined {
    return this.madeWith(this.keyed.bookings, this.bookings, operation)
  }

  /** The hold the caller already placed under this operation's key, if any (never another customer's). */
  holdMadeWith(operation: Keyed): HoldRow | undefined {
    return this.madeWith(this.keyed.holds, this.holds, operation)
  }

  private madeWith<Row extends { readonly userId: number }>(
    made: ReadonlyMap<string, number>,
    rows: ReadonlyMap<number, Row>,
    operation: Keyed
  ): Row | undefined {
    const id = operation.idempotencyId === undefined ? undefined : made.get(operation.idempotencyId)
    const row = id === undefined ? undefined : rows.get(id)
    return row !== undefined && row.userId === operation.userId ? row : undefined
  }

  // ---- Tickets -----------------------------------------------------------------------------

  /** A customer takes tickets on sale (booked or held): `ticketsCount` of the event, `items` of their types. */
  take(userId: number, ticketsCount: number, items: ReadonlyArray<ItemRow>): void {
    this.available -= ticketsCount
    for (const { count, ticketTypeId } of items) this.taken.set(ticketTypeId, this.taken.get(ticketTypeId)! + count)
    this.addTickets(userId, ticketsCount)
  }

  /** A customer gives tickets back on sale. */
  giveBack(userId: number, ticketsCount: number, items: ReadonlyArray<ItemRow>): void {
    this.take(userId, -ticketsCount, items.map((item) => ({ ...item, count: -item.count })))
  }

  // ---- A booking's tickets -----------------------------------------------------------------

  /** The booking's tickets not cancelled, in issue order (those of a booking the batch named). */
  ticketsOf(bookingId: number): ReadonlyArray<TicketRow> {
    return (this.ticketsByBooking.get(bookingId) ?? []).filter((ticket) => ticket.status !== "CANCELLED")
  }

  /** These tickets are cancelled (the caller gives their places back). */
  cancelTickets(tickets: ReadonlyArray<TicketRow>): void {
    for (const ticket of tickets) {
      const all = this.ticketsByBooking.get(ticket.bookingId)!
      all[all.indexOf(ticket)] = { ...ticket, status: "CANCELLED" }
      this.cancelledTickets.push(ticket.id)
    }
  }

  /** Only customers the batch limits are tracked; the others' totals are never read. */
  addTickets(userId: number, delta: number): void {
    const tickets = this.customerTickets.get(userId)
    if (tickets !== undefined) this.customerTickets.set(userId, tickets + delta)
  }

  // ---- Writing rows ------------------------------------------------------------------------

  setBooking(row: BookingRow): BookingRow {
    this.writes.push({ table: "bookings", before: this.bookings.get(row.id), after: row, cause: this.cause })
    this.bookings.set(row.id, row)
    this.touched.bookings.add(row.id)
    return row
  }

  setHold(row: HoldRow): HoldRow {
    this.writes.push({ table: "holds", before: this.holds.get(row.id), after: row, cause: this.cause })
    this.holds.set(row.id, row)
    this.touched.holds.add(row.id)
    return row
  }

  setEntry(row: EntryRow): EntryRow {
    this.writes.push({ table: "entries", before: this.entries.get(row.id), after: row, cause: this.cause })
    this.entries.set(row.id, row)
    this.touched.entries.add(row.id)
    return row
  }

  /** A new confirmed booking (announced), with a ticket per ticket of its items: made by the caller's request, or from their hold. */
  addBooking(
    userId: number,
    ticketsCount: number,
    items: ReadonlyArray<ItemRow>,
    holdId: number | null,
    idempotencyId: string | null
  ): BookingRow {
    const booking = this.setBooking({
      userId,
      ticketsCount,
      items,
      status: "CONFIRMED",
      cancelledAt: null,
      holdId,
      createdAt: this.now,
      idempotencyId,
      cancelIdempotencyId: null,
      id: -++this.created.bookings
    })
    if (idempotencyId !== null) this.keyed.bookings.set(idempotencyId, booking.id)
    for (const { count, ticketTypeId } of items) this.issued.push({ bookingId: booking.id, ticketTypeId, count })
    this.notices.push({ _tag: "BookingConfirmed", booking, cause: this.cause })
    return booking
  }

  /** A new open hold (announced: its expiry, and the offer if it is one); its tickets are already taken. */
  placeHold(
    userId: number,
    ticketsCount: number,
    items: ReadonlyArray<ItemRow>,
    entryId: number | null,
    idempotencyId: string | null
  ): HoldRow {
    const hold = this.setHold({
      userId,
      ticketsCount,
      items,
      status: "HELD",
      expiresAt: new Date(this.now.getTime() + this.rules.holdTtlMs),
      entryId,
      createdAt: this.now,
      endedAt: null,
      idempotencyId,
      id: -++this.created.holds
    })
    if (idempotencyId !== null) this.keyed.holds.set(idempotencyId, hold.id)
    this.notices.push({ _tag: "HoldPlaced", hold, cause: this.cause })
    return hold
  }

  /** A new entry at the end of the line. */
  addEntry(userId: number, ticketsCount: number, items: ReadonlyArray<ItemRow>): EntryRow {
    const entry = this.setEntry({
      userId,
      ticketsCount,
      items: items.map((item) => ({ ...item, reserved: 0 })),
      status: "WAITING",
      reserved: 0,
      passedOver: 0,
      createdAt: this.now,
      endedAt: null,
      id: -++this.created.entries
    })
    this.openEntries = [...this.line(), entry.id]
    return entry
  }

  /** A booking cancelled or reduced by `ticketsCancelled`, announced (its tickets are given back by the caller). */
  changeBooking(booking: BookingRow, ticketsCancelled: number): BookingRow {
    const changed = this.setBooking(booking)
    this.notices.push({ _tag: "BookingCancelled", booking: changed, ticketsCancelled, cause: this.cause })
    return changed
  }

  /** Ends an entry; a waiting one gives back what was kept for it and stops counting for its customer. */
  endEntry(id: number, status: "ACCEPTED" | "EXPIRED" | "LEFT"): void {
    const row = this.entry(id)
    this.openEntries = this.line().filter((other) => other !== id)
    if (row.status === "WAITING") {
      if (row.items.length === 0) this.release(undefined, row.reserved)
      for (const item of row.items) this.release(item.ticketTypeId, item.reserved)
      this.addTickets(row.userId, -row.ticketsCount)
    }
    this.setEntry({ ...row, status, reserved: 0, items: unreserved(row.items), endedAt: this.now })
  }

  /** Ends an open hold, its tickets back on sale; an offer's entry ends with it. */
  endHold(hold: HoldRow, status: "RELEASED" | "EXPIRED"): void {
    this.setHold({ ...hold, status, endedAt: this.now })
    this.giveBack(hold.userId, hold.ticketsCount, hold.items)
    if (hold.entryId !== null) this.endEntry(hold.entryId, status === "EXPIRED" ? "EXPIRED" : "LEFT")
  }

  /** Every open hold whose time is up expires, soonest first. */
  expireDueHolds(): void {
    const now = this.now.getTime()
    const due = [...this.holds.values()]
      .filter((hold) => hold.status === "HELD" && hold.expiresAt.getTime() <= now)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id)
    for (const hold of due) this.endHold(hold, "EXPIRED")
  }

  // ---- The plan ----------------------------------------------------------------------------

  /** What the batch decided: `outcomes`, and everything it changed. */
  plan(outcomes: ReadonlyArray<Either.Either<Decision, Refusal>>): Plan {
    const available = this.available
    const types = [...this.taken].filter(([id, taken]) => taken !== this.types.get(id)!.taken).map(([id, taken]) => ({ id, taken }))
    return {
      outcomes,
      availableTickets: available,
      types,
      tickets: { issued: this.issued, cancelled: this.cancelledTickets },
      bookings: changesOf(this.bookings, this.touched.bookings),
      holds: changesOf(this.holds, this.touched.holds),
      entries: changesOf(this.entries, this.touched.entries),
      notices: this.notices,
      writes: this.writes,
      changed: available !== this.initiallyAvailable || types.length > 0 || this.cancelledTickets.length > 0 ||
        this.touched.bookings.size + this.touched.holds.size + this.touched.entries.size > 0,
      availabilityChanged: available !== this.initiallyAvailable
    }
  }
}

/** An entry's items with nothing kept back. */
export const unreserved = (items: ReadonlyArray<EntryItemRow>): ReadonlyArray<EntryItemRow> =>
  items.some((item) => item.reserved !== 0) ? items.map((item) => ({ ...item, reserved: 0 })) : items

/** New rows in creation order (ids -1, -2...), then the final state of changed existing rows. */
const changesOf = <Row extends { readonly id: number }>(rows: ReadonlyMap<number, Row>, ids: ReadonlySet<number>): TableChanges<Row> => {
  const changed = [...ids].map((id) => rows.get(id)!)
  return {
    inserts: changed.filter((row) => row.id < 0).sort((a, b) => b.id - a.id),
    updates: changed.filter((row) => row.id > 0)
  }
}
