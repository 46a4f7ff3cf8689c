/**
 * The waiting list's rule: who gets the tickets that come back (a cancellation, a released or
 * expired hold, an organizer adding tickets). Its own module because it is the one rule of the
 * engine that is not first come, first served: in line order, each waiting entry whose whole group
 * fits gets an offer (a hold of its size), so a big group does not block smaller ones behind it;
 * but an entry passed over `MAX_PASSED_OVER` times stops the line, so small groups cannot starve it.
 */
import type { EntryRow } from "../Domain/TicketRows.ts"
import type { Ledger } from "./Ledger.ts"

/**
 * A waiting entry passed over this many times (offers went to smaller entries behind it) stops
 * the line: returned tickets are kept back for it until its whole group fits. See docs/decisions/0011-holds-and-waiting-list.md.
 */
export const MAX_PASSED_OVER = 3

/**
 * Offers what is on sale to the waiting list, while some waiting entry's group fits. Each offer
 * counts as a pass-over for the entries ahead of it that did not fit; an entry passed over
 * MAX_PASSED_OVER times stops the line: what is on sale is kept back for it (`reserved`) and nobody
 * behind it gets an offer until it has had its own. Nothing is offered while the event is gone,
 * started or off sale, nor when the batch did not load the line.
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
    const needed = waiting.ticketsCount - waiting.reserved
    if (needed <= ledger.available) {
      ledger.available -= needed
      ledger.placeHold(waiting.userId, waiting.ticketsCount, waiting.id, null)
      ledger.setEntry({ ...waiting, status: "OFFERED", reserved: 0 })
      for (const ahead of passed) ledger.setEntry({ ...ahead, passedOver: ahead.passedOver + 1 })
      return true
    }
    if (waiting.passedOver >= MAX_PASSED_OVER) {
      // The line stops here: what is on sale is kept back for this entry.
      if (ledger.available > 0) ledger.setEntry({ ...waiting, reserved: waiting.reserved + ledger.available })
      ledger.available = 0
      return false
    }
    passed.push(waiting)
  }
  return false
}
