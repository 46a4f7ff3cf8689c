/**
 * Every change to an event's tickets, and the pure function that decides a batch of them: exactly
 * what applying them one after the other, in arrival order, would give. The PostgreSQL and
 * in-memory repositories both load the event's state (under its row lock), call `decide`, and
 * write the plan it returns, so they cannot disagree; and it can be tested on its own.
 *
 * The ledger every plan keeps: total = available + held + booked, where held counts open holds
 * (offers included) and the tickets kept back for a waiting group (`reserved`, see `offerPass`).
 */
import { Either } from "effect"
import {
  AlreadyOnWaitlist,
  BookingAlreadyCancelled,
  BookingNotFound,
  CustomerLimitReached,
  EventAlreadyStarted,
  EventNotFound,
  HoldAlreadyConfirmed,
  HoldExpired,
  HoldNotFound,
  NotEnoughTickets,
  NotOnWaitlist,
  SalesClosed,
  TicketsAvailable,
  Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import type { BookingRow, EntryRow, HoldRow } from "../Domain/TicketRows.ts"

// ---- Operations ----------------------------------------------------------------------------

/**
 * `idempotencyId`: the request's Idempotency-Key (Idempotency/Idempotency.ts). Recorded on what the
 * operation makes or changes, so that the operation is never applied twice: a repeat (in the same
 * batch or a later one) is answered with what the first one made.
 */
interface Keyed {
  readonly idempotencyId?: string | undefined
}

export interface Book extends Keyed {
  readonly _tag: "Book"
  readonly userId: number
  readonly ticketsCount: number
}
export interface Cancel extends Keyed {
  readonly _tag: "Cancel"
  readonly userId: number
  readonly bookingId: number
}
/** Keep `ticketsCount` of the booking's tickets and give the rest back. */
export interface Reduce {
  readonly _tag: "Reduce"
  readonly userId: number
  readonly bookingId: number
  readonly ticketsCount: number
}
export interface Hold extends Keyed {
  readonly _tag: "Hold"
  readonly userId: number
  readonly ticketsCount: number
}
/** The booking it makes records the key. */
export interface Confirm extends Keyed {
  readonly _tag: "Confirm"
  readonly userId: number
  readonly holdId: number
}
export interface Release {
  readonly _tag: "Release"
  readonly userId: number
  readonly holdId: number
}
export interface Join {
  readonly _tag: "Join"
  readonly userId: number
  readonly ticketsCount: number
}
export interface Leave {
  readonly _tag: "Leave"
  readonly userId: number
}
/** The hold's time is up (its delayed job): expire it if it is due. */
export interface Expire {
  readonly _tag: "Expire"
  readonly holdId: number
}
/** Expire what is due and offer what is free (the sweep; an organizer adding tickets). */
export interface Refresh {
  readonly _tag: "Refresh"
}

export type Operation = Book | Cancel | Reduce | Hold | Confirm | Release | Join | Leave | Expire | Refresh
export type OperationTag = Operation["_tag"]

/** Operations that only take tickets: a batch of nothing else needs no waiting list. */
export const takesOnly = (operation: Operation) => operation._tag === "Book" || operation._tag === "Hold"

/** The Idempotency-Key ids of operations that make a booking or a hold (their repeats are looked up by it). */
export const makingKey = (operation: Operation): string | undefined =>
  operation._tag === "Book" || operation._tag === "Hold" || operation._tag === "Confirm" ? operation.idempotencyId : undefined

/** Whose running total the limit checks (see `Snapshot.customerTickets`). */
export const limitedCustomer = (operation: Operation): number | undefined =>
  operation._tag === "Book" || operation._tag === "Hold" || operation._tag === "Join" ? operation.userId : undefined

// ---- What a batch is decided on ------------------------------------------------------------

export interface EventState {
  readonly availableTickets: number
  readonly date: Date
  readonly cancelled: boolean
  /** A draft is seen by its organizer only: for everyone else there is no such event. */
  readonly draft: boolean
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
}

/** The event's state as the batch found it, under its row lock. */
export interface Snapshot {
  /** The transaction's time: one instant for the whole batch. */
  readonly now: Date
  /** `undefined`: no such event. */
  readonly event: EventState | undefined
  /** At least the bookings of this event that the batch names, and those made under its operations' keys (`makingKey`). */
  readonly bookings: ReadonlyArray<BookingRow>
  /**
   * At least the holds the batch names, those placed under its operations' keys, every open one
   * that is due, and (with the line) every open offer.
   */
  readonly holds: ReadonlyArray<HoldRow>
  /** The open entries (WAITING, OFFERED) in line order; loaded unless every operation only takes tickets and no hold is due. */
  readonly line: ReadonlyArray<EntryRow> | undefined
  /**
   * For every customer named by a Book, Hold or Join: their tickets for this event, counting
   * confirmed bookings, open holds and waiting entries.
   */
  readonly customerTickets: ReadonlyMap<number, number>
  /** Which of those customers' accounts still exist (a token can outlive a database reset). */
  readonly accounts: ReadonlySet<number>
}

export interface Rules {
  readonly holdTtlMs: number
  readonly maxTicketsPerCustomer: number
}

/**
 * A waiting entry passed over this many times (offers went to smaller entries behind it) stops
 * the line: returned tickets are kept back for it until its whole group fits. See docs/decisions.md.
 */
export const MAX_PASSED_OVER = 3

// ---- What a batch decides ------------------------------------------------------------------

/** One operation's result, with the rows as they stood right after it. */
export type Decision =
  | { readonly _tag: "Booking"; readonly booking: BookingRow; readonly availableAfter: number }
  | { readonly _tag: "Hold"; readonly hold: HoldRow }
  | { readonly _tag: "Entry"; readonly entry: EntryRow; readonly position: number }
  | { readonly _tag: "Expiry"; readonly result: "expired" | "ended" | "not-due" }
  | { readonly _tag: "Done" }

export type Refusal =
  | EventNotFound
  | EventAlreadyStarted
  | SalesClosed
  | NotEnoughTickets
  | CustomerLimitReached
  | Unauthorized
  | BookingNotFound
  | BookingAlreadyCancelled
  | ValidationError
  | HoldNotFound
  | HoldExpired
  | HoldAlreadyConfirmed
  | TicketsAvailable
  | AlreadyOnWaitlist
  | NotOnWaitlist

/**
 * What the outside world must hear of, as outbox jobs (ids may be provisional). `cause`: the index
 * of the operation that led to it; none for what the batch did before its first operation (expiring
 * due holds and offering their tickets).
 */
export type Notice = NoticeOf & { readonly cause: number | undefined }
type NoticeOf =
  | { readonly _tag: "BookingConfirmed"; readonly booking: BookingRow }
  | { readonly _tag: "BookingCancelled"; readonly booking: BookingRow; readonly ticketsCancelled: number }
  | { readonly _tag: "HoldPlaced"; readonly hold: HoldRow }

/** New rows in creation order (ids -1, -2, ...) and the final state of changed existing rows. */
export interface TableChanges<Row> {
  readonly inserts: ReadonlyArray<Row>
  readonly updates: ReadonlyArray<Row>
}

export interface Plan {
  readonly outcomes: ReadonlyArray<Either.Either<Decision, Refusal>>
  readonly availableTickets: number
  readonly bookings: TableChanges<BookingRow>
  readonly holds: TableChanges<HoldRow>
  readonly entries: TableChanges<EntryRow>
  readonly notices: ReadonlyArray<Notice>
  /** Whether anything is to be written. */
  readonly changed: boolean
  /** Whether the event's tickets left differ from before the batch (what the public listing shows). */
  readonly availabilityChanged: boolean
}

// ---- The decision --------------------------------------------------------------------------

/**
 * Decides `operations` of event `eventId`, in order, over `snapshot`. Before the first operation,
 * every open hold that is due expires (whatever woke the batch), so no operation ever sees tickets
 * held by a hold whose time is up.
 */
export const decide = (eventId: number, snapshot: Snapshot, operations: ReadonlyArray<Operation>, rules: Rules): Plan => {
  const { event, now } = snapshot
  const initiallyAvailable = event?.availableTickets ?? 0
  let available = initiallyAvailable
  const bookings = new Map(snapshot.bookings.map((row) => [row.id, row]))
  const holds = new Map(snapshot.holds.map((row) => [row.id, row]))
  const entries = new Map((snapshot.line ?? []).map((row) => [row.id, row]))
  /** Ids of the open entries, in line order. */
  let line = snapshot.line?.map((row) => row.id)
  const customerTickets = new Map(snapshot.customerTickets)
  const touched = { bookings: new Set<number>(), holds: new Set<number>(), entries: new Set<number>() }
  const created = { bookings: 0, holds: 0, entries: 0 }
  const notices: Array<Notice> = []
  /** The operation being applied (see `Notice.cause`). */
  let cause: number | undefined
  const notify = (notice: NoticeOf) => notices.push({ ...notice, cause })
  /** Rows made under an Idempotency-Key, by its id: a repeat of the key is answered with them. */
  const keyed = { bookings: new Map<string, number>(), holds: new Map<string, number>() }
  for (const row of snapshot.bookings) if (row.idempotencyId !== null) keyed.bookings.set(row.idempotencyId, row.id)
  for (const row of snapshot.holds) if (row.idempotencyId !== null) keyed.holds.set(row.idempotencyId, row.id)

  const setBooking = (row: BookingRow) => (bookings.set(row.id, row), touched.bookings.add(row.id), row)
  const setHold = (row: HoldRow) => (holds.set(row.id, row), touched.holds.add(row.id), row)
  const setEntry = (row: EntryRow) => (entries.set(row.id, row), touched.entries.add(row.id), row)
  const newBooking = (row: Omit<BookingRow, "id">) => {
    const booking = setBooking({ ...row, id: -++created.bookings })
    if (row.idempotencyId !== null) keyed.bookings.set(row.idempotencyId, booking.id)
    return booking
  }
  const newHold = (row: Omit<HoldRow, "id">) => {
    const hold = setHold({ ...row, id: -++created.holds })
    if (row.idempotencyId !== null) keyed.holds.set(row.idempotencyId, hold.id)
    return hold
  }
  const newEntry = (row: Omit<EntryRow, "id">) => setEntry({ ...row, id: -++created.entries })
  /** What the caller already made under this key, if anything (never another customer's row). */
  const repeatOf = <Row extends { readonly userId: number }>(
    made: ReadonlyMap<string, number>,
    rows: ReadonlyMap<number, Row>,
    operation: { readonly userId: number; readonly idempotencyId?: string | undefined }
  ): Row | undefined => {
    const id = operation.idempotencyId === undefined ? undefined : made.get(operation.idempotencyId)
    const row = id === undefined ? undefined : rows.get(id)
    return row !== undefined && row.userId === operation.userId ? row : undefined
  }

  const ticketsOf = (userId: number) => {
    const tickets = customerTickets.get(userId)
    if (tickets === undefined) throw new Error(`tickets of customer ${userId} were not loaded`)
    return tickets
  }
  /** Only customers the batch limits are tracked; the others' totals are never read. */
  const addTickets = (userId: number, delta: number) => {
    const tickets = customerTickets.get(userId)
    if (tickets !== undefined) customerTickets.set(userId, tickets + delta)
  }
  const lineIds = () => {
    if (line === undefined) throw new Error("the waiting list was not loaded")
    return line
  }
  const entry = (id: number) => {
    const row = entries.get(id)
    if (row === undefined) throw new Error(`waiting-list entry ${id} was not loaded`)
    return row
  }

  const started = () => event !== undefined && event.date.getTime() <= now.getTime()
  const salesClosed = (): SalesClosed | undefined =>
    event?.salesStart != null && now < event.salesStart
      ? SalesClosed.notYet(eventId, event.salesStart)
      : event?.salesEnd != null && now >= event.salesEnd
      ? SalesClosed.ended(eventId, event.salesEnd)
      : undefined
  /** Why this customer may not take tickets of this event now, if so. */
  const gone = () => event === undefined || event.cancelled || event.draft
  const notOnSale = (userId: number): Refusal | undefined =>
    gone()
      ? EventNotFound.of(eventId)
      : started()
      ? EventAlreadyStarted.of(eventId)
      : salesClosed() ?? (snapshot.accounts.has(userId) ? undefined : Unauthorized.accountGone)
  const overLimit = (userId: number, ticketsCount: number) => {
    const current = ticketsOf(userId)
    return current + ticketsCount > rules.maxTicketsPerCustomer
      ? CustomerLimitReached.of(rules.maxTicketsPerCustomer, current, ticketsCount)
      : undefined
  }

  /** Ends an entry; a waiting one gives back what was kept for it and stops counting for its customer. */
  const endEntry = (id: number, status: "ACCEPTED" | "EXPIRED" | "LEFT") => {
    const row = entry(id)
    line = lineIds().filter((other) => other !== id)
    if (row.status === "WAITING") {
      available += row.reserved
      addTickets(row.userId, -row.ticketsCount)
    }
    setEntry({ ...row, status, reserved: 0, endedAt: now })
  }

  /** Ends an open hold, its tickets back on sale; an offer's entry ends with it. */
  const endHold = (hold: HoldRow, status: "RELEASED" | "EXPIRED") => {
    setHold({ ...hold, status, endedAt: now })
    available += hold.ticketsCount
    addTickets(hold.userId, -hold.ticketsCount)
    if (hold.entryId !== null) endEntry(hold.entryId, status === "EXPIRED" ? "EXPIRED" : "LEFT")
  }

  const placeHold = (userId: number, ticketsCount: number, entryId: number | null, idempotencyId: string | null) => {
    const hold = newHold({
      userId,
      ticketsCount,
      status: "HELD",
      expiresAt: new Date(now.getTime() + rules.holdTtlMs),
      entryId,
      createdAt: now,
      endedAt: null,
      idempotencyId
    })
    notify({ _tag: "HoldPlaced", hold })
    return hold
  }

  /**
   * Free tickets go to the waiting list: in line order, each waiting entry whose whole group fits
   * gets an offer (a hold of its size), so a big group does not block smaller ones behind it. Each
   * offer counts as a pass-over for the entries ahead of it that did not fit; an entry passed over
   * MAX_PASSED_OVER times stops the line: what is free is kept back for it (`reserved`) and nobody
   * behind it gets an offer until it has had its own, so small groups cannot starve it.
   */
  const offerPass = () => {
    if (line === undefined || gone() || started() || salesClosed() !== undefined) return
    for (;;) {
      const passed: Array<EntryRow> = []
      let offered = false
      for (const id of line) {
        const waiting = entry(id)
        if (waiting.status !== "WAITING") continue
        const needed = waiting.ticketsCount - waiting.reserved
        if (needed <= available) {
          available -= needed
          placeHold(waiting.userId, waiting.ticketsCount, waiting.id, null)
          setEntry({ ...waiting, status: "OFFERED", reserved: 0 })
          for (const ahead of passed) setEntry({ ...ahead, passedOver: ahead.passedOver + 1 })
          offered = true
          break
        }
        if (waiting.passedOver >= MAX_PASSED_OVER) {
          if (available > 0) setEntry({ ...waiting, reserved: waiting.reserved + available })
          available = 0
          return
        }
        passed.push(waiting)
      }
      if (!offered) return
    }
  }

  const ownBooking = (userId: number, id: number) => {
    const row = bookings.get(id)
    return row !== undefined && row.userId === userId ? row : undefined
  }
  /** The caller's hold if it is still open; otherwise why not. */
  const openHold = (userId: number, id: number): Either.Either<HoldRow, HoldNotFound | HoldExpired | HoldAlreadyConfirmed> => {
    const row = holds.get(id)
    if (row === undefined || row.userId !== userId || row.status === "RELEASED") return Either.left(HoldNotFound.of(id))
    if (row.status === "CONFIRMED") return Either.left(HoldAlreadyConfirmed.of(id))
    if (row.status === "EXPIRED") return Either.left(HoldExpired.of(id))
    return Either.right(row)
  }

  const apply = (operation: Operation): Either.Either<Decision, Refusal> => {
    switch (operation._tag) {
      case "Book":
      case "Hold": {
        if (operation._tag === "Book") {
          const repeat = repeatOf(keyed.bookings, bookings, operation)
          if (repeat !== undefined) return Either.right({ _tag: "Booking", booking: repeat, availableAfter: available })
        } else {
          const repeat = repeatOf(keyed.holds, holds, operation)
          if (repeat !== undefined) return Either.right({ _tag: "Hold", hold: repeat })
        }
        const { ticketsCount, userId } = operation
        const idempotencyId = operation.idempotencyId ?? null
        const refusal = notOnSale(userId) ?? overLimit(userId, ticketsCount) ??
          (ticketsCount > available ? NotEnoughTickets.of(ticketsCount, available) : undefined)
        if (refusal !== undefined) return Either.left(refusal)
        available -= ticketsCount
        addTickets(userId, ticketsCount)
        if (operation._tag === "Hold") return Either.right({ _tag: "Hold", hold: placeHold(userId, ticketsCount, null, idempotencyId) })
        const booking = newBooking({
          userId,
          ticketsCount,
          status: "CONFIRMED",
          cancelledAt: null,
          holdId: null,
          createdAt: now,
          idempotencyId,
          cancelIdempotencyId: null
        })
        notify({ _tag: "BookingConfirmed", booking })
        return Either.right({ _tag: "Booking", booking, availableAfter: available })
      }

      case "Cancel":
      case "Reduce": {
        const booking = ownBooking(operation.userId, operation.bookingId)
        if (booking === undefined) return Either.left(BookingNotFound.of(operation.bookingId))
        if (
          operation._tag === "Cancel" && operation.idempotencyId !== undefined &&
          booking.cancelIdempotencyId === operation.idempotencyId
        ) {
          // This very cancellation again: the booking as it cancelled it.
          return Either.right({ _tag: "Booking", booking, availableAfter: available })
        }
        if (booking.status === "CANCELLED") return Either.left(BookingAlreadyCancelled.of(booking.id))
        if (started()) return Either.left(EventAlreadyStarted.of(eventId))
        const kept = operation._tag === "Cancel" ? 0 : operation.ticketsCount
        if (kept >= booking.ticketsCount) {
          return Either.left(
            new ValidationError({
              message:
                `ticketsCount: must be less than the booking's ${booking.ticketsCount} tickets (to cancel it all, DELETE the booking)`
            })
          )
        }
        const released = booking.ticketsCount - kept
        const changed = setBooking(
          kept === 0
            ? {
              ...booking,
              status: "CANCELLED",
              cancelledAt: now,
              cancelIdempotencyId: operation._tag === "Cancel" ? operation.idempotencyId ?? null : null
            }
            : { ...booking, ticketsCount: kept }
        )
        available += released
        addTickets(booking.userId, -released)
        notify({ _tag: "BookingCancelled", booking: changed, ticketsCancelled: released })
        offerPass()
        return Either.right({ _tag: "Booking", booking: changed, availableAfter: available })
      }

      case "Confirm": {
        const repeat = repeatOf(keyed.bookings, bookings, operation)
        if (repeat !== undefined) return Either.right({ _tag: "Booking", booking: repeat, availableAfter: available })
        const found = openHold(operation.userId, operation.holdId)
        if (Either.isLeft(found)) return Either.left(found.left)
        const hold = found.right
        if (gone()) return Either.left(EventNotFound.of(eventId))
        if (started()) return Either.left(EventAlreadyStarted.of(eventId))
        setHold({ ...hold, status: "CONFIRMED", endedAt: now })
        if (hold.entryId !== null) endEntry(hold.entryId, "ACCEPTED")
        const booking = newBooking({
          userId: hold.userId,
          ticketsCount: hold.ticketsCount,
          status: "CONFIRMED",
          cancelledAt: null,
          holdId: hold.id,
          createdAt: now,
          idempotencyId: operation.idempotencyId ?? null,
          cancelIdempotencyId: null
        })
        notify({ _tag: "BookingConfirmed", booking })
        return Either.right({ _tag: "Booking", booking, availableAfter: available })
      }

      case "Release": {
        const found = openHold(operation.userId, operation.holdId)
        if (Either.isLeft(found)) return Either.left(found.left)
        endHold(found.right, "RELEASED")
        offerPass()
        return Either.right({ _tag: "Done" })
      }

      case "Join": {
        const { ticketsCount, userId } = operation
        const refusal = notOnSale(userId) ??
          (lineIds().some((id) => entry(id).userId === userId) ? AlreadyOnWaitlist.of(eventId) : undefined) ??
          (ticketsCount <= available ? TicketsAvailable.of(ticketsCount, available) : undefined) ??
          overLimit(userId, ticketsCount)
        if (refusal !== undefined) return Either.left(refusal)
        const joined = newEntry({
          userId,
          ticketsCount,
          status: "WAITING",
          reserved: 0,
          passedOver: 0,
          createdAt: now,
          endedAt: null
        })
        line = [...lineIds(), joined.id]
        addTickets(userId, ticketsCount)
        return Either.right({ _tag: "Entry", entry: joined, position: line.length })
      }

      case "Leave": {
        const id = lineIds().find((id) => entry(id).userId === operation.userId)
        if (id === undefined) return Either.left(NotOnWaitlist.of(eventId))
        const offer = [...holds.values()].find((hold) => hold.entryId === id && hold.status === "HELD")
        if (offer !== undefined) endHold(offer, "RELEASED")
        else endEntry(id, "LEFT")
        offerPass()
        return Either.right({ _tag: "Done" })
      }

      case "Expire": {
        const hold = holds.get(operation.holdId)
        if (hold === undefined || hold.status !== "HELD") {
          return Either.right({ _tag: "Expiry", result: hold?.status === "EXPIRED" ? "expired" : "ended" })
        }
        // Due holds expired before the first operation: this one's time is not up yet.
        return Either.right({ _tag: "Expiry", result: "not-due" })
      }

      case "Refresh":
        offerPass()
        return Either.right({ _tag: "Done" })
    }
  }

  const due = [...holds.values()]
    .filter((hold) => hold.status === "HELD" && hold.expiresAt.getTime() <= now.getTime())
    .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id)
  for (const hold of due) endHold(hold, "EXPIRED")
  offerPass()

  const outcomes = operations.map((operation, i) => {
    cause = i
    return apply(operation)
  })

  const changesOf = <Row extends { readonly id: number }>(rows: ReadonlyMap<number, Row>, ids: ReadonlySet<number>): TableChanges<Row> => {
    const changed = [...ids].map((id) => rows.get(id)!)
    return {
      inserts: changed.filter((row) => row.id < 0).sort((a, b) => b.id - a.id),
      updates: changed.filter((row) => row.id > 0)
    }
  }
  return {
    outcomes,
    availableTickets: available,
    bookings: changesOf(bookings, touched.bookings),
    holds: changesOf(holds, touched.holds),
    entries: changesOf(entries, touched.entries),
    notices,
    changed: available !== initiallyAvailable || touched.bookings.size + touched.holds.size + touched.entries.size > 0,
    availabilityChanged: available !== initiallyAvailable
  }
}

