import { SqlClient, SqlSchema } from "@effect/sql"
import { Clock, Context, Effect, Layer, Option, Ref, Schema } from "effect"
import type { Event } from "../Domain/Event.ts"
import { Hold } from "../Domain/Hold.ts"
import { EventId, HoldId, UserId } from "../Domain/Ids.ts"
import { HoldStatus } from "../Domain/TicketRows.ts"
import { eventColumns, EventRow, toEvent } from "../Storage/EventRow.ts"
import { MemoryStore, type StoredHold } from "../Storage/MemoryStore.ts"
import { driverRow } from "../Storage/Rows.ts"
import { itemsJson, namedItems } from "../Storage/TicketItems.ts"
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

const HoldRow = driverRow(Hold)

/** A hold of any status as JSON (its time as text), beside its event's columns. */
const HoldRecordRow = Schema.extend(
  Schema.Struct({
    hold: Schema.Struct({
      id: HoldId,
      userId: UserId,
      eventId: EventId,
      ticketsCount: Schema.Int,
      status: HoldStatus,
      expiresAt: Schema.Date
    })
  }),
  EventRow
)

function makeSql(sql: SqlClient.SqlClient): HoldsRepo["Type"] {
  const columns = sql`
    h.id, h.event_id AS "eventId", h.tickets_count AS "ticketsCount", ${itemsJson(sql, "h")} AS items,
    h.expires_at AS "expiresAt", h.status, h.created_at AS "createdAt"`
  const listOpenByUser = SqlSchema.findAll({
    Request: UserId,
    Result: HoldRow,
    execute: (userId) =>
      sql`
        SELECT ${columns} FROM holds h JOIN events e ON e.id = h.event_id
        WHERE h.user_id = ${userId} AND h.status = 'HELD' AND h.expires_at > now() AND e.deleted_at IS NULL
        ORDER BY h.expires_at, h.id`
  })
  const findById = SqlSchema.findOne({
    Request: HoldId,
    Result: HoldRecordRow,
    execute: (id) =>
      sql`
        SELECT json_build_object('id', h.id, 'userId', h.user_id, 'eventId', h.event_id, 'ticketsCount', h.tickets_count,
                                 'status', h.status, 'expiresAt', h.expires_at) AS hold,
               ${eventColumns(sql, "e")}
        FROM holds h JOIN events e ON e.id = h.event_id
        WHERE h.id = ${id}`
  })
  return {
    listOpenByUser: (userId) => listOpenByUser(userId).pipe(Effect.orDie),
    findById: (id) =>
      findById(id).pipe(
        Effect.map(Option.map(({ hold, ...event }): HoldRecord => ({ ...hold, event }))),
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
              items: namedItems(tables, h.items),
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
