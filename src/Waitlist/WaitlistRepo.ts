import { SqlClient, SqlSchema } from "@effect/sql"
import { Context, Effect, Layer, Ref } from "effect"
import { type EventId, type HoldId, UserId, type WaitlistEntryId } from "../Domain/Ids.ts"
import { isOpenEntry } from "../Domain/TicketRows.ts"
import { WaitlistEntry } from "../Domain/WaitlistEntry.ts"
import { MemoryStore } from "../Storage/MemoryStore.ts"
import { driverRow } from "../Storage/Rows.ts"
import { itemsJson, namedItems } from "../Storage/TicketItems.ts"
import { traced } from "../Telemetry/Tracing.ts"

/** Reading the waiting lists. Entries are added, offered and ended by the event's engine (Inventory/). */
export class WaitlistRepo extends Context.Tag("WaitlistRepo")<WaitlistRepo, {
  /** The user's open entries on events not cancelled, with their place in line and any offer. */
  readonly listOpenByUser: (userId: UserId) => Effect.Effect<ReadonlyArray<WaitlistEntry>>
}>() {
  static readonly layer = Layer.effect(
    WaitlistRepo,
    Effect.map(SqlClient.SqlClient, (sql) => {
      const listOpenByUser = SqlSchema.findAll({
        Request: UserId,
        Result: driverRow(WaitlistEntry),
        execute: (userId) =>
          sql`
          SELECT w.id, w.event_id AS "eventId", w.tickets_count AS "ticketsCount", ${itemsJson(sql, "w")} AS items, w.status,
                 (SELECT count(*)::int FROM waitlist_entries x
                  WHERE x.event_id = w.event_id AND x.status IN ('WAITING', 'OFFERED') AND x.id <= w.id) AS position,
                 (SELECT h.id FROM holds h WHERE h.waitlist_entry_id = w.id AND h.status = 'HELD') AS "holdId"
          FROM waitlist_entries w JOIN events e ON e.id = w.event_id
          WHERE w.user_id = ${userId} AND w.status IN ('WAITING', 'OFFERED') AND e.deleted_at IS NULL
          ORDER BY w.id`
      })
      return { listOpenByUser: (userId) => listOpenByUser(userId).pipe(Effect.orDie) }
    })
  ).pipe(traced(WaitlistRepo, { listOpenByUser: (userId) => ({ "user.id": userId }) }))

  static readonly layerMemory = Layer.effect(
    WaitlistRepo,
    Effect.map(MemoryStore, (store) => ({
      listOpenByUser: (userId) =>
        Effect.map(Ref.get(store), (tables) => {
          const open = [...tables.waitlist.values()].filter(isOpenEntry).sort((a, b) => a.id - b.id)
          return open
            .filter((entry) => entry.userId === userId && tables.events.get(entry.eventId)!.deletedAt === null)
            .map((entry): WaitlistEntry => ({
              id: entry.id as WaitlistEntryId,
              eventId: entry.eventId as EventId,
              ticketsCount: entry.ticketsCount,
              items: namedItems(tables, entry.items),
              status: entry.status as "WAITING" | "OFFERED",
              position: open.filter((other) => other.eventId === entry.eventId && other.id <= entry.id).length,
              holdId: ([...tables.holds.values()].find((h) => h.entryId === entry.id && h.status === "HELD")?.id ?? null) as HoldId | null
            }))
        })
    }))
  )
}
