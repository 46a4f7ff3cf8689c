import { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref } from "effect"
import { EventNotFound, TicketsAlreadySold, Unauthorized } from "../Domain/Errors.ts"
import type { EventId, UserId } from "../Domain/Ids.ts"
import { MemoryStore, type StoredEvent, type Tables, transact, withEntry } from "../Platform/MemoryStore.ts"
import { isForeignKeyViolation } from "../Platform/SqlErrors.ts"
import type { Event } from "./Event.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface NewEvent {
  readonly organizerId: UserId
  readonly title: string
  readonly description: string
  readonly date: Date
  readonly location: string
  readonly totalTickets: number
}

export interface EventChanges {
  readonly title?: string | undefined
  readonly description?: string | undefined
  readonly date?: Date | undefined
  readonly location?: string | undefined
  readonly totalTickets?: number | undefined
}

export interface ListOptions {
  readonly includePast: boolean
  readonly limit?: number | undefined
  readonly offset?: number | undefined
}

export class EventsRepo extends Context.Tag("EventsRepo")<EventsRepo, {
  /**
   * Fails with Unauthorized when the organizer does not exist: the id comes from a token, and is
   * checked by the foreign key on this write rather than by a lookup on every request.
   */
  readonly create: (event: NewEvent) => Effect.Effect<Event, Unauthorized>
  /** Events not cancelled, soonest first. */
  readonly list: (options: ListOptions) => Effect.Effect<ReadonlyArray<Event>>
  /** A scheduled (not cancelled) event. */
  readonly findById: (id: EventId) => Effect.Effect<Option.Option<Event>>
  /** Applies the changes atomically; a new totalTickets moves availableTickets by the same amount. */
  readonly update: (id: EventId, changes: EventChanges) => Effect.Effect<Event, EventNotFound | TicketsAlreadySold>
  /** Marks the event cancelled; its bookings keep pointing at it. */
  readonly cancel: (id: EventId) => Effect.Effect<void, EventNotFound>
}>() {
  static readonly layer = Layer.effect(EventsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(EventsRepo, {
    list: ({ includePast, limit, offset }) => ({ "events.include_past": includePast, "events.limit": limit, "events.offset": offset }),
    findById: (id) => ({ "event.id": id }),
    update: (id) => ({ "event.id": id }),
    cancel: (id) => ({ "event.id": id })
  }))
  static readonly layerMemory = Layer.effect(EventsRepo, Effect.map(MemoryStore, makeMemory))
}

/** The columns of `events` as an Event; `alias` names the table in the query. */
export const eventColumns = (sql: SqlClient.SqlClient, alias: string) =>
  sql.literal(`
    ${alias}.id, ${alias}.title, ${alias}.description, ${alias}.date, ${alias}.location,
    ${alias}.total_tickets AS "totalTickets", ${alias}.available_tickets AS "availableTickets",
    ${alias}.organizer_id AS "organizerId",
    CASE WHEN ${alias}.deleted_at IS NULL THEN 'SCHEDULED' ELSE 'CANCELLED' END AS status,
    ${alias}.created_at AS "createdAt", ${alias}.updated_at AS "updatedAt"`)

function makeSql(sql: SqlClient.SqlClient): EventsRepo["Type"] {
  const columns = eventColumns(sql, "events")
  const notFound = (id: EventId) => Effect.fail(EventNotFound.of(id))
  return {
    create: (event) =>
      sql<Event>`
        INSERT INTO events (organizer_id, title, description, date, location, total_tickets, available_tickets)
        VALUES (${event.organizerId}, ${event.title}, ${event.description}, ${event.date}, ${event.location},
                ${event.totalTickets}, ${event.totalTickets})
        RETURNING ${columns}`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.catchIf(isForeignKeyViolation, () => Effect.fail(Unauthorized.accountGone)),
        Effect.catchTag("SqlError", Effect.die)
      ),

    list: ({ includePast, limit, offset }) =>
      sql<Event>`
        SELECT ${columns} FROM events
        WHERE deleted_at IS NULL ${includePast ? sql`` : sql`AND date > now()`}
        ORDER BY date, id
        LIMIT ${limit ?? null} OFFSET ${offset ?? 0}`.pipe(Effect.orDie),

    findById: (id) =>
      sql<Event>`SELECT ${columns} FROM events WHERE id = ${id} AND deleted_at IS NULL`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0])),
        Effect.orDie
      ),

    update: (id, changes) =>
      Effect.gen(function*() {
        const total = changes.totalTickets ?? null
        // One statement: the sold count it checks is the one it changes, whatever bookings run meanwhile.
        const rows = yield* sql<Event>`
          UPDATE events SET
            title = COALESCE(${changes.title ?? null}, title),
            description = COALESCE(${changes.description ?? null}, description),
            date = COALESCE(${changes.date ?? null}::timestamptz, date),
            location = COALESCE(${changes.location ?? null}, location),
            available_tickets = available_tickets + COALESCE(${total}::int - total_tickets, 0),
            total_tickets = COALESCE(${total}::int, total_tickets),
            updated_at = now()
          WHERE id = ${id} AND deleted_at IS NULL
            AND total_tickets - available_tickets <= COALESCE(${total}::int, total_tickets)
          RETURNING ${columns}`
        if (rows.length > 0) return rows[0]!
        const [current] = yield* sql<{ sold: number }>`
          SELECT total_tickets - available_tickets AS sold FROM events WHERE id = ${id} AND deleted_at IS NULL`
        return yield* current === undefined || total === null ? notFound(id) : Effect.fail(TicketsAlreadySold.of(total, current.sold))
      }).pipe(Effect.catchTag("SqlError", Effect.die)),

    cancel: (id) =>
      sql`UPDATE events SET deleted_at = now(), updated_at = now() WHERE id = ${id} AND deleted_at IS NULL RETURNING id`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) => rows.length === 0 ? notFound(id) : Effect.void)
      )
  }
}

