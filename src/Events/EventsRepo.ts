import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref, Schema } from "effect"
import { EventAlreadyStarted, EventNotDraft, EventNotFound, TicketsAlreadySold, Unauthorized } from "../Domain/Errors.ts"
import { DEFAULT_CURRENCY, type Event, type EventSort, EventStatus } from "../Domain/Event.ts"
import { EventId, type UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { DEFAULT_TICKET_TYPE } from "../Domain/TicketType.ts"
import { decodeEventRow, eventColumns, EventRow, eventStatus, storedStatus, toEvent } from "../Storage/EventRow.ts"
import { MemoryStore, type StoredEvent, type StoredTicketType, type Tables, transact, withEntry } from "../Storage/MemoryStore.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { storageDefects } from "../Storage/Rows.ts"
import { isForeignKeyViolation } from "../Storage/SqlErrors.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface NewEvent {
  readonly organizerId: UserId
  readonly title: string
  readonly description: string
  readonly date: Date
  readonly location: string
  readonly totalTickets: number
  readonly salesStart?: Date | null | undefined
  readonly salesEnd?: Date | null | undefined
  /** ISO 4217; EUR unless given. */
  readonly currency?: string | undefined
  /** Unless DRAFT, the event is published as it is created. */
  readonly status?: "DRAFT" | "PUBLISHED" | undefined
}

export interface EventChanges {
  readonly title?: string | undefined
  readonly description?: string | undefined
  readonly date?: Date | undefined
  readonly location?: string | undefined
  readonly totalTickets?: number | undefined
  /** `null` removes the bound; `undefined` leaves it. */
  readonly salesStart?: Date | null | undefined
  readonly salesEnd?: Date | null | undefined
  readonly currency?: string | undefined
}

/** What the catalogue (published events, not cancelled) is searched by; every criterion given must hold. */
export interface EventSearch {
  /** Each word appears, ignoring case, in the title, the description or the location. */
  readonly words: ReadonlyArray<string>
  /** Appears, ignoring case, in the location. */
  readonly location?: string | undefined
  /** Inclusive bounds on the date. */
  readonly from?: Date | undefined
  readonly to?: Date | undefined
  /** Only events whose date is still to come. */
  readonly upcomingOnly: boolean
  /** Only events with tickets left. */
  readonly availableOnly: boolean
  readonly sort: EventSort
}

export class EventsRepo extends Context.Tag("EventsRepo")<EventsRepo, {
  /**
   * Fails with Unauthorized when the organizer does not exist: the id comes from a token, and is
   * checked by the foreign key on this write rather than by a lookup on every request. The event
   * comes with its default ticket type ("General admission", free, its quota the event's capacity).
   */
  readonly create: (event: NewEvent) => Effect.Effect<Event, Unauthorized>
  /** A page of the catalogue: published events, not cancelled, that match. */
  readonly search: (search: EventSearch, page: PageRequest) => Effect.Effect<Page<Event>>
  /** A page of the organizer's events, drafts and cancelled ones included, soonest first. */
  readonly listByOrganizer: (organizerId: UserId, page: PageRequest) => Effect.Effect<Page<Event>>
  /** The event, whatever its status. */
  readonly findById: (id: EventId) => Effect.Effect<Option.Option<Event>>
  /**
   * Applies the changes atomically; a new totalTickets moves availableTickets by the same amount,
   * and the default ticket type's quota with it while that quota is the event's capacity (an
   * organizer who gave it another quota keeps it).
   */
  readonly update: (id: EventId, changes: EventChanges) => Effect.Effect<Event, EventNotFound | TicketsAlreadySold>
  /** Marks the event cancelled, and voids its tickets (CANCELLED); its bookings keep pointing at it. */
  readonly cancel: (id: EventId) => Effect.Effect<void, EventNotFound>
  /** Publishes a draft whose date is still to come. */
  readonly publish: (id: EventId) => Effect.Effect<Event, EventNotFound | EventNotDraft | EventAlreadyStarted>
}>() {
  static readonly layer = Layer.effect(EventsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(EventsRepo, {
    search: (search, { limit, offset }) => ({ "events.words": search.words.length, "events.limit": limit, "events.offset": offset }),
    listByOrganizer: (organizerId) => ({ "user.id": organizerId }),
    findById: (id) => ({ "event.id": id }),
    update: (id) => ({ "event.id": id }),
    cancel: (id) => ({ "event.id": id }),
    publish: (id) => ({ "event.id": id })
  }))
  static readonly layerMemory = Layer.effect(EventsRepo, Effect.map(MemoryStore, makeMemory))
}

