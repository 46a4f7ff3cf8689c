import { SqlClient } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref } from "effect"
import { EventAlreadyStarted, EventNotFound, NotEnoughTickets, Unauthorized } from "../Domain/Errors.ts"
import type { BookingId, EventId, UserId } from "../Domain/Ids.ts"
import type { Event } from "../Events/Event.ts"
import { eventColumns, eventStatus, storedStatus, toEvent } from "../Events/EventsRepo.ts"
import { MemoryStore, type StoredBooking, withEntry } from "../Platform/MemoryStore.ts"
import { type Page, type PageRequest, pageWithCount, toPage } from "../Platform/Paging.ts"
import { type Allocation, allocate, type TicketRequest, ticketsTaken } from "./Allocation.ts"
import type { Booking } from "./Booking.ts"
import { traced } from "../Telemetry/Tracing.ts"

/** Why a booking got nothing. `Unauthorized`: the token's account no longer exists (a database reset). */
export type BookingFailure = EventNotFound | EventAlreadyStarted | NotEnoughTickets | Unauthorized

/** One booking's outcome in a batch. */
export type BookingOutcome = Either.Either<Booking, BookingFailure>

/** A customer holding tickets for an event, with how many. */
export interface Attendee {
  readonly userId: UserId
  readonly email: string
  readonly tickets: number
}

export interface AttendeePage {
  /** Only users with a larger id: the last id of the previous page. */
  readonly afterUserId: number
  readonly limit: number
}

export class BookingsRepo extends Context.Tag("BookingsRepo")<BookingsRepo, {
  /**
   * Decides a batch of bookings of one event as if made one after the other in this order (see
   * Allocation.ts), takes the tickets and records the bookings. Run it inside a transaction: the
   * event's row stays locked until commit, so batches of one event, from any process, serialize.
   */
  readonly bookAll: (eventId: EventId, requests: ReadonlyArray<TicketRequest>) => Effect.Effect<ReadonlyArray<BookingOutcome>>
  /** A page of the user's bookings with their events (cancelled ones too), newest first. */
  readonly listByUser: (userId: UserId, page: PageRequest) => Effect.Effect<Page<Booking>>
  /** A booking with its event (cancelled or not). */
  readonly findById: (id: BookingId) => Effect.Effect<Option.Option<Booking>>
  /** The event's attendees by user id, one entry per user with their tickets summed. */
  readonly attendees: (eventId: EventId, page: AttendeePage) => Effect.Effect<ReadonlyArray<Attendee>>
}>() {
  static readonly layer = Layer.effect(BookingsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(BookingsRepo, {
    bookAll: (eventId, requests) => ({ "event.id": eventId, "booking.batch_size": requests.length }),
    listByUser: (userId) => ({ "user.id": userId }),
    findById: (id) => ({ "booking.id": id }),
    attendees: (eventId, { afterUserId }) => ({ "event.id": eventId, "attendees.after_user_id": afterUserId })
  }))
  static readonly layerMemory = Layer.effect(BookingsRepo, Effect.map(MemoryStore, makeMemory))
}

type BookingRow = Omit<Booking, "event"> & { readonly event: Event }

