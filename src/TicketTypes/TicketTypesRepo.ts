import { SqlClient, SqlSchema } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref, Schema } from "effect"
import {
  EventNotFound,
  TicketsAlreadySold,
  TicketTypeInUse,
  TicketTypeIsDefault,
  TicketTypeNameTaken,
  TicketTypeNotFound,
  ValidationError
} from "../Domain/Errors.ts"
import { EventId, TicketTypeId } from "../Domain/Ids.ts"
import { salesWindowProblem, type TicketType } from "../Domain/TicketType.ts"
import { MemoryStore, type StoredTicketType, type Tables, transact, withEntry } from "../Storage/MemoryStore.ts"
import { storageDefects } from "../Storage/Rows.ts"
import { isUniqueViolation } from "../Storage/SqlErrors.ts"
import { ticketTypeColumns, TicketTypeRow, toTicketType } from "../Storage/TicketTypeRow.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface NewTicketType {
  readonly name: string
  readonly priceCents: number
  readonly quota: number | null
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
  readonly maxPerBooking: number | null
}

/** The fields given change; `null` removes a quota, bound or limit. */
export interface TicketTypeChanges {
  readonly name?: string | undefined
  readonly priceCents?: number | undefined
  readonly quota?: number | null | undefined
  readonly salesStart?: Date | null | undefined
  readonly salesEnd?: Date | null | undefined
  readonly maxPerBooking?: number | null | undefined
}

type Refusal = EventNotFound | TicketTypeNotFound | TicketTypeNameTaken | TicketsAlreadySold | ValidationError

/**
 * An event's ticket types. Every change locks the event's row first, in its transaction, as the
 * booking engine does for every decision (Inventory/InventoryRepo.ts): a quota is never changed
 * between the engine's read of a type and its write of what is taken of it, so a quota is checked
 * against the `taken` the engine left. A cancelled event's types are read, never changed (EventNotFound).
 * Callers have checked who may see or change them.
 */
export class TicketTypesRepo extends Context.Tag("TicketTypesRepo")<TicketTypesRepo, {
  /** The event's types, the default first, then in the order they were made; none for an unknown event. */
  readonly listByEvent: (eventId: EventId) => Effect.Effect<ReadonlyArray<TicketType>>
  readonly findById: (eventId: EventId, id: TicketTypeId) => Effect.Effect<Option.Option<TicketType>>
  readonly create: (
    eventId: EventId,
    type: NewTicketType
  ) => Effect.Effect<TicketType, EventNotFound | TicketTypeNameTaken | ValidationError>
  /**
   * A quota below what is taken of the type is TicketsAlreadySold; the sales window, as it ends up,
   * must open before it closes. Answers the type as it was (read under the lock: for the audit
   * trail) and as it is.
   */
  readonly update: (
    eventId: EventId,
    id: TicketTypeId,
    changes: TicketTypeChanges
  ) => Effect.Effect<{ readonly before: TicketType; readonly after: TicketType }, Refusal>
  /** Only a type of which nothing was ever sold or held, and not the default. Answers it as it was. */
  readonly remove: (
    eventId: EventId,
    id: TicketTypeId
  ) => Effect.Effect<TicketType, EventNotFound | TicketTypeNotFound | TicketTypeInUse | TicketTypeIsDefault>
}>() {
  static readonly layer = Layer.effect(TicketTypesRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(TicketTypesRepo, {
    listByEvent: (eventId) => ({ "event.id": eventId }),
    findById: (eventId, id) => ({ "event.id": eventId, "ticket_type.id": id }),
    create: (eventId) => ({ "event.id": eventId }),
    update: (eventId, id) => ({ "event.id": eventId, "ticket_type.id": id }),
    remove: (eventId, id) => ({ "event.id": eventId, "ticket_type.id": id })
  }))
  static readonly layerMemory = Layer.effect(TicketTypesRepo, Effect.map(MemoryStore, makeMemory))
}

const windowRefusal = (start: Date | null, end: Date | null) => {
  const problem = salesWindowProblem(start, end)
  return problem === undefined ? Either.right(undefined) : Either.left(new ValidationError({ message: problem }))
}

/** The quota refusal, if `quota` would be below what is taken. */
const quotaRefusal = (id: number, quota: number | null | undefined, taken: number) =>
  quota !== undefined && quota !== null && quota < taken
    ? Either.left(TicketsAlreadySold.ofQuota(id, quota, taken))
    : Either.right(undefined)

// ---- PostgreSQL ----------------------------------------------------------------------------