/** A LIKE pattern matching `text` anywhere, its wildcards taken literally. */
export const containing = (text: string) => `%${text.replace(/[\\%_]/g, "\\$&")}%`

/** Whether `needle` appears in `haystack`, ignoring case: what ILIKE '%needle%' answers. */
const contains = (haystack: string, needle: string) => haystack.toLowerCase().includes(needle.toLowerCase())

/** How each sort orders the catalogue in SQL (`e`), and its page again (`p`, the columns as named in an Event). */
const ORDERS: Record<EventSort, { readonly rows: string; readonly page: string }> = {
  date: { rows: "e.date, e.id", page: "p.date, p.id" },
  "-date": { rows: "e.date DESC, e.id DESC", page: "p.date DESC, p.id DESC" },
  title: { rows: "lower(e.title), e.id", page: "lower(p.title), p.id" },
  "-availableTickets": { rows: "e.available_tickets DESC, e.date, e.id", page: `p."availableTickets" DESC, p.date, p.id` }
}

/** The same order in memory. */
const COMPARE: Record<EventSort, (a: StoredEvent, b: StoredEvent) => number> = {
  date: (a, b) => a.date.getTime() - b.date.getTime() || a.id - b.id,
  "-date": (a, b) => b.date.getTime() - a.date.getTime() || b.id - a.id,
  title: (a, b) => {
    const [x, y] = [a.title.toLowerCase(), b.title.toLowerCase()]
    return x < y ? -1 : x > y ? 1 : a.id - b.id
  },
  "-availableTickets": (a, b) => b.availableTickets - a.availableTickets || a.date.getTime() - b.date.getTime() || a.id - b.id
}

/**
 * The statements of the paged lists (each a page and its count, see `pageWithCount`), their
 * fragments built on `sql` once. Exported for the plan test (test/db/search-plan.test.ts), which
 * EXPLAINs exactly what the repository runs.
 */
export const listStatements = (sql: SqlClient.SqlClient) => {
  const pageColumns = eventColumns(sql, "e")
  const orders = Object.fromEntries(
    Object.entries(ORDERS).map(([sort, { page, rows }]) => [sort, { rows: sql.literal(rows), page: sql.literal(page) }])
  ) as Record<EventSort, { readonly rows: Statement.Fragment; readonly page: Statement.Fragment }>
  // The catalogue's partial indexes are defined by exactly this condition (migration 0006).
  const catalogue = sql.literal("e.deleted_at IS NULL AND e.published_at IS NOT NULL")
  // The trigram index's expression (migration 0006): the search must spell it the same way.
  const searchText = sql.literal("(e.title || ' ' || e.description || ' ' || e.location)")

  const pageOf = (where: Statement.Fragment, sort: EventSort, { limit, offset }: PageRequest) =>
    pageWithCount(sql, {
      count: sql`SELECT count(*)::int AS total FROM events e WHERE ${where}`,
      page: sql`SELECT ${pageColumns} FROM events e WHERE ${where} ORDER BY ${orders[sort].rows} LIMIT ${limit} OFFSET ${offset}`,
      order: orders[sort].page
    })

  return {
    search: (search: EventSearch, page: PageRequest) => {
      const conditions: Array<Statement.Fragment> = [catalogue]
      if (search.upcomingOnly) conditions.push(sql`e.date > now()`)
      if (search.from !== undefined) conditions.push(sql`e.date >= ${search.from}`)
      if (search.to !== undefined) conditions.push(sql`e.date <= ${search.to}`)
      if (search.location !== undefined) conditions.push(sql`e.location ILIKE ${containing(search.location)}`)
      for (const word of search.words) conditions.push(sql`${searchText} ILIKE ${containing(word)}`)
      if (search.availableOnly) conditions.push(sql`e.available_tickets > 0`)
      return pageOf(sql.and(conditions), search.sort, page)
    },
    byOrganizer: (organizerId: UserId, page: PageRequest) => pageOf(sql`e.organizer_id = ${organizerId}`, "date", page)
  }
}

