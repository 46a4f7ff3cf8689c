/**
 * The changes anyone can make to an event's tickets, and what each one does: one function per
 * operation, reading and updating the batch's ledger (Ledger.ts) and answering a decision or a
 * refusal. `apply` dispatches on the tag with the enum's `$match`, which the compiler holds
 * exhaustive: a new operation does not compile until it has its function.
 */
import { Data, Either } from "effect"
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
  TicketCheckedIn,
  TicketsAvailable,
  TicketTypeNotFound,
  Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import type { BookingRow, HoldRow, ItemRow, TicketRow } from "../Domain/TicketRows.ts"
import type { Ledger } from "./Ledger.ts"
import { offerFreeTickets } from "./Offers.ts"
import type { Decision, Refusal } from "./Plan.ts"

/**
 * `idempotencyId`: the request's Idempotency-Key (Idempotency/Idempotency.ts). Recorded on what the
 * operation makes or changes, so that the operation is never applied twice: a repeat (in the same
 * batch or a later one) is answered with what the first one made.
 */
interface Keyed {
  readonly idempotencyId?: string | undefined
}

/**
 * Tickets asked for, of one type: `"default"` is the event's default type (what a request naming
 * no type books). A Book, Hold or Join takes all of its items or none.
 */
export interface ItemRequest {
  readonly ticketTypeId: number | "default"
  readonly count: number
}

/** `count` tickets of the event's default type: the seed's `{eventId, ticketsCount}`. */
export const defaultItems = (count: number): ReadonlyArray<ItemRequest> => [{ ticketTypeId: "default", count }]

/** The tickets an operation asks for, all types together. */
export const countOf = (items: ReadonlyArray<{ readonly count: number }>) => items.reduce((n, item) => n + item.count, 0)

export type Operation = Data.TaggedEnum<{
  Book: Keyed & { readonly userId: number; readonly items: ReadonlyArray<ItemRequest> }
  Cancel: Keyed & { readonly userId: number; readonly bookingId: number }
  /**
   * Keep `ticketsCount` of the booking's tickets and give the rest back: its tickets not checked
   * in, the last issued first whatever their type (a booking's tickets are issued in its items'
   * order: the last item's go first).
   */
  Reduce: { readonly userId: number; readonly bookingId: number; readonly ticketsCount: number }
  Hold: Keyed & { readonly userId: number; readonly items: ReadonlyArray<ItemRequest> }
  /** The booking it makes records the key. */
  Confirm: Keyed & { readonly userId: number; readonly holdId: number }
  Release: { readonly userId: number; readonly holdId: number }
  Join: { readonly userId: number; readonly items: ReadonlyArray<ItemRequest> }
  Leave: { readonly userId: number }
  /** The hold's time is up (its delayed job): expire it if it is due. */
  Expire: { readonly holdId: number }
  /** Expire what is due and offer what is free (the sweep; an organizer adding tickets). */
  Refresh: Record<never, never>
}>
export const Operation = Data.taggedEnum<Operation>()

export type OperationTag = Operation["_tag"]
type Of<Tag extends OperationTag> = Data.TaggedEnum.Value<Operation, Tag>

/** Operations that only take tickets: a batch of nothing else needs no waiting list. */
export const takesOnly = (operation: Operation) => operation._tag === "Book" || operation._tag === "Hold"

/** The Idempotency-Key ids of operations that make a booking or a hold (their repeats are looked up by it). */
export const makingKey = (operation: Operation): string | undefined =>
  operation._tag === "Book" || operation._tag === "Hold" || operation._tag === "Confirm" ? operation.idempotencyId : undefined

/** Whose running total the limit checks (see `Snapshot.customerTickets`). */
export const limitedCustomer = (operation: Operation): number | undefined =>
  operation._tag === "Book" || operation._tag === "Hold" || operation._tag === "Join" ? operation.userId : undefined

/** One operation's answer. */
type Outcome = Either.Either<Decision, Refusal>

