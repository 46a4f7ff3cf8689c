/**
 * The waiting list's rule: who gets the tickets that come back (a cancellation, a released or
 * expired hold, an organizer adding tickets). Its own module because it is the one rule of the
 * engine that is not first come, first served: in line order, each waiting entry whose whole group
 * fits gets an offer (a hold of its items), so a big group does not block smaller ones behind it;
 * but an entry passed over `MAX_PASSED_OVER` times has tickets kept back for it, so small groups
 * cannot starve it.
 *
 * With ticket types, an entry waits for its items: it fits when each item fits what is left of
 * its type (quota left, and the type on sale) and all of them together fit the event's tickets
 * left. What is kept back for an entry is kept per item (`EntryItemRow.reserved`): each kept
 * ticket leaves the event's tickets on sale and counts in its type's `taken`, exactly as a held
 * ticket does, so a type's quota stays exact; an entry keeps back only tickets its types can still
 * take (within their quota, on sale), and what it cannot use goes on down the line. For an event
 * with one type (or none) this is the rule as it was: the entry keeps everything on sale and
 * nobody behind it gets an offer until it has had its own.
 */
import type { EntryItemRow, EntryRow, ItemRow } from "../Domain/TicketRows.ts"
import type { Ledger } from "./Ledger.ts"

/**
 * A waiting entry passed over this many times (offers went to smaller entries behind it) stops
 * the line: returned tickets are kept back for it until its whole group fits. See docs/decisions/0011-holds-and-waiting-list.md.
 */
export const MAX_PASSED_OVER = 3

/**
 * Offers what is on sale to the waiting list, while some waiting entry's group fits. Each offer
 * counts as a pass-over for the entries ahead of it that did not fit; an entry passed over
 * MAX_PASSED_OVER times has what is on sale (of its types) kept back for it (`reserved`) until
 * it has had its own offer. Nothing is offered while the event is gone, started or off sale, nor
 * when the batch did not load the line.
 */
export const offerFreeTickets = (ledger: Ledger): void => {
  if (!ledger.hasLine() || ledger.gone() || ledger.started() || ledger.salesClosed() !== undefined) return
  // Each offer leaves less on sale, but maybe enough for another entry's group.
  while (offerOnce(ledger)) continue
}

/** The first offer the line allows, if any: whether one was made. */
const offerOnce = (ledger: Ledger): boolean => {
  const passed: Array<EntryRow> = []
  for (const id of ledger.line()) {
    const waiting = ledger.entry(id)
    if (waiting.status !== "WAITING") continue
    if (fits(ledger, waiting)) {
      // What was kept back is already off sale (and taken): the offer takes the rest.
      if (waiting.items.length === 0) ledger.keepBack(undefined, waiting.ticketsCount - waiting.reserved)
      for (const item of waiting.items) ledger.keepBack(item.ticketTypeId, item.count - item.reserved)
      ledger.placeHold(waiting.userId, waiting.ticketsCount, waiting.items.map(itemOf), waiting.id, null)
      ledger.setEntry({ ...waiting, status: "OFFERED", reserved: 0, items: waiting.items.map((item) => ({ ...item, reserved: 0 })) })
      for (const ahead of passed) ledger.setEntry({ ...ahead, passedOver: ahead.passedOver + 1 })
      return true
    }
    if (waiting.passedOver >= MAX_PASSED_OVER) {
      // Kept back for this entry: what is on sale that its types can take; the rest goes on down the line.
      keepBackFor(ledger, waiting)
      continue
    }
    passed.push(waiting)
  }
  return false
}

/** What an entry's type can take now: its quota left, nothing while its sales window is closed. */
const typeRoom = (ledger: Ledger, item: EntryItemRow) =>
  ledger.typeSalesClosed(item.ticketTypeId) === undefined ? ledger.quotaLeft(item.ticketTypeId) : 0

/** Whether the rest of the entry's group (beyond what is kept back for it) fits now. */
const fits = (ledger: Ledger, entry: EntryRow) =>
  entry.ticketsCount - entry.reserved <= ledger.available &&
  entry.items.every((item) => item.count - item.reserved <= typeRoom(ledger, item))

/** Keeps back for `entry`, item by item, what is on sale and its type can take, up to what it still needs. */
const keepBackFor = (ledger: Ledger, entry: EntryRow) => {
  if (entry.items.length === 0) {
    const kept = Math.min(entry.ticketsCount - entry.reserved, ledger.available)
    if (kept === 0) return
    ledger.keepBack(undefined, kept)
    ledger.setEntry({ ...entry, reserved: entry.reserved + kept })
    return
  }
  let total = 0
  const items = entry.items.map((item) => {
    const kept = Math.min(item.count - item.reserved, typeRoom(ledger, item), ledger.available)
    ledger.keepBack(item.ticketTypeId, kept)
    total += kept
    return kept === 0 ? item : { ...item, reserved: item.reserved + kept }
  })
  if (total > 0) ledger.setEntry({ ...entry, reserved: entry.reserved + total, items })
}

const itemOf = ({ count, ticketTypeId }: ItemRow): ItemRow => ({ ticketTypeId, count })
