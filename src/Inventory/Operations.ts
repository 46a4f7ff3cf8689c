/**
 * The pure function that decides a batch of operations on one event: exactly what applying them
 * one after the other, in arrival order, would give. The PostgreSQL and in-memory repositories
 * both load the event's state (under its row lock), call `decide`, and write the plan it returns,
 * so they cannot disagree; and it can be tested on its own. It folds the batch through the
 * event's ledger (Ledger.ts), each operation by its own function (Operation.ts).
 */
import { Ledger } from "./Ledger.ts"
import { offerFreeTickets } from "./Offers.ts"
import { apply, type Operation } from "./Operation.ts"
import type { Plan, Rules, Snapshot } from "./Plan.ts"

/**
 * Decides `operations` of event `eventId`, in order, over `snapshot`. Before the first operation,
 * every open hold that is due expires (whatever woke the batch), so no operation ever sees tickets
 * held by a hold whose time is up.
 */
export const decide = (eventId: number, snapshot: Snapshot, operations: ReadonlyArray<Operation>, rules: Rules): Plan => {
  const ledger = new Ledger(eventId, snapshot, rules)
  ledger.expireDueHolds()
  offerFreeTickets(ledger)
  const applyOne = apply(ledger)
  const outcomes = operations.map((operation, i) => {
    ledger.cause = i
    return applyOne(operation)
  })
  return ledger.plan(outcomes)
}