/**
 * Applies operations to `ledger`, each by its own function. Made once per batch (the operations'
 * functions take the ledger; `$match` hands them only the operation).
 */
export const apply = (ledger: Ledger): (operation: Operation) => Outcome =>
  Operation.$match({
    Book: (operation) => book(ledger, operation),
    Cancel: (operation) => cancel(ledger, operation),
    Reduce: (operation) => reduce(ledger, operation),
    Hold: (operation) => hold(ledger, operation),
    Confirm: (operation) => confirm(ledger, operation),
    Release: (operation) => release(ledger, operation),
    Join: (operation) => join(ledger, operation),
    Leave: (operation) => leave(ledger, operation),
    Expire: (operation) => expire(ledger, operation),
    Refresh: () => refresh(ledger)
  })

// ---- Taking tickets ------------------------------------------------------------------------

const book = (ledger: Ledger, operation: Of<"Book">): Outcome => {
  const repeat = ledger.bookingMadeWith(operation)
  if (repeat !== undefined) return Either.right({ _tag: "Booking", booking: repeat, availableAfter: ledger.available })
  const { userId } = operation
  const asked = whyNotTake(ledger, userId, operation.items)
  if (Either.isLeft(asked)) return Either.left(asked.left)
  const { items, ticketsCount } = asked.right
  ledger.take(userId, ticketsCount, items)
  const booking = ledger.addBooking(userId, ticketsCount, items, null, operation.idempotencyId ?? null)
  return Either.right({ _tag: "Booking", booking, availableAfter: ledger.available })
}

const hold = (ledger: Ledger, operation: Of<"Hold">): Outcome => {
  const repeat = ledger.holdMadeWith(operation)
  if (repeat !== undefined) return Either.right({ _tag: "Hold", hold: repeat })
  const { userId } = operation
  const asked = whyNotTake(ledger, userId, operation.items)
  if (Either.isLeft(asked)) return Either.left(asked.left)
  const { items, ticketsCount } = asked.right
  ledger.take(userId, ticketsCount, items)
  return Either.right({ _tag: "Hold", hold: ledger.placeHold(userId, ticketsCount, items, null, operation.idempotencyId ?? null) })
}

/** What a request asks for, its types resolved (none for an event without types). */
interface Asked {
  readonly items: ReadonlyArray<ItemRow>
  readonly ticketsCount: number
}

/**
 * The items with their types resolved ("default": the event's default type), a type named twice
 * counted once with both counts; refused if a type is not this event's.
 */
const resolve = (ledger: Ledger, requests: ReadonlyArray<ItemRequest>): Either.Either<Asked, Refusal> => {
  const ticketsCount = countOf(requests)
  if (ledger.types.size === 0) {
    // An event without types sells its capacity alone: only its default may be asked for.
    const named = requests.find((item) => item.ticketTypeId !== "default")
    return named === undefined
      ? Either.right({ items: [], ticketsCount })
      : Either.left(TicketTypeNotFound.of(ledger.eventId, named.ticketTypeId as number))
  }
  const counts = new Map<number, number>()
  for (const { count, ticketTypeId } of requests) {
    if (ticketTypeId === "default" && ledger.defaultType === undefined) {
      return Either.left(
        new TicketTypeNotFound({ message: `Event ${ledger.eventId} has no default ticket type: name one (ticketTypeId or items)` })
      )
    }
    const id = ticketTypeId === "default" ? ledger.defaultType!.id : ticketTypeId
    if (!ledger.types.has(id)) return Either.left(TicketTypeNotFound.of(ledger.eventId, id))
    counts.set(id, (counts.get(id) ?? 0) + count)
  }
  return Either.right({ items: [...counts].map(([ticketTypeId, count]) => ({ ticketTypeId, count })), ticketsCount })
}

/**
 * What this customer may take of these items now, or why not: the event first (gone, started,
 * off sale), then each type (unknown, off sale, more than its maxPerBooking), the customer's limit
 * (all types together), and last what is left: of each type, then of the event for all of them.
 */