/** What a change checks of the type it changes, besides what the API shows. */
const Current = Schema.Struct({
  taken: Schema.Int,
  salesStart: Schema.NullOr(Schema.DateFromSelf),
  salesEnd: Schema.NullOr(Schema.DateFromSelf),
  isDefault: Schema.Boolean,
  ticketed: Schema.Boolean
})

function makeSql(sql: SqlClient.SqlClient): TicketTypesRepo["Type"] {
  const columns = ticketTypeColumns(sql)
  const list = SqlSchema.findAll({
    Request: EventId,
    Result: TicketTypeRow,
    execute: (eventId) =>
      sql`
        SELECT ${columns} FROM ticket_types t JOIN events e ON e.id = t.event_id
        WHERE t.event_id = ${eventId} ORDER BY t.is_default DESC, t.id`
  })
  const find = SqlSchema.findOne({
    Request: Schema.Struct({ eventId: EventId, id: TicketTypeId }),
    Result: TicketTypeRow,
    execute: ({ eventId, id }) =>
      sql`SELECT ${columns} FROM ticket_types t JOIN events e ON e.id = t.event_id WHERE t.id = ${id} AND t.event_id = ${eventId}`
  })
  const current = SqlSchema.findOne({
    Request: Schema.Struct({ eventId: EventId, id: TicketTypeId }),
    Result: Current,
    execute: ({ eventId, id }) =>
      sql`
        SELECT t.taken, t.sales_start AS "salesStart", t.sales_end AS "salesEnd", t.is_default AS "isDefault",
               EXISTS (SELECT 1 FROM tickets k WHERE k.ticket_type_id = t.id) AS ticketed
        FROM ticket_types t WHERE t.id = ${id} AND t.event_id = ${eventId}`
  })

  /**
   * Runs `change` in a transaction holding the event's row lock (the engine's lock), taken first;
   * a cancelled or unknown event is EventNotFound.
   */
  const underEventLock = <A, E>(eventId: EventId, change: Effect.Effect<A, E>) =>
    sql.withTransaction(
      Effect.gen(function*() {
        const locked = yield* sql`SELECT id FROM events WHERE id = ${eventId} AND deleted_at IS NULL FOR UPDATE`
        if (locked.length === 0) return yield* Effect.fail(EventNotFound.of(eventId))
        return yield* change
      })
    ).pipe(storageDefects)

  const read = (eventId: EventId, id: TicketTypeId) =>
    Effect.flatMap(
      find({ eventId, id }),
      Option.match({ onNone: () => Effect.die("a ticket type just written is gone"), onSome: Effect.succeed })
    )

  // Names are unique per event ignoring case (index ticket_types_name_key): the only unique violation a change can meet.
  const nameTaken = (name: string | undefined) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.catchIf(self, isUniqueViolation, () => Effect.fail(TicketTypeNameTaken.of(name ?? "")))

  return {
    listByEvent: (eventId) => list(eventId).pipe(Effect.orDie),

    findById: (eventId, id) => find({ eventId, id }).pipe(Effect.orDie),

    create: (eventId, type) =>
      underEventLock(
        eventId,
        Effect.gen(function*() {
          yield* windowRefusal(type.salesStart, type.salesEnd)
          const [row] = yield* sql<{ id: TicketTypeId }>`
            INSERT INTO ticket_types (event_id, name, price_cents, quota, sales_start, sales_end, max_per_booking)
            VALUES (${eventId}, ${type.name}, ${type.priceCents}, ${type.quota}, ${type.salesStart}, ${type.salesEnd},
                    ${type.maxPerBooking})
            RETURNING id`.pipe(nameTaken(type.name))
          return yield* read(eventId, row!.id)
        })
      ),

    update: (eventId, id, changes) =>
      underEventLock(
        eventId,
        Effect.gen(function*() {
          const found = yield* current({ eventId, id })
          if (Option.isNone(found)) return yield* Effect.fail(TicketTypeNotFound.of(eventId, id))
          const was = found.value
          yield* windowRefusal(
            changes.salesStart === undefined ? was.salesStart : changes.salesStart,
            changes.salesEnd === undefined ? was.salesEnd : changes.salesEnd
          )
          // `taken` as the engine left it: it cannot move while the event's row is locked.
          yield* quotaRefusal(id, changes.quota, was.taken)
          const before = yield* read(eventId, id)
          const columns = Object.fromEntries(
            Object.entries({
              name: changes.name,
              price_cents: changes.priceCents,
              quota: changes.quota,
              sales_start: changes.salesStart,
              sales_end: changes.salesEnd,
              max_per_booking: changes.maxPerBooking
            }).filter(([, value]) => value !== undefined)
          )
          yield* sql`UPDATE ticket_types SET ${sql.update({ ...columns, updated_at: new Date() })} WHERE id = ${id}`.pipe(
            nameTaken(changes.name)
          )
          return { before, after: yield* read(eventId, id) }
        })
      ),

    remove: (eventId, id) =>
      underEventLock(
        eventId,
        Effect.gen(function*() {
          const found = yield* current({ eventId, id })
          if (Option.isNone(found)) return yield* Effect.fail(TicketTypeNotFound.of(eventId, id))
          if (found.value.isDefault) return yield* Effect.fail(TicketTypeIsDefault.of(id))
          if (found.value.taken > 0 || found.value.ticketed) return yield* Effect.fail(TicketTypeInUse.of(id))
          const removed = yield* read(eventId, id)
          yield* sql`DELETE FROM ticket_types WHERE id = ${id}`
          return removed
        })
      )
  }
}

