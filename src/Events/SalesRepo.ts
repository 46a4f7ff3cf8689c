import { SqlClient, SqlSchema } from "@effect/sql"
import { Chunk, Context, Effect, Layer, Option, Ref, Schema, Stream } from "effect"
import { type BookingId, EventId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { Attendee, EventStats } from "../Domain/Sales.ts"
import { MemoryStore, type StoredBooking, type Tables } from "../Storage/MemoryStore.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { driverRow } from "../Storage/Rows.ts"

/** An event's sales as its organizer sees them. Callers have checked who may see them. */
export class SalesRepo extends Context.Tag("SalesRepo")<SalesRepo, {
  /** A page of the event's bookings in the order they were made, with each customer's email. */
  readonly attendees: (eventId: EventId, page: PageRequest) => Effect.Effect<Page<Attendee>>
  /** All of them in that order, read from the database a few rows at a time as the stream is pulled. */
  readonly allAttendees: (eventId: EventId) => Stream.Stream<Attendee>
  /** None when there is no such event. */
  readonly stats: (eventId: EventId) => Effect.Effect<Option.Option<EventStats>>
}>() {
  static readonly layer = Layer.effect(SalesRepo, Effect.map(SqlClient.SqlClient, makeSql))
  static readonly layerMemory = Layer.effect(SalesRepo, Effect.map(MemoryStore, makeMemory))
}

const AttendeeRow = driverRow(Attendee)
const decodeAttendeePage = pageRows(AttendeeRow, "bookingId")
const decodeAttendees = Schema.decodeUnknown(Schema.Array(AttendeeRow))

function makeSql(sql: SqlClient.SqlClient): SalesRepo["Type"] {
  const attendeeColumns = sql.literal(`
    b.id AS "bookingId", u.email AS "customerEmail", b.tickets_count AS "ticketsCount",
    b.status, b.created_at AS "createdAt"`)
  const stats = SqlSchema.findOne({
    Request: EventId,
    Result: driverRow(EventStats),
    execute: (eventId) =>
      sql`
        SELECT e.total_tickets AS "totalTickets", e.available_tickets AS "availableTickets",
               COALESCE(s.sold, 0)::int AS "soldTickets", COALESCE(s.bookings, 0)::int AS bookings,
               COALESCE(s.cancelled, 0)::int AS "cancelledBookings",
               COALESCE((
                 SELECT json_agg(json_build_object('day', d.day, 'tickets', d.tickets) ORDER BY d.day)
                 FROM (
                   SELECT to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(b.tickets_count)::int AS tickets
                   FROM bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED'
                   GROUP BY 1
                 ) d
               ), '[]') AS "salesByDay"
        FROM events e
        LEFT JOIN LATERAL (
          -- Sold: tickets of confirmed bookings (held tickets are not sold, a cancelled booking's are back on sale).
          SELECT sum(b.tickets_count) FILTER (WHERE b.status = 'CONFIRMED') AS sold,
                 count(*) FILTER (WHERE b.status = 'CONFIRMED') AS bookings,
                 count(*) FILTER (WHERE b.status = 'CANCELLED') AS cancelled
          FROM bookings b WHERE b.event_id = e.id
        ) s ON true
        WHERE e.id = ${eventId}`
  })

  return {
    attendees: (eventId, { limit, offset }) =>
      pageWithCount(sql, {
        count: sql`SELECT count(*)::int AS total FROM bookings b WHERE b.event_id = ${eventId}`,
        page: sql`
          SELECT ${attendeeColumns}
          FROM bookings b JOIN users u ON u.id = b.user_id
          WHERE b.event_id = ${eventId}
          ORDER BY b.id LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p."bookingId"`
      }).pipe(Effect.flatMap(decodeAttendeePage), Effect.orDie),

    // A cursor (128 rows a read) on a connection of its own, held while the stream runs; one
    // statement, so the list is the one snapshot however long the client takes to read it.
    allAttendees: (eventId) =>
      sql`
        SELECT ${attendeeColumns}
        FROM bookings b JOIN users u ON u.id = b.user_id
        WHERE b.event_id = ${eventId}
        ORDER BY b.id`.stream.pipe(
        // Decoded a read at a time, keeping the cursor's chunks.
        Stream.mapChunksEffect((rows) => Effect.map(decodeAttendees(Chunk.toReadonlyArray(rows)), Chunk.unsafeFromArray)),
        Stream.orDie
      ),

    stats: (eventId) => stats(eventId).pipe(Effect.orDie)
  }
}

function makeMemory(store: MemoryStore["Type"]): SalesRepo["Type"] {
  const attendeesOf = (tables: Tables, eventId: EventId): ReadonlyArray<Attendee> =>
    [...tables.bookings.values()]
      .filter((booking) => booking.eventId === eventId)
      .sort((a, b) => a.id - b.id)
      .map((booking: StoredBooking): Attendee => ({
        bookingId: booking.id as BookingId,
        customerEmail: tables.users.get(booking.userId)!.email,
        ticketsCount: booking.ticketsCount,
        status: booking.status,
        createdAt: booking.createdAt
      }))

  return {
    attendees: (eventId, { limit, offset }) =>
      Effect.map(Ref.get(store), (tables) => {
        const all = attendeesOf(tables, eventId)
        return { total: all.length, items: all.slice(offset, offset + limit) }
      }),

    allAttendees: (eventId) => Stream.unwrap(Effect.map(Ref.get(store), (tables) => Stream.fromIterable(attendeesOf(tables, eventId)))),

    stats: (eventId) =>
      Effect.map(Ref.get(store), (tables) =>
        Option.map(Option.fromNullable(tables.events.get(eventId)), (event): EventStats => {
          const all = attendeesOf(tables, eventId)
          const bookings = all.filter((booking) => booking.status === "CONFIRMED")
          const byDay = new Map<string, number>()
          for (const { createdAt, ticketsCount } of bookings) {
            const day = createdAt.toISOString().slice(0, 10)
            byDay.set(day, (byDay.get(day) ?? 0) + ticketsCount)
          }
          return {
            totalTickets: event.totalTickets,
            availableTickets: event.availableTickets,
            soldTickets: bookings.reduce((sum, booking) => sum + booking.ticketsCount, 0),
            bookings: bookings.length,
            cancelledBookings: all.length - bookings.length,
            salesByDay: [...byDay].sort(([a], [b]) => a < b ? -1 : 1).map(([day, tickets]) => ({ day, tickets }))
          }
        }))
  }
}