const whyNotTake = (ledger: Ledger, userId: number, requests: ReadonlyArray<ItemRequest>): Either.Either<Asked, Refusal> => {
  const closed = notOnSale(ledger, userId)
  if (closed !== undefined) return Either.left(closed)
  const asked = resolve(ledger, requests)
  if (Either.isLeft(asked)) return Either.left(asked.left)
  const { items, ticketsCount } = asked.right
  const refusal = typesRefusal(ledger, items) ?? overLimit(ledger, userId, ticketsCount) ?? shortOf(ledger, items, ticketsCount)
  return refusal === undefined ? asked : Either.left(refusal)
}

/** Why these items' types may not be asked for now (their sales window, their maxPerBooking), if so. */
const typesRefusal = (ledger: Ledger, items: ReadonlyArray<ItemRow>): Refusal | undefined => {
  for (const [i, { count, ticketTypeId }] of items.entries()) {
    const closed = ledger.typeSalesClosed(ticketTypeId)
    if (closed !== undefined) return closed
    const { maxPerBooking, name } = ledger.type(ticketTypeId)
    if (maxPerBooking !== null && count > maxPerBooking) {
      // A 400 like ticketsCount over MAX_TICKETS_PER_BOOKING: the request breaks a rule of the type
      // that no stock can satisfy; the same request again is refused again (the listing shows the rule).
      return new ValidationError({
        message: `items[${i}].count: at most ${maxPerBooking} tickets of type ${ticketTypeId} (${name}) per request; ${count} asked for`
      })
    }
  }
  return undefined
}

/** The first item that is short (a type's quota or the event), or the event if all of them together are. */
const shortOf = (ledger: Ledger, items: ReadonlyArray<ItemRow>, ticketsCount: number): NotEnoughTickets | undefined => {
  for (const { count, ticketTypeId } of items) {
    const left = ledger.leftOf(ticketTypeId)
    if (count > left) {
      const { isDefault, name } = ledger.type(ticketTypeId)
      return isDefault ? NotEnoughTickets.of(count, left, ticketTypeId) : NotEnoughTickets.ofType(count, left, ticketTypeId, name)
    }
  }
  return ticketsCount > ledger.available ? NotEnoughTickets.of(ticketsCount, ledger.available) : undefined
}

/** Why this customer may not take tickets of this event now, if so. */
const notOnSale = (ledger: Ledger, userId: number): Refusal | undefined =>
  ledger.gone()
    ? EventNotFound.of(ledger.eventId)
    : ledger.started()
    ? EventAlreadyStarted.of(ledger.eventId)
    : ledger.salesClosed() ?? (ledger.accounts.has(userId) ? undefined : Unauthorized.accountGone)

const overLimit = (ledger: Ledger, userId: number, ticketsCount: number) => {
  const current = ledger.customerTicketsOf(userId)
  const { maxTicketsPerCustomer } = ledger.rules
  return current + ticketsCount > maxTicketsPerCustomer ? CustomerLimitReached.of(maxTicketsPerCustomer, current, ticketsCount) : undefined
}

// ---- Giving bookings back ------------------------------------------------------------------

const cancel = (ledger: Ledger, operation: Of<"Cancel">): Outcome => {
  const booking = ownBooking(ledger, operation.userId, operation.bookingId)
  if (booking === undefined) return Either.left(BookingNotFound.of(operation.bookingId))
  if (operation.idempotencyId !== undefined && booking.cancelIdempotencyId === operation.idempotencyId) {
    // This very cancellation again: the booking as it cancelled it.
    return Either.right({ _tag: "Booking", booking, availableAfter: ledger.available })
  }
  return giveBack(ledger, booking, 0, operation.idempotencyId ?? null)
}