function makeSql(sql: SqlClient.SqlClient): BookingsRepo["Type"] {
  const bookingColumns = sql.literal(`
    b.id, b.user_id AS "userId", b.event_id AS "eventId", b.tickets_count AS "ticketsCount",
    b.created_at AS "createdAt"`)
  const lockedEvent = eventColumns(sql, "e")
  const event = sql`json_build_object(
    'id', e.id, 'title', e.title, 'description', e.description, 'date', e.date, 'location', e.location,
    'totalTickets', e.total_tickets, 'availableTickets', e.available_tickets, 'organizerId', e.organizer_id,
    'status', ${sql.literal(eventStatus("e"))},
    'createdAt', e.created_at, 'updatedAt', e.updated_at) AS event`

  const bookAll = (eventId: EventId, requests: ReadonlyArray<TicketRequest>) =>
    Effect.gen(function*() {
      // Lock the event once for the whole batch, and learn which accounts still exist.
      const [locked] = yield* sql<Event & { readonly started: boolean; readonly knownUsers: ReadonlyArray<number> }>`
        SELECT ${lockedEvent}, e.date <= now() AS started,
               ARRAY(SELECT u.id FROM users u WHERE u.id = ANY(${requests.map((r) => r.userId)}::int[])) AS "knownUsers"
        FROM events e WHERE e.id = ${eventId} AND e.deleted_at IS NULL AND e.published_at IS NOT NULL
        FOR UPDATE OF e`
      // Bookings already made under the batch's Idempotency-Keys. A statement of its own, after the
      // lock: it sees every batch of this event committed before ours (the locking one may not).
      const keyed = idempotencyIds(requests)
      const repeated = keyed.length === 0 ? [] : yield* sql<BookingRow & { readonly idempotencyId: string }>`
        SELECT ${bookingColumns}, b.idempotency_id AS "idempotencyId", ${event}
        FROM bookings b JOIN events e ON e.id = b.event_id
        WHERE b.idempotency_id = ANY(${keyed}::uuid[])`
      const { assemble, fresh } = splitRepeats(requests, new Map(repeated.map(({ idempotencyId, ...row }) => [idempotencyId, fromRow(row)])))

      const { knownUsers, started, ...current } = locked ?? { knownUsers: [], started: false }
      const known = new Set(knownUsers)
      const allocations = allocate(locked && { availableTickets: locked.availableTickets, started }, fresh, (userId) => known.has(userId))
      const granted = fresh.filter((_, i) => allocations[i]!._tag === "Granted")
      if (granted.length === 0) return assemble(toOutcomes(eventId, fresh, allocations, undefined, []))
      const rows = yield* sql<{ id: BookingId; userId: UserId; ticketsCount: number; createdAt: Date }>`
        WITH taken AS (
          UPDATE events SET available_tickets = available_tickets - ${ticketsTaken(fresh, allocations)}
          WHERE id = ${eventId}
        )
        INSERT INTO bookings (user_id, event_id, tickets_count, idempotency_id)
        SELECT r.user_id, ${eventId}, r.tickets, r.idempotency_id
        FROM unnest(${granted.map((r) => r.userId)}::int[], ${granted.map((r) => r.ticketsCount)}::int[],
                    ${granted.map((r) => r.idempotencyId ?? null)}::uuid[])
             WITH ORDINALITY AS r(user_id, tickets, idempotency_id, n)
        ORDER BY r.n
        RETURNING id, user_id AS "userId", tickets_count AS "ticketsCount", created_at AS "createdAt"`
      // Identities are drawn in insertion order, which is the batch's order.
      const inserted = [...rows].sort((a, b) => a.id - b.id)
      if (inserted.some((row, i) => row.userId !== granted[i]!.userId || row.ticketsCount !== granted[i]!.ticketsCount)) {
        return yield* Effect.dieMessage("bookings were not inserted in batch order")
      }
      return assemble(toOutcomes(eventId, fresh, allocations, current as Event, inserted))
    })

  return {
    bookAll: (eventId, requests) => bookAll(eventId, requests).pipe(Effect.orDie),
    listByUser: (userId, { limit, offset }) =>
      pageWithCount<BookingRow>(sql, {
        count: sql`SELECT count(*)::int AS total FROM bookings b WHERE b.user_id = ${userId}`,
        page: sql`
          SELECT ${bookingColumns}, ${event}
          FROM bookings b JOIN events e ON e.id = b.event_id
          WHERE b.user_id = ${userId}
          ORDER BY b.created_at DESC, b.id DESC LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p."createdAt" DESC, p.id DESC`
      }).pipe(
        Effect.map(toPage<BookingRow>("id")),
        Effect.map(({ items, total }) => ({ total, items: items.map(fromRow) })),
        Effect.orDie
      ),
    findById: (id) =>
      sql<BookingRow>`
        SELECT ${bookingColumns}, ${event}
        FROM bookings b JOIN events e ON e.id = b.event_id
        WHERE b.id = ${id}`.pipe(Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), fromRow)), Effect.orDie),
    attendees: (eventId, { afterUserId, limit }) =>
      sql<Attendee>`
        SELECT u.id AS "userId", u.email, sum(b.tickets_count)::int AS tickets
        FROM bookings b JOIN users u ON u.id = b.user_id
        WHERE b.event_id = ${eventId} AND b.user_id > ${afterUserId}
        GROUP BY u.id
        ORDER BY u.id
        LIMIT ${limit}`.pipe(Effect.orDie)
  }
}

const idempotencyIds = (requests: ReadonlyArray<TicketRequest>): ReadonlyArray<string> =>
  requests.flatMap((request) => request.idempotencyId === undefined ? [] : [request.idempotencyId])

/**
 * A request whose Idempotency-Key already made a booking (an earlier try that committed after its
 * caller stopped waiting, or whose process died before storing the answer) gets that booking again
 * instead of a second one; so does a second request with the same key in one batch. `fresh` are the
 * requests to decide; `assemble` puts their outcomes and the repeats back in the batch's order.
 */
const splitRepeats = (requests: ReadonlyArray<TicketRequest>, booked: ReadonlyMap<string, Booking>) => {
  if (!requests.some((request) => request.idempotencyId !== undefined)) {
    return { fresh: requests, assemble: (outcomes: ReadonlyArray<BookingOutcome>) => outcomes }
  }
  const fresh: Array<TicketRequest> = []
  const firstWith = new Map<string, number>()
  const plan = requests.map((request): Booking | number => {
    const id = request.idempotencyId
    if (id !== undefined) {
      const repeat = booked.get(id) ?? firstWith.get(id)
      if (repeat !== undefined) return repeat
      firstWith.set(id, fresh.length)
    }
    return fresh.push(request) - 1
  })
  return {
    fresh,
    assemble: (outcomes: ReadonlyArray<BookingOutcome>) =>
      plan.map((step) => typeof step === "number" ? outcomes[step]! : Either.right(step))
  }
}

/**
 * Each request's outcome: granted ones in order take the next inserted row, and see the event as it
 * stood right after their own booking; refused ones get their typed error.
 */
