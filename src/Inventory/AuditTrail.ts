/**
 * The engine's audit entries: each row write of a batch (Plan.ts `RowWrite`) that a person would
 * call a change, as an action on its row, by whoever asked for the operation that made it. What
 * the engine does on its own (a hold expiring, an offer to the waiting list, an entry ending with
 * its offer) is the `system`'s, in the request that led to it if any. Bookkeeping writes (an
 * entry's tickets kept back, its pass-overs) are not changes anyone made: no entry.
 */
import { type AuditChanges, changedFields } from "../Audit/AuditEntry.ts"
import type { NewAuditEntry } from "../Audit/AuditLog.ts"
import { asSystem, type Origin, SYSTEM_ORIGIN } from "../Audit/Origin.ts"
import type { EventId } from "../Domain/Ids.ts"
import type { RowWrite } from "./Plan.ts"

/** What a write is, if it is a change worth an entry: its action, and whether the engine made it on its own. */
type Described = { readonly action: string; readonly changes: AuditChanges; readonly bySystem: boolean } | undefined

const SUBJECTS = { bookings: "booking", holds: "hold", entries: "waitlist_entry" } as const

const describe = (write: RowWrite): Described => {
  switch (write.table) {
    case "bookings": {
      const { after, before } = write
      const changes = changedFields(before, after, ["status", "ticketsCount", "holdId"])
      if (before === undefined) return { action: "booking.created", changes, bySystem: false }
      if (after.status === "CANCELLED" && before.status !== "CANCELLED") {
        return { action: "booking.cancelled", changes, bySystem: false }
      }
      return after.ticketsCount < before.ticketsCount ? { action: "booking.reduced", changes, bySystem: false } : undefined
    }
    case "holds": {
      const { after, before } = write
      const changes = changedFields(before, after, ["status", "ticketsCount", "expiresAt", "entryId"])
      if (before === undefined) return { action: "hold.placed", changes, bySystem: after.entryId !== null }
      if (before.status === after.status) return undefined
      return { action: `hold.${after.status.toLowerCase()}`, changes, bySystem: after.status === "EXPIRED" }
    }
    case "entries": {
      const { after, before } = write
      const changes = changedFields(before, after, ["status", "ticketsCount"])
      if (before === undefined) return { action: "waitlist.joined", changes, bySystem: false }
      if (before.status === after.status) return undefined
      return {
        action: `waitlist.${after.status.toLowerCase()}`,
        changes,
        bySystem: after.status === "OFFERED" || after.status === "EXPIRED"
      }
    }
  }
}

/**
 * The entries of one event's row writes; `origins[i]`: where operation i of the batch came from.
 * Rows carry their real ids here (after `withRealIds`).
 */
export const auditEntriesOf = (
  eventId: EventId,
  writes: ReadonlyArray<RowWrite>,
  origins: ReadonlyArray<Origin>
): Array<NewAuditEntry> => {
  const entries: Array<NewAuditEntry> = []
  for (const write of writes) {
    const described = describe(write)
    if (described === undefined) continue
    const origin = write.cause === undefined ? SYSTEM_ORIGIN : origins[write.cause]!
    entries.push({
      action: described.action,
      subject: { type: SUBJECTS[write.table], id: write.after.id },
      eventId,
      changes: described.changes,
      origin: described.bySystem ? asSystem(origin) : origin
    })
  }
  return entries
}