const reduce = (ledger: Ledger, operation: Of<"Reduce">): Outcome => {
  const booking = ownBooking(ledger, operation.userId, operation.bookingId)
  if (booking === undefined) return Either.left(BookingNotFound.of(operation.bookingId))
  return giveBack(ledger, booking, operation.ticketsCount, null)
}

/**
 * The booking keeps `kept` of its tickets (none: it is cancelled, under `cancelKey`); the rest go
 * to the waiting list or on sale. Its tickets given back are cancelled: those not checked in, the
 * last issued first; if too few are not checked in, nothing changes (409 TicketCheckedIn).
 */
const giveBack = (ledger: Ledger, booking: BookingRow, kept: number, cancelKey: string | null): Outcome => {
  if (booking.status === "CANCELLED") return Either.left(BookingAlreadyCancelled.of(booking.id))
  if (ledger.started()) return Either.left(EventAlreadyStarted.of(ledger.eventId))
  if (kept >= booking.ticketsCount) {
    return Either.left(
      new ValidationError({
        message: `ticketsCount: must be less than the booking's ${booking.ticketsCount} tickets (to cancel it all, DELETE the booking)`
      })
    )
  }
  const released = booking.ticketsCount - kept
  let items = booking.items
  let back: ReadonlyArray<ItemRow> = []
  if (items.length > 0) {
    const tickets = ledger.ticketsOf(booking.id)
    const valid = tickets.filter((ticket) => ticket.status === "VALID")
    if (valid.length < released) {
      const checkedIn = tickets.find((ticket) => ticket.status === "CHECKED_IN")
      if (checkedIn === undefined) throw new Error(`booking ${booking.id} has fewer tickets than its ${booking.ticketsCount}`)
      return Either.left(TicketCheckedIn.of(checkedIn.code))
    }
    const cancelled = valid.slice(valid.length - released)
    ledger.cancelTickets(cancelled)
    back = itemsOf(cancelled)
    items = kept === 0 ? items : less(items, back)
  }
  const changed = ledger.changeBooking(
    kept === 0
      ? { ...booking, status: "CANCELLED", cancelledAt: ledger.now, cancelIdempotencyId: cancelKey }
      : { ...booking, ticketsCount: kept, items },
    released
  )
  ledger.giveBack(booking.userId, released, back)
  offerFreeTickets(ledger)
  return Either.right({ _tag: "Booking", booking: changed, availableAfter: ledger.available })
}

/** Tickets counted by type, in the order the types first appear. */
const itemsOf = (tickets: ReadonlyArray<TicketRow>): ReadonlyArray<ItemRow> => {
  const counts = new Map<number, number>()
  for (const { ticketTypeId } of tickets) counts.set(ticketTypeId, (counts.get(ticketTypeId) ?? 0) + 1)
  return [...counts].map(([ticketTypeId, count]) => ({ ticketTypeId, count }))
}

/** `items` less `back`, type by type; a type with none left is dropped. */
const less = (items: ReadonlyArray<ItemRow>, back: ReadonlyArray<ItemRow>): ReadonlyArray<ItemRow> =>
  items.map((item) => ({ ...item, count: item.count - (back.find((b) => b.ticketTypeId === item.ticketTypeId)?.count ?? 0) }))
    .filter((item) => item.count > 0)

const ownBooking = (ledger: Ledger, userId: number, id: number) => {
  const row = ledger.bookings.get(id)
  return row !== undefined && row.userId === userId ? row : undefined
}

// ---- Holds ---------------------------------------------------------------------------------

const confirm = (ledger: Ledger, operation: Of<"Confirm">): Outcome => {
  const repeat = ledger.bookingMadeWith(operation)
  if (repeat !== undefined) return Either.right({ _tag: "Booking", booking: repeat, availableAfter: ledger.available })
  const found = openHold(ledger, operation.userId, operation.holdId)
  if (Either.isLeft(found)) return Either.left(found.left)
  const held = found.right
  if (ledger.gone()) return Either.left(EventNotFound.of(ledger.eventId))
  if (ledger.started()) return Either.left(EventAlreadyStarted.of(ledger.eventId))
  ledger.setHold({ ...held, status: "CONFIRMED", endedAt: ledger.now })
  if (held.entryId !== null) ledger.endEntry(held.entryId, "ACCEPTED")
  const booking = ledger.addBooking(held.userId, held.ticketsCount, held.items, held.id, operation.idempotencyId ?? null)
  return Either.right({ _tag: "Booking", booking, availableAfter: ledger.available })
}