/** The public view of a stored event. */
export const toEvent = (stored: StoredEvent): Event => ({
  id: stored.id as EventId,
  title: stored.title,
  description: stored.description,
  date: stored.date,
  location: stored.location,
  totalTickets: stored.totalTickets,
  availableTickets: stored.availableTickets,
  organizerId: stored.organizerId as UserId,
  status: stored.deletedAt === null ? "SCHEDULED" : "CANCELLED",
  createdAt: stored.createdAt,
  updatedAt: stored.updatedAt
})

function makeMemory(store: MemoryStore["Type"]): EventsRepo["Type"] {
  const scheduled = (tables: { events: ReadonlyMap<number, StoredEvent> }, id: number) =>
    Option.fromNullable(tables.events.get(id)).pipe(Option.filter((event) => event.deletedAt === null))
  const now = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))

  return {
    create: (event) =>
      Effect.flatMap(now, (createdAt) =>
        transact(store, (tables) => {
          if (!tables.users.has(event.organizerId)) return Either.left(Unauthorized.accountGone)
          const id = tables.lastId + 1
          const stored: StoredEvent = {
            ...event,
            id,
            availableTickets: event.totalTickets,
            createdAt,
            updatedAt: createdAt,
            deletedAt: null
          }
          return Either.right([toEvent(stored), { ...tables, lastId: id, events: withEntry(tables.events, id, stored) }] as const)
        })),

    list: ({ includePast, limit, offset = 0 }) =>
      Effect.gen(function*() {
        const { events } = yield* Ref.get(store)
        const at = yield* now
        return [...events.values()]
          .filter((event) => event.deletedAt === null && (includePast || event.date > at))
          .sort((a, b) => a.date.getTime() - b.date.getTime() || a.id - b.id)
          .slice(offset, limit === undefined ? undefined : offset + limit)
          .map(toEvent)
      }),

    findById: (id) => Effect.map(Ref.get(store), (tables) => Option.map(scheduled(tables, id), toEvent)),

    update: (id, changes) =>
      Effect.flatMap(now, (updatedAt) =>
        transact(store, (tables): Either.Either<readonly [Event, Tables], EventNotFound | TicketsAlreadySold> => {
          const found = scheduled(tables, id)
          if (Option.isNone(found)) return Either.left(EventNotFound.of(id))
          const event = found.value
          const sold = event.totalTickets - event.availableTickets
          const total = changes.totalTickets ?? event.totalTickets
          if (total < sold) return Either.left(TicketsAlreadySold.of(total, sold))
          const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
          const updated: StoredEvent = { ...event, ...defined, totalTickets: total, availableTickets: total - sold, updatedAt }
          return Either.right([toEvent(updated), { ...tables, events: withEntry(tables.events, id, updated) }] as const)
        })),

    cancel: (id) =>
      Effect.flatMap(now, (deletedAt) =>
        transact(store, (tables) => {
          const found = scheduled(tables, id)
          if (Option.isNone(found)) return Either.left(EventNotFound.of(id))
          const cancelled = { ...found.value, deletedAt, updatedAt: deletedAt }
          return Either.right([undefined, { ...tables, events: withEntry(tables.events, id, cancelled) }] as const)
        }))
  }
}