const decodeEventPage = pageRows(EventRow, "id")

function makeSql(sql: SqlClient.SqlClient): EventsRepo["Type"] {
  const columns = eventColumns(sql, "events")
  const written = eventColumns(sql, "written")
  const lists = listStatements(sql)
  const notFound = (id: EventId) => Effect.fail(EventNotFound.of(id))
  const findById = SqlSchema.findOne({
    Request: EventId,
    Result: EventRow,
    execute: (id) => sql`SELECT ${columns} FROM events WHERE id = ${id}`
  })
  const soldOf = SqlSchema.findOne({
    Request: EventId,
    Result: Schema.Struct({ sold: Schema.Int }),
    execute: (id) => sql`SELECT total_tickets - available_tickets AS sold FROM events WHERE id = ${id} AND deleted_at IS NULL`
  })
  const statusOf = SqlSchema.findOne({
    Request: EventId,
    Result: Schema.Struct({ status: EventStatus }),
    execute: (id) => sql`SELECT ${sql.literal(eventStatus("events"))} AS status FROM events WHERE id = ${id}`
  })

  return {
    // One statement: the event and its default ticket type exist together or not at all.
    create: (event) =>
      sql`
        WITH written AS (
          INSERT INTO events (organizer_id, title, description, date, location, total_tickets, available_tickets,
                              sales_start, sales_end, currency, published_at)
          VALUES (${event.organizerId}, ${event.title}, ${event.description}, ${event.date}, ${event.location},
                  ${event.totalTickets}, ${event.totalTickets}, ${event.salesStart ?? null}, ${event.salesEnd ?? null},
                  ${event.currency ?? DEFAULT_CURRENCY}, ${event.status === "DRAFT" ? null : sql`now()`})
          RETURNING *
        ), default_type AS (
          INSERT INTO ticket_types (event_id, name, price_cents, quota, is_default)
          SELECT id, ${DEFAULT_TICKET_TYPE}, 0, total_tickets, true FROM written
        )
        SELECT ${written} FROM written`.pipe(
        Effect.catchIf(isForeignKeyViolation, () => Effect.fail(Unauthorized.accountGone)),
        Effect.flatMap((rows) => decodeEventRow(rows[0])),
        storageDefects
      ),

    search: (search, page) => lists.search(search, page).pipe(Effect.flatMap(decodeEventPage), Effect.orDie),

    listByOrganizer: (organizerId, page) => lists.byOrganizer(organizerId, page).pipe(Effect.flatMap(decodeEventPage), Effect.orDie),

    findById: (id) => findById(id).pipe(Effect.orDie),

    update: (id, changes) =>
      Effect.gen(function*() {
        const total = changes.totalTickets ?? null
        // One statement: the sold count it checks is the one it changes, whatever bookings run meanwhile.
        // The row is locked first (`before`), which gives its capacity before the change: the default
        // type's quota follows the capacity while it equals it.
        const rows = yield* sql`
          WITH written AS (
          UPDATE events SET
            title = COALESCE(${changes.title ?? null}, title),
            description = COALESCE(${changes.description ?? null}, description),
            date = COALESCE(${changes.date ?? null}::timestamptz, date),
            location = COALESCE(${changes.location ?? null}, location),
            available_tickets = available_tickets + COALESCE(${total}::int - total_tickets, 0),
            total_tickets = COALESCE(${total}::int, total_tickets),
            sales_start = CASE WHEN ${changes.salesStart !== undefined} THEN ${
          changes.salesStart ?? null
        }::timestamptz ELSE sales_start END,
            sales_end = CASE WHEN ${changes.salesEnd !== undefined} THEN ${changes.salesEnd ?? null}::timestamptz ELSE sales_end END,
            currency = COALESCE(${changes.currency ?? null}, currency),
            updated_at = now()
          FROM (SELECT id AS before_id, total_tickets AS before_total FROM events WHERE id = ${id} AND deleted_at IS NULL FOR UPDATE)
               AS before
          WHERE id = before.before_id
            AND total_tickets - available_tickets <= COALESCE(${total}::int, total_tickets)
          RETURNING events.*, before.before_total
          ), default_type AS (
            UPDATE ticket_types t SET quota = GREATEST(w.total_tickets, t.taken), updated_at = now()
            FROM written w
            WHERE t.event_id = w.id AND t.is_default AND t.quota = w.before_total AND w.total_tickets <> w.before_total
          )
          SELECT ${written} FROM written`
        if (rows.length > 0) return yield* decodeEventRow(rows[0])
        const current = yield* soldOf(id)
        return yield* Option.isNone(current) || total === null
          ? notFound(id)
          : Effect.fail(TicketsAlreadySold.of(total, current.value.sold))
      }).pipe(storageDefects),

    // One statement: the event and all its tickets (issue 19: a cancelled event's tickets are void),
    // whether or not the caller runs a transaction. A checked-in ticket is voided too (the CHECK
    // on tickets clears its checked_in_at); a check-in racing this waits for its row and finds it CANCELLED.
    cancel: (id) =>
      sql`
        WITH cancelled AS (
          UPDATE events SET deleted_at = now(), updated_at = now() WHERE id = ${id} AND deleted_at IS NULL RETURNING id
        ), voided AS (
          UPDATE tickets SET status = 'CANCELLED', cancelled_at = now(), checked_in_at = NULL, check_in_idempotency_id = NULL
          WHERE event_id IN (SELECT id FROM cancelled) AND status <> 'CANCELLED'
        )
        SELECT id FROM cancelled`.pipe(
        Effect.orDie,
        Effect.flatMap((rows) => rows.length === 0 ? notFound(id) : Effect.void)
      ),

    publish: (id) =>
      Effect.gen(function*() {
        // One statement decides: a concurrent publish or cancel cannot slip in between a check and the change.
        const [published] = yield* sql`
          UPDATE events SET published_at = now(), updated_at = now()
          WHERE id = ${id} AND published_at IS NULL AND deleted_at IS NULL AND date > now()
          RETURNING ${columns}`
        if (published !== undefined) return yield* decodeEventRow(published)
        const current = yield* statusOf(id)
        return yield* Option.isNone(current)
          ? notFound(id)
          : current.value.status === "DRAFT"
          ? Effect.fail(EventAlreadyStarted.of(id))
          : Effect.fail(EventNotDraft.of(id, current.value.status))
      }).pipe(storageDefects)
  }
}

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
          const { status, ...fields } = event
          const stored: StoredEvent = {
            ...fields,
            salesStart: event.salesStart ?? null,
            salesEnd: event.salesEnd ?? null,
            currency: event.currency ?? DEFAULT_CURRENCY,
            id,
            availableTickets: event.totalTickets,
            createdAt,
            updatedAt: createdAt,
            publishedAt: status === "DRAFT" ? null : createdAt,
            deletedAt: null
          }
          const defaultType: StoredTicketType = {
            id: id + 1,
            eventId: id,
            name: DEFAULT_TICKET_TYPE,
            priceCents: 0,
            quota: event.totalTickets,
            taken: 0,
            salesStart: null,
            salesEnd: null,
            maxPerBooking: null,
            isDefault: true,
            createdAt,
            updatedAt: createdAt
          }
          return Either.right(
            [toEvent(stored), {
              ...tables,
              lastId: id + 1,
              events: withEntry(tables.events, id, stored),
              ticketTypes: withEntry(tables.ticketTypes, defaultType.id, defaultType)
            }] as const
          )
        })),

    search: (search, page) =>
      Effect.gen(function*() {
        const { events } = yield* Ref.get(store)
        const at = yield* now
        const matches = (event: StoredEvent) =>
          storedStatus(event) === "PUBLISHED" &&
          (!search.upcomingOnly || event.date > at) &&
          (search.from === undefined || event.date >= search.from) &&
          (search.to === undefined || event.date <= search.to) &&
          (search.location === undefined || contains(event.location, search.location)) &&
          search.words.every((word) => contains(`${event.title} ${event.description} ${event.location}`, word)) &&
          (!search.availableOnly || event.availableTickets > 0)
        return pageOf([...events.values()].filter(matches).sort(COMPARE[search.sort]), page)
      }),

    listByOrganizer: (organizerId, page) =>
      Effect.map(
        Ref.get(store),
        ({ events }) => pageOf([...events.values()].filter((event) => event.organizerId === organizerId).sort(COMPARE.date), page)
      ),

    findById: (id) => Effect.map(Ref.get(store), (tables) => Option.map(Option.fromNullable(tables.events.get(id)), toEvent)),

    update: (id, changes) =>
      Effect.flatMap(
        now,
        (updatedAt) =>
          transact(store, (tables): Either.Either<readonly [Event, Tables], EventNotFound | TicketsAlreadySold> => {
            const found = scheduled(tables, id)
            if (Option.isNone(found)) return Either.left(EventNotFound.of(id))
            const event = found.value
            const sold = event.totalTickets - event.availableTickets
            const total = changes.totalTickets ?? event.totalTickets
            if (total < sold) return Either.left(TicketsAlreadySold.of(total, sold))
            const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
            const updated: StoredEvent = { ...event, ...defined, totalTickets: total, availableTickets: total - sold, updatedAt }
            const followed = [...tables.ticketTypes.values()].find((type) =>
              type.eventId === id && type.isDefault && type.quota === event.totalTickets && total !== event.totalTickets
            )
            const ticketTypes = followed === undefined
              ? tables.ticketTypes
              : withEntry(tables.ticketTypes, followed.id, { ...followed, quota: Math.max(total, followed.taken), updatedAt })
            return Either.right([toEvent(updated), { ...tables, events: withEntry(tables.events, id, updated), ticketTypes }] as const)
          })
      ),

    cancel: (id) =>
      Effect.flatMap(now, (deletedAt) =>
        transact(store, (tables) => {
          const found = scheduled(tables, id)
          if (Option.isNone(found)) return Either.left(EventNotFound.of(id))
          const cancelled = { ...found.value, deletedAt, updatedAt: deletedAt }
          const tickets = new Map(tables.tickets)
          for (const ticket of tables.tickets.values()) {
            if (ticket.eventId === id && ticket.status !== "CANCELLED") {
              tickets.set(ticket.id, {
                ...ticket,
                status: "CANCELLED",
                cancelledAt: deletedAt,
                checkedInAt: null,
                checkInIdempotencyId: null
              })
            }
          }
          return Either.right([undefined, { ...tables, events: withEntry(tables.events, id, cancelled), tickets }] as const)
        })),

    publish: (id) =>
      Effect.flatMap(
        now,
        (at) =>
          transact(store, (tables): Either.Either<readonly [Event, Tables], EventNotFound | EventNotDraft | EventAlreadyStarted> => {
            const event = tables.events.get(id)
            if (event === undefined) return Either.left(EventNotFound.of(id))
            const status = storedStatus(event)
            if (status !== "DRAFT") return Either.left(EventNotDraft.of(id, status))
            if (event.date <= at) return Either.left(EventAlreadyStarted.of(id))
            const published = { ...event, publishedAt: at, updatedAt: at }
            return Either.right([toEvent(published), { ...tables, events: withEntry(tables.events, id, published) }] as const)
          })
      )
  }
}

const pageOf = (events: ReadonlyArray<StoredEvent>, { limit, offset }: PageRequest): Page<Event> => ({
  total: events.length,
  items: events.slice(offset, offset + limit).map(toEvent)
})