const release = (ledger: Ledger, operation: Of<"Release">): Outcome => {
  const found = openHold(ledger, operation.userId, operation.holdId)
  if (Either.isLeft(found)) return Either.left(found.left)
  ledger.endHold(found.right, "RELEASED")
  offerFreeTickets(ledger)
  return Either.right(done)
}

/** Due holds expired before the first operation: a hold still open is not due yet. */
const expire = (ledger: Ledger, operation: Of<"Expire">): Outcome => {
  const held = ledger.holds.get(operation.holdId)
  if (held === undefined || held.status !== "HELD") {
    return Either.right({ _tag: "Expiry", result: held?.status === "EXPIRED" ? "expired" : "ended" })
  }
  return Either.right({ _tag: "Expiry", result: "not-due" })
}

/** The caller's hold if it is still open; otherwise why not. */
const openHold = (
  ledger: Ledger,
  userId: number,
  id: number
): Either.Either<HoldRow, HoldNotFound | HoldExpired | HoldAlreadyConfirmed> => {
  const row = ledger.holds.get(id)
  if (row === undefined || row.userId !== userId || row.status === "RELEASED") return Either.left(HoldNotFound.of(id))
  if (row.status === "CONFIRMED") return Either.left(HoldAlreadyConfirmed.of(id))
  if (row.status === "EXPIRED") return Either.left(HoldExpired.of(id))
  return Either.right(row)
}

// ---- The waiting list ----------------------------------------------------------------------

const join = (ledger: Ledger, operation: Of<"Join">): Outcome => {
  const { userId } = operation
  const closed = notOnSale(ledger, userId)
  if (closed !== undefined) return Either.left(closed)
  const asked = resolve(ledger, operation.items)
  if (Either.isLeft(asked)) return Either.left(asked.left)
  const { items, ticketsCount } = asked.right
  const refusal = typesRefusal(ledger, items) ??
    (ledger.line().some((id) => ledger.entry(id).userId === userId) ? AlreadyOnWaitlist.of(ledger.eventId) : undefined) ??
    (shortOf(ledger, items, ticketsCount) === undefined ? TicketsAvailable.of(ticketsCount, availableFor(ledger, items)) : undefined) ??
    overLimit(ledger, userId, ticketsCount)
  if (refusal !== undefined) return Either.left(refusal)
  const entry = ledger.addEntry(userId, ticketsCount, items)
  ledger.addTickets(userId, ticketsCount)
  return Either.right({ _tag: "Entry", entry, position: ledger.line().length })
}

/** What is left for these items: of their one type, or of the event. */
const availableFor = (ledger: Ledger, items: ReadonlyArray<ItemRow>) =>
  items.length === 1 ? ledger.leftOf(items[0]!.ticketTypeId) : ledger.available

const leave = (ledger: Ledger, operation: Of<"Leave">): Outcome => {
  const id = ledger.line().find((id) => ledger.entry(id).userId === operation.userId)
  if (id === undefined) return Either.left(NotOnWaitlist.of(ledger.eventId))
  const offer = [...ledger.holds.values()].find((hold) => hold.entryId === id && hold.status === "HELD")
  if (offer !== undefined) ledger.endHold(offer, "RELEASED")
  else ledger.endEntry(id, "LEFT")
  offerFreeTickets(ledger)
  return Either.right(done)
}

const refresh = (ledger: Ledger): Outcome => {
  offerFreeTickets(ledger)
  return Either.right(done)
}

const done: Decision = { _tag: "Done" }