// ---- Real ids ------------------------------------------------------------------------------

/** The real ids of a plan's new rows, per table, in creation order. */
export interface NewIds {
  readonly bookings: ReadonlyArray<number>
  readonly holds: ReadonlyArray<number>
  readonly entries: ReadonlyArray<number>
}

/**
 * Rows, decisions and notices of `plan` with the provisional ids replaced by `ids`; a provisional
 * id beyond its table stays provisional (booking ids are drawn before the write, the others by it).
 */
export const withRealIds = (plan: Plan, ids: NewIds): Plan => {
  const real = (table: ReadonlyArray<number>, id: number) => id > 0 ? id : table[-id - 1] ?? id
  const booking = (row: BookingRow): BookingRow => ({
    ...row,
    id: real(ids.bookings, row.id),
    holdId: row.holdId === null ? null : real(ids.holds, row.holdId)
  })
  const hold = (row: HoldRow): HoldRow => ({
    ...row,
    id: real(ids.holds, row.id),
    entryId: row.entryId === null ? null : real(ids.entries, row.entryId)
  })
  const entry = (row: EntryRow): EntryRow => ({ ...row, id: real(ids.entries, row.id) })
  const tableOf = <Row>(changes: TableChanges<Row>, f: (row: Row) => Row): TableChanges<Row> => ({
    inserts: changes.inserts.map(f),
    updates: changes.updates.map(f)
  })
  return {
    availableTickets: plan.availableTickets,
    availabilityChanged: plan.availabilityChanged,
    changed: plan.changed,
    bookings: tableOf(plan.bookings, booking),
    holds: tableOf(plan.holds, hold),
    entries: tableOf(plan.entries, entry),
    outcomes: plan.outcomes.map(Either.map((decision): Decision => {
      switch (decision._tag) {
        case "Booking":
          return { ...decision, booking: booking(decision.booking) }
        case "Hold":
          return { ...decision, hold: hold(decision.hold) }
        case "Entry":
          return { ...decision, entry: entry(decision.entry) }
        default:
          return decision
      }
    })),
    notices: plan.notices.map((notice): Notice => {
      switch (notice._tag) {
        case "HoldPlaced":
          return { ...notice, hold: hold(notice.hold) }
        default:
          return { ...notice, booking: booking(notice.booking) }
      }
    })
  }
}
/** A plan whose rows all have their real ids. */
export type SettledPlan = Plan
