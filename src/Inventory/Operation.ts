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
  TicketsAvailable,
  Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import type { BookingRow, HoldRow } from "../Domain/TicketRows.ts"
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

export type Operation = Data.TaggedEnum<{
  Book: Keyed & { readonly userId: number; readonly ticketsCount: number }
  Cancel: Keyed & { readonly userId: number; readonly bookingId: number }
  /** Keep `ticketsCount` of the booking's tickets and give the rest back. */
  Reduce: { readonly userId: number; readonly bookingId: number; readonly ticketsCount: number }
  Hold: Keyed & { readonly userId: number; readonly ticketsCount: number }
  /** The booking it makes records the key. */
  Confirm: Keyed & { readonly userId: number; readonly holdId: number }
  Release: { readonly userId: number; readonly holdId: number }
  Join: { readonly userId: number; readonly ticketsCount: number }
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
  const { ticketsCount, userId } = operation
  const refusal = whyNotTake(ledger, userId, ticketsCount)
  if (refusal !== undefined) return Either.left(refusal)
  ledger.take(userId, ticketsCount)
  const booking = ledger.addBooking(userId, ticketsCount, null, operation.idempotencyId ?? null)
  return Either.right({ _tag: "Booking", booking, availableAfter: ledger.available })
}

const hold = (ledger: Ledger, operation: Of<"Hold">): Outcome => {
  const repeat = ledger.holdMadeWith(operation)
  if (repeat !== undefined) return Either.right({ _tag: "Hold", hold: repeat })
  const { ticketsCount, userId } = operation
  const refusal = whyNotTake(ledger, userId, ticketsCount)
  if (refusal !== undefined) return Either.left(refusal)
  ledger.take(userId, ticketsCount)
  return Either.right({ _tag: "Hold", hold: ledger.placeHold(userId, ticketsCount, null, operation.idempotencyId ?? null) })
}

/** Why this customer may not take these tickets now, if so. */
const whyNotTake = (ledger: Ledger, userId: number, ticketsCount: number): Refusal | undefined =>
  notOnSale(ledger, userId) ?? overLimit(ledger, userId, ticketsCount) ??
    (ticketsCount > ledger.available ? NotEnoughTickets.of(ticketsCount, ledger.available) : undefined)

/** Why this customer may not take tickets of this event now, if so. */
const notOnSale = (ledger: Ledger, userId: number): Refusal | undefined =>
  ledger.gone()
    ? EventNotFound.of(ledger.eventId)
    : ledger.started()
    ? EventAlreadyStarted.of(ledger.eventId)
    : ledger.salesClosed() ?? (ledger.accounts.has(userId) ? undefined : Unauthorized.accountGone)

const overLimit = (ledger: Ledger, userId: number, ticketsCount: number) => {
  const current = ledger.ticketsOf(userId)
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

/** The booking keeps `kept` of its tickets (none: it is cancelled, under `cancelKey`); the rest go to the waiting list or on sale. */
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
  const changed = ledger.changeBooking(
    kept === 0
      ? { ...booking, status: "CANCELLED", cancelledAt: ledger.now, cancelIdempotencyId: cancelKey }
      : { ...booking, ticketsCount: kept },
    released
  )
  ledger.giveBack(booking.userId, released)
  offerFreeTickets(ledger)
  return Either.right({ _tag: "Booking", booking: changed, availableAfter: ledger.available })
}

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
  const booking = ledger.addBooking(held.userId, held.ticketsCount, held.id, operation.idempotencyId ?? null)
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
  const { ticketsCount, userId } = operation
  const refusal = notOnSale(ledger, userId) ??
    (ledger.line().some((id) => ledger.entry(id).userId === userId) ? AlreadyOnWaitlist.of(ledger.eventId) : undefined) ??
    (ticketsCount <= ledger.available ? TicketsAvailable.of(ticketsCount, ledger.available) : undefined) ??
    overLimit(ledger, userId, ticketsCount)
  if (refusal !== undefined) return Either.left(refusal)
  const entry = ledger.addEntry(userId, ticketsCount)
  ledger.addTickets(userId, ticketsCount)
  return Either.right({ _tag: "Entry", entry, position: ledger.line().length })
}

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