// ---- Memory --------------------------------------------------------------------------------

function makeMemory(store: MemoryStore["Type"]): TicketTypesRepo["Type"] {
  const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))
  const view = (tables: Tables, type: StoredTicketType) => toTicketType(type, tables.events.get(type.eventId)!)
  const typesOf = (tables: Tables, eventId: number) =>
    [...tables.ticketTypes.values()].filter((type) => type.eventId === eventId)
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.id - b.id)
  const openEvent = (tables: Tables, eventId: EventId) => {
    const event = tables.events.get(eventId)
    return event === undefined || event.deletedAt !== null ? Either.left(EventNotFound.of(eventId)) : Either.right(event)
  }
  const typeOf = (tables: Tables, eventId: EventId, id: TicketTypeId) => {
    const type = tables.ticketTypes.get(id)
    return type === undefined || type.eventId !== eventId ? Either.left(TicketTypeNotFound.of(eventId, id)) : Either.right(type)
  }
  const nameFree = (tables: Tables, eventId: number, name: string, except?: number) =>
    typesOf(tables, eventId).some((type) => type.id !== except && type.name.toLowerCase() === name.toLowerCase())
      ? Either.left(TicketTypeNameTaken.of(name))
      : Either.right(undefined)

  return {
    listByEvent: (eventId) => Effect.map(Ref.get(store), (tables) => typesOf(tables, eventId).map((type) => view(tables, type))),

    findById: (eventId, id) =>
      Effect.map(Ref.get(store), (tables) => Option.map(Either.getRight(typeOf(tables, eventId, id)), (type) => view(tables, type))),

    create: (eventId, type) =>
      Effect.flatMap(now, (at) =>
        transact(store, (tables) =>
          Either.gen(function*() {
            yield* openEvent(tables, eventId)
            yield* windowRefusal(type.salesStart, type.salesEnd)
            yield* nameFree(tables, eventId, type.name)
            const stored: StoredTicketType = {
              ...type,
              id: tables.lastId + 1,
              eventId,
              taken: 0,
              isDefault: false,
              createdAt: at,
              updatedAt: at
            }
            const next = { ...tables, lastId: stored.id, ticketTypes: withEntry(tables.ticketTypes, stored.id, stored) }
            return [view(next, stored), next] as const
          }))),

    update: (eventId, id, changes) =>
      Effect.flatMap(now, (at) =>
        transact(store, (tables) =>
          Either.gen(function*() {
            yield* openEvent(tables, eventId)
            const before = yield* typeOf(tables, eventId, id)
            const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
            const after: StoredTicketType = { ...before, ...defined, updatedAt: at }
            yield* windowRefusal(after.salesStart, after.salesEnd)
            yield* quotaRefusal(id, changes.quota, before.taken)
            if (changes.name !== undefined) yield* nameFree(tables, eventId, changes.name, id)
            const next = { ...tables, ticketTypes: withEntry(tables.ticketTypes, id, after) }
            return [{ before: view(tables, before), after: view(next, after) }, next] as const
          }))),

    remove: (eventId, id) =>
      transact(store, (tables) =>
        Either.gen(function*() {
          yield* openEvent(tables, eventId)
          const type = yield* typeOf(tables, eventId, id)
          if (type.isDefault) return yield* Either.left(TicketTypeIsDefault.of(id))
          const ticketed = [...tables.tickets.values()].some((ticket) => ticket.ticketTypeId === id)
          if (type.taken > 0 || ticketed) return yield* Either.left(TicketTypeInUse.of(id))
          const ticketTypes = new Map(tables.ticketTypes)
          ticketTypes.delete(id)
          return [view(tables, type), { ...tables, ticketTypes }] as const
        }))
  }
}
