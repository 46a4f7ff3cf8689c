import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Either, Layer, Option, Ref } from "effect"
import { EventAlreadyStarted, EventNotFound, NotEnoughTickets } from "../Domain/Errors.ts"
import type { BookingId, EventId, UserId } from "../Domain/Ids.ts"
import type { Event } from "../Events/Event.ts"
import { toEvent } from "../Events/EventsRepo.ts"
import { MemoryStore, type StoredBooking, type Tables, transact, withEntry } from "../Platform/MemoryStore.ts"
import type { Booking } from "./Booking.ts"

export interface BookingRequest {
  readonly userId: UserId
  readonly eventId: EventId
  readonly ticketsCount: number
}

export type BookingFailure = EventNotFound | EventAlreadyStarted | NotEnoughTickets

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
  /** Takes the tickets and records the booking in one atomic step: never oversells. */
  readonly book: (request: BookingRequest) => Effect.Effect<Booking, BookingFailure>
  /** The user's bookings with their events (cancelled ones too), newest first. */
  readonly listByUser: (userId: UserId) => Effect.Effect<ReadonlyArray<Booking>>
  /** A booking with its event (cancelled or not). */
  readonly findById: (id: BookingId) => Effect.Effect<Option.Option<Booking>>
  /** The event's attendees by user id, one entry per user with their tickets summed. */
  readonly attendees: (eventId: EventId, page: AttendeePage) => Effect.Effect<ReadonlyArray<Attendee>>
}>() {
  static readonly layer = Layer.effect(BookingsRepo, Effect.map(SqlClient.SqlClient, makeSql))
  static readonly layerMemory = Layer.effect(BookingsRepo, Effect.map(MemoryStore, makeMemory))
}

type BookingRow = Omit<Booking, "event"> & { readonly event: Event }

function makeSql(sql: SqlClient.SqlClient): BookingsRepo["Type"] {
  const bookingColumns = sql.literal(`
    b.id, b.user_id AS "userId", b.event_id AS "eventId", b.tickets_count AS "ticketsCount",
    b.created_at AS "createdAt"`)
  const event = sql`json_build_object(
    'id', e.id, 'title', e.title, 'description', e.description, 'date', e.date, 'location', e.location,
    'totalTickets', e.total_tickets, 'availableTickets', e.available_tickets, 'organizerId', e.organizer_id,
    'status', CASE WHEN e.deleted_at IS NULL THEN 'SCHEDULED' ELSE 'CANCELLED' END,
    'createdAt', e.created_at, 'updatedAt', e.updated_at) AS event`

  // The whole decision is this one statement: the conditional UPDATE takes the tickets only if
  // enough are left (row-locked, re-checked after concurrent writers commit) and the INSERT
  // records the booking only if the UPDATE did.
  const reserveAndInsert = ({ eventId, ticketsCount, userId }: BookingRequest) =>
    sql<BookingRow>`
      WITH e AS (
        UPDATE events SET available_tickets = available_tickets - ${ticketsCount}
        WHERE id = ${eventId} AND deleted_at IS NULL AND date > now() AND available_tickets >= ${ticketsCount}
        RETURNING *
      ), b AS (
        INSERT INTO bookings (user_id, event_id, tickets_count)
        SELECT ${userId}, e.id, ${ticketsCount} FROM e
        RETURNING *
      )
      SELECT ${bookingColumns}, ${event} FROM b JOIN e ON e.id = b.event_id`

  // Only when nothing was booked: say why, without holding any lock.
  const whyNot = ({ eventId, ticketsCount }: BookingRequest) =>
    sql<{ started: boolean; available: number }>`
      SELECT date <= now() AS started, available_tickets AS available
      FROM events WHERE id = ${eventId} AND deleted_at IS NULL`.pipe(
      Effect.flatMap(([row]): Effect.Effect<"retry", BookingFailure> => {
        if (row === undefined) return Effect.fail(EventNotFound.of(eventId))
        if (row.started) return Effect.fail(EventAlreadyStarted.of(eventId))
        if (row.available < ticketsCount) return Effect.fail(NotEnoughTickets.of(ticketsCount, row.available))
        return Effect.succeed("retry" as const) // tickets were added since the UPDATE ran
      })
    )

  const book = (request: BookingRequest, attemptsLeft: number): Effect.Effect<Booking, BookingFailure | SqlError> =>
    reserveAndInsert(request).pipe(
      Effect.flatMap(([row]) =>
        row !== undefined
          ? Effect.succeed(fromRow(row))
          : whyNot(request).pipe(
            Effect.flatMap(() =>
              attemptsLeft > 0
                ? book(request, attemptsLeft - 1)
                : Effect.fail(NotEnoughTickets.of(request.ticketsCount, 0))
            )
          )
      )
    )

  return {
    book: (request) => book(request, 2).pipe(Effect.catchTag("SqlError", Effect.die)),
    listByUser: (userId) =>
      sql<BookingRow>`
        SELECT ${bookingColumns}, ${event}
        FROM bookings b JOIN events e ON e.id = b.event_id
        WHERE b.user_id = ${userId}
        ORDER BY b.created_at DESC, b.id DESC`.pipe(Effect.map((rows) => rows.map(fromRow)), Effect.orDie),
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
    book: ({ eventId, ticketsCount, userId }) =>
      Effect.flatMap(Clock.currentTimeMillis, (millis) =>
        transact(store, (tables): Either.Either<readonly [Booking, Tables], BookingFailure> => {
          const now = new Date(millis)
          const found = Option.fromNullable(tables.events.get(eventId)).pipe(Option.filter((e) => e.deletedAt === null))
          if (Option.isNone(found)) return Either.left(EventNotFound.of(eventId))
          const event = found.value
          if (event.date <= now) return Either.left(EventAlreadyStarted.of(eventId))
          if (event.availableTickets < ticketsCount) return Either.left(NotEnoughTickets.of(ticketsCount, event.availableTickets))
          const id = tables.lastId + 1
          const booking: StoredBooking = { id, userId, eventId, ticketsCount, createdAt: now }
          const reserved = { ...event, availableTickets: event.availableTickets - ticketsCount }
          return Either.right([withEvent(booking, toEvent(reserved)), {
            ...tables,
            lastId: id,
            events: withEntry(tables.events, eventId, reserved),
            bookings: withEntry(tables.bookings, id, booking)
          }])
        })),

    listByUser: (userId) =>
      Effect.map(Ref.get(store), (tables) =>
        [...tables.bookings.values()]
          .filter((booking) => booking.userId === userId)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
          .map((booking) => withEvent(booking, toEvent(tables.events.get(booking.eventId)!)))),

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
