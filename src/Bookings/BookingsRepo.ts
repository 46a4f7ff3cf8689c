import { SqlClient, SqlSchema } from "@effect/sql"
import { Context, Effect, Layer, Option, Ref, Schema } from "effect"
import { Booking } from "../Domain/Booking.ts"
import type { Event } from "../Domain/Event.ts"
import { BookingId, EventId, UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { eventObject, toEvent } from "../Storage/EventRow.ts"
import { MemoryStore, type StoredBooking, type Tables } from "../Storage/MemoryStore.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { itemsJson, namedItems } from "../Storage/TicketItems.ts"
import { traced } from "../Telemetry/Tracing.ts"

/** A customer holding tickets for an event, with how many. */
const AttendeeRow = Schema.Struct({ userId: UserId, email: Schema.String, tickets: Schema.Int })
export type Attendee = typeof AttendeeRow.Type

export interface AttendeePage {
  /** Only users with a larger id: the last id of the previous page. */
  readonly afterUserId: number
  readonly limit: number
}

/** Reading bookings. They are made and changed by the event's engine (Inventory/). */
export class BookingsRepo extends Context.Tag("BookingsRepo")<BookingsRepo, {
  /** A page of the user's bookings with their events (cancelled ones too), newest first. */
  readonly listByUser: (userId: UserId, page: PageRequest) => Effect.Effect<Page<Booking>>
  /** A booking with its event (cancelled or not). */
  readonly findById: (id: BookingId) => Effect.Effect<Option.Option<Booking>>
  /**
   * The bookings (of those ids that exist) with their events, their customers' emails and their
   * tickets not cancelled, by id: what their confirmations say. One statement for all of them.
   */
  readonly findWithEmails: (ids: ReadonlyArray<BookingId>) => Effect.Effect<ReadonlyArray<BookingWithEmail>>
  /** The event's attendees (confirmed bookings) by user id, one entry per user with their tickets summed. */
  readonly attendees: (eventId: EventId, page: AttendeePage) => Effect.Effect<ReadonlyArray<Attendee>>
}>() {
  static readonly layer = Layer.effect(BookingsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(BookingsRepo, {
    listByUser: (userId) => ({ "user.id": userId }),
    findById: (id) => ({ "booking.id": id }),
    findWithEmails: (ids) => ({ "bookings.count": ids.length }),
    attendees: (eventId, { afterUserId }) => ({ "event.id": eventId, "attendees.after_user_id": afterUserId })
  }))
  static readonly layerMemory = Layer.effect(BookingsRepo, Effect.map(MemoryStore, makeMemory))
}

/** A row of the reads below: the booking's columns (Dates from the driver) and its event as JSON (dates as text). */
const BookingRow = Schema.Struct({
  ...Booking.fields,
  cancelledAt: Schema.NullOr(Schema.DateFromSelf),
  createdAt: Schema.DateFromSelf
})
const decodeBookingPage = pageRows(BookingRow, "id")
/** A ticket as a booking's confirmation shows it: its code and its type's name. */
const TicketLine = Schema.Struct({ code: Schema.String, type: Schema.String })
export type TicketLine = typeof TicketLine.Type

const BookingWithEmailRow = Schema.Struct({ ...BookingRow.fields, email: Schema.String, tickets: Schema.Array(TicketLine) })
const AttendeesRequest = Schema.Struct({ eventId: EventId, afterUserId: Schema.Int, limit: Schema.Int })

export interface BookingWithEmail {
  readonly booking: Booking
  /** The customer's. */
  readonly email: string
  /** In the order they were issued. */
  readonly tickets: ReadonlyArray<TicketLine>
}

function makeSql(sql: SqlClient.SqlClient): BookingsRepo["Type"] {
  const bookingColumns = sql`
    b.id, b.user_id AS "userId", b.event_id AS "eventId", b.tickets_count AS "ticketsCount", ${itemsJson(sql, "b")} AS items,
    b.status, b.cancelled_at AS "cancelledAt", b.created_at AS "createdAt"`
  const event = sql`${eventObject(sql, "e")} AS event`
  const findById = SqlSchema.findOne({
    Request: BookingId,
    Result: BookingRow,
    execute: (id) =>
      sql`
        SELECT ${bookingColumns}, ${event}
        FROM bookings b JOIN events e ON e.id = b.event_id
        WHERE b.id = ${id}`
  })
  const findWithEmails = SqlSchema.findAll({
    Request: Schema.Array(BookingId),
    Result: BookingWithEmailRow,
    execute: (ids) =>
      sql`
        SELECT ${bookingColumns}, ${event}, u.email, (
          SELECT coalesce(json_agg(json_build_object('code', t.code, 'type', tt.name) ORDER BY t.id), '[]'::json)
          FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id
          WHERE t.booking_id = b.id AND t.status <> 'CANCELLED'
        ) AS tickets
        FROM bookings b JOIN events e ON e.id = b.event_id JOIN users u ON u.id = b.user_id
        WHERE b.id = ANY(${ids}::int[])
        ORDER BY b.id`
  })
  const attendees = SqlSchema.findAll({
    Request: AttendeesRequest,
    Result: AttendeeRow,
    execute: ({ afterUserId, eventId, limit }) =>
      sql`
        SELECT u.id AS "userId", u.email, sum(b.tickets_count)::int AS tickets
        FROM bookings b JOIN users u ON u.id = b.user_id
        WHERE b.event_id = ${eventId} AND b.status = 'CONFIRMED' AND b.user_id > ${afterUserId}
        GROUP BY u.id
        ORDER BY u.id
        LIMIT ${limit}`
  })

  return {
    listByUser: (userId, { limit, offset }) =>
      pageWithCount(sql, {
        count: sql`SELECT count(*)::int AS total FROM bookings b WHERE b.user_id = ${userId}`,
        page: sql`
          SELECT ${bookingColumns}, ${event}
          FROM bookings b JOIN events e ON e.id = b.event_id
          WHERE b.user_id = ${userId}
          ORDER BY b.created_at DESC, b.id DESC LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p."createdAt" DESC, p.id DESC`
      }).pipe(Effect.flatMap(decodeBookingPage), Effect.orDie),
    findById: (id) => findById(id).pipe(Effect.orDie),
    findWithEmails: (ids) =>
      findWithEmails(ids).pipe(
        Effect.map((rows) => rows.map(({ email, tickets, ...booking }) => ({ booking, email, tickets }))),
        Effect.orDie
      ),
    attendees: (eventId, { afterUserId, limit }) => attendees({ eventId, afterUserId, limit }).pipe(Effect.orDie)
  }
}

function makeMemory(store: MemoryStore["Type"]): BookingsRepo["Type"] {
  const withEvent = (tables: Tables, booking: StoredBooking, event: Event): Booking => ({
    id: booking.id as BookingId,
    userId: booking.userId as UserId,
    eventId: booking.eventId as EventId,
    ticketsCount: booking.ticketsCount,
    items: namedItems(tables, booking.items),
    status: booking.status,
    cancelledAt: booking.cancelledAt,
    createdAt: booking.createdAt,
    event
  })

  return {
    listByUser: (userId, { limit, offset }) =>
      Effect.map(Ref.get(store), (tables) => {
        const all = [...tables.bookings.values()]
          .filter((booking) => booking.userId === userId)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
        return {
          total: all.length,
          items: all.slice(offset, offset + limit).map((booking) =>
            withEvent(tables, booking, toEvent(tables.events.get(booking.eventId)!))
          )
        }
      }),

    findById: (id) =>
      Effect.map(Ref.get(store), (tables) =>
        Option.fromNullable(tables.bookings.get(id)).pipe(
          Option.map((booking) => withEvent(tables, booking, toEvent(tables.events.get(booking.eventId)!)))
        )),

    findWithEmails: (ids) =>
      Effect.map(Ref.get(store), (tables) =>
        [...new Set(ids)].sort((a, b) => a - b).flatMap((id) => {
          const booking = tables.bookings.get(id)
          const user = booking && tables.users.get(booking.userId)
          return booking === undefined || user === undefined
            ? []
            : [{
              booking: withEvent(tables, booking, toEvent(tables.events.get(booking.eventId)!)),
              email: user.email,
              tickets: [...tables.tickets.values()]
                .filter((ticket) => ticket.bookingId === id && ticket.status !== "CANCELLED")
                .sort((a, b) => a.id - b.id)
                .map((ticket) => ({ code: ticket.code, type: tables.ticketTypes.get(ticket.ticketTypeId)!.name }))
            }]
        })),

    attendees: (eventId, { afterUserId, limit }) =>
      Effect.map(Ref.get(store), (tables) => {
        const tickets = new Map<number, number>()
        for (const booking of tables.bookings.values()) {
          if (booking.eventId === eventId && booking.status === "CONFIRMED" && booking.userId > afterUserId) {
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