const toOutcomes = (
  eventId: EventId,
  requests: ReadonlyArray<TicketRequest>,
  allocations: ReadonlyArray<Allocation>,
  event: Event | undefined,
  inserted: ReadonlyArray<{ readonly id: BookingId; readonly createdAt: Date }>
): ReadonlyArray<BookingOutcome> => {
  let next = 0
  return requests.map((request, i): BookingOutcome => {
    const allocation = allocations[i]!
    switch (allocation._tag) {
      case "Granted": {
        const { createdAt, id } = inserted[next++]!
        const { userId, ticketsCount } = request
        return Either.right({
          id,
          userId,
          eventId,
          ticketsCount,
          createdAt,
          event: { ...event!, availableTickets: allocation.availableAfter }
        })
      }
      case "EventNotFound":
        return Either.left(EventNotFound.of(eventId))
      case "EventAlreadyStarted":
        return Either.left(EventAlreadyStarted.of(eventId))
      case "AccountGone":
        return Either.left(Unauthorized.accountGone)
      case "NotEnoughTickets":
        return Either.left(NotEnoughTickets.of(request.ticketsCount, allocation.available))
    }
  })
}

/** json_build_object returns dates as strings; the Booking carries Dates. */
const fromRow = (row: BookingRow): Booking => ({
  ...row,
  event: {
    ...row.event,
    date: new Date(row.event.date),
    createdAt: new Date(row.event.createdAt),
    updatedAt: new Date(row.event.updatedAt)
  }
})

function makeMemory(store: MemoryStore["Type"]): BookingsRepo["Type"] {
  const withEvent = (booking: StoredBooking, event: Event): Booking => ({
    id: booking.id as BookingId,
    userId: booking.userId as UserId,
    eventId: booking.eventId as EventId,
    ticketsCount: booking.ticketsCount,
    createdAt: booking.createdAt,
    event
  })

  return {
    bookAll: (eventId, requests) =>
      Effect.flatMap(Clock.currentTimeMillis, (millis) =>
        Ref.modify(store, (tables) => {
          const now = new Date(millis)
          const keyed = new Set(idempotencyIds(requests))
          const repeated = keyed.size === 0
            ? []
            : [...tables.bookings.values()].filter((b) => b.idempotencyId !== undefined && keyed.has(b.idempotencyId))
          const { assemble, fresh } = splitRepeats(
            requests,
            new Map(repeated.map((b) => [b.idempotencyId!, withEvent(b, toEvent(tables.events.get(b.eventId)!))]))
          )
          const found = tables.events.get(eventId)
          const stored = found !== undefined && storedStatus(found) === "PUBLISHED" ? found : undefined
          const allocations = allocate(
            stored && { availableTickets: stored.availableTickets, started: stored.date <= now },
            fresh,
            (userId) => tables.users.has(userId)
          )
          const granted = fresh.filter((_, i) => allocations[i]!._tag === "Granted")
          if (stored === undefined || granted.length === 0) {
            return [assemble(toOutcomes(eventId, fresh, allocations, undefined, [])), tables] as const
          }
          const inserted = granted.map((request, i): StoredBooking => ({
            id: tables.lastId + 1 + i,
            userId: request.userId,
            eventId,
            ticketsCount: request.ticketsCount,
            createdAt: now,
            idempotencyId: request.idempotencyId
          }))
          const bookings = new Map(tables.bookings)
          for (const booking of inserted) bookings.set(booking.id, booking)
          const reserved = { ...stored, availableTickets: stored.availableTickets - ticketsTaken(fresh, allocations) }
          return [
            assemble(toOutcomes(eventId, fresh, allocations, toEvent(stored), inserted.map((b) => ({ ...b, id: b.id as BookingId })))),
            { ...tables, lastId: tables.lastId + inserted.length, events: withEntry(tables.events, eventId, reserved), bookings }
          ] as const
        })),

    listByUser: (userId, { limit, offset }) =>
      Effect.map(Ref.get(store), (tables) => {
        const all = [...tables.bookings.values()]
          .filter((booking) => booking.userId === userId)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
        return {
          total: all.length,
          items: all.slice(offset, offset + limit).map((booking) => withEvent(booking, toEvent(tables.events.get(booking.eventId)!)))
        }
      }),

    findById: (id) =>
      Effect.map(Ref.get(store), (tables) =>
        Option.fromNullable(tables.bookings.get(id)).pipe(
          Option.map((booking) => withEvent(booking, toEvent(tables.events.get(booking.eventId)!)))
        )),

    attendees: (eventId, { afterUserId, limit }) =>
      Effect.map(Ref.get(store), (tables) => {
        const tickets = new Map<number, number>()
        for (const booking of tables.bookings.values()) {
          if (booking.eventId === eventId && booking.userId > afterUserId) {
            tickets.set(booking.userId, (tickets.get(booking.userId) ?? 0) + booking.ticketsCount)
          }
        }
        return [...tickets].sort(([a], [b]) => a - b).slice(0, limit).map(([userId, count]) => ({
          userId: userId as UserId,
          email: tables.users.get(userId)!.email,
          tickets: count
        }))
      })
  }
}
