import { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Layer, Option, Ref } from "effect"
import type { Event } from "../Domain/Event.ts"
import type { Hold } from "../Domain/Hold.ts"
import type { EventId, HoldId, UserId } from "../Domain/Ids.ts"
import type { HoldStatus } from "../Domain/TicketRows.ts"
import { decodeEventRow, eventColumns, toEvent } from "../Storage/EventRow.ts"
import { MemoryStore, type StoredHold } from "../Storage/MemoryStore.ts"
import { traced } from "../Telemetry/Tracing.ts"

/** A hold in any state, with its customer and event. */
export interface HoldRecord {
  readonly id: HoldId
  readonly userId: UserId
  readonly eventId: EventId
  readonly ticketsCount: number
  readonly status: HoldStatus
  readonly expiresAt: Date
  readonly event: Event
}

/** Reading holds. They are placed, confirmed, released and expired by the event's engine (Inventory/). */
export class HoldsRepo extends Context.Tag("HoldsRepo")<HoldsRepo, {
  /** The user's open holds (offers included) on events not cancelled, soonest to expire first. */
  readonly listOpenByUser: (userId: UserId) => Effect.Effect<ReadonlyArray<Hold>>
  readonly findById: (id: HoldId) => Effect.Effect<Option.Option<HoldRecord>>
}>() {
  static readonly layer = Layer.effect(HoldsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(HoldsRepo, {
    listOpenByUser: (userId) => ({ "user.id": userId }),
    findById: (id) => ({ "hold.id": id })
  }))
  static readonly layerMemory = Layer.effect(HoldsRepo, Effect.map(MemoryStore, makeMemory))
}

function makeSql(sql: SqlClient.SqlClient): HoldsRepo["Type"] {
  const columns = sql.literal(`
    h.id, h.event_id AS "eventId", h.tickets_count AS "ticketsCount", h.expires_at AS "expiresAt",
    h.status, h.created_at AS "createdAt"`)
  return {
    listOpenByUser: (userId) =>
      sql<Hold>`
        SELECT ${columns} FROM holds h JOIN events e ON e.id = h.event_id
        WHERE h.user_id = ${userId} AND h.status = 'HELD' AND h.expires_at > now() AND e.deleted_at IS NULL
        ORDER BY h.expires_at, h.id`.pipe(Effect.orDie),
    findById: (id) =>
      sql<{ hold: Omit<HoldRecord, "event"> }>`
        SELECT json_build_object('id', h.id, 'userId', h.user_id, 'eventId', h.event_id, 'ticketsCount', h.tickets_count,
                                 'status', h.status, 'expiresAt', h.expires_at) AS hold,
               ${eventColumns(sql, "e")}
        FROM holds h JOIN events e ON e.id = h.event_id
        WHERE h.id = ${id}`.pipe(
        Effect.map((rows) =>
          Option.map(Option.fromNullable(rows[0]), (row) => ({
            ...row.hold,
            expiresAt: new Date(row.hold.expiresAt),
            event: decodeEventRow(row)
          }))
        ),
        Effect.orDie
      )
  }
}

function makeMemory(store: MemoryStore["Type"]): HoldsRepo["Type"] {
  const record = (hold: StoredHold, event: Event): HoldRecord => ({
    id: hold.id as HoldId,
    userId: hold.userId as UserId,
    eventId: hold.eventId as EventId,
    ticketsCount: hold.ticketsCount,
    status: hold.status,
    expiresAt: hold.expiresAt,
    event
  })
  return {
    listOpenByUser: (userId) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.map(Ref.get(store), (tables) =>
          [...tables.holds.values()]
            .filter((h) =>
              h.userId === userId && h.status === "HELD" && h.expiresAt.getTime() > now &&
              tables.events.get(h.eventId)!.deletedAt === null
            )
            .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id)
            .map((h): Hold => ({
              id: h.id as HoldId,
              eventId: h.eventId as EventId,
              ticketsCount: h.ticketsCount,
              expiresAt: h.expiresAt,
              status: "HELD",
              createdAt: h.createdAt
            })))),
    findById: (id) =>
      Effect.map(
        Ref.get(store),
        (tables) => Option.map(Option.fromNullable(tables.holds.get(id)), (hold) => record(hold, toEvent(tables.events.get(hold.eventId)!)))
      )
  }
}
