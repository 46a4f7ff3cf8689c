import { SqlClient, SqlSchema } from "@effect/sql"
import { Chunk, Context, Effect, Layer, Option, Ref, Schema, Stream } from "effect"
import { type BookingId, EventId, type TicketTypeId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { Attendee, type AttendeeTickets, EventStats, type TicketTypeSales } from "../Domain/Sales.ts"
import { ticketsLeft } from "../Domain/TicketType.ts"
import { MemoryStore, type StoredBooking, type StoredTicket, type Tables } from "../Storage/MemoryStore.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { driverRow } from "../Storage/Rows.ts"
import { ticketTypeLeft } from "../Storage/TicketTypeRow.ts"

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

// `ticketTypes` is JSON built by the query, of numbers and text only: it checks against the decoded side too.
const AttendeeRow = driverRow(Attendee)
const decodeAttendeePage = pageRows(AttendeeRow, "bookingId")
const decodeAttendees = Schema.decodeUnknown(Schema.Array(AttendeeRow))

/**
 * The tickets a booking lists by type: those not cancelled; of a cancelled booking, those it had
 * when cancelled (the last cancelled together: tickets given back before were cancelled earlier).
 * TODO(engine-types, tickets): until the engine writes a booking's tickets, a booking without any
 * counts as its ticketsCount of the default type; drop the fallback once every booking has tickets.
 */
const countedTicket = (
  booking: { readonly status: string },
  ticket: { readonly status: string; readonly cancelledAt: Date | null },
  lastCancelled: number | undefined
) => booking.status === "CANCELLED" ? ticket.cancelledAt?.getTime() === lastCancelled : ticket.status !== "CANCELLED"

function makeSql(sql: SqlClient.SqlClient): SalesRepo["Type"] {
  const attendeeColumns = sql.literal(`
    b.id AS "bookingId", u.email AS "customerEmail", b.tickets_count AS "ticketsCount",
    b.status, b.created_at AS "createdAt",
    COALESCE((
      SELECT json_agg(json_build_object('ticketTypeId', g.id, 'name', g.name, 'count', g.n) ORDER BY g.is_default DESC, g.id)
      FROM (
        SELECT t.id, t.name, t.is_default, count(*)::int AS n
        FROM tickets k JOIN ticket_types t ON t.id = k.ticket_type_id
        WHERE k.booking_id = b.id
          AND CASE WHEN b.status = 'CANCELLED'
                   THEN k.cancelled_at = (SELECT max(x.cancelled_at) FROM tickets x WHERE x.booking_id = b.id)
                   ELSE k.status <> 'CANCELLED' END
        GROUP BY t.id
      ) g
    ), (
      SELECT json_build_array(json_build_object('ticketTypeId', d.id, 'name', d.name, 'count', b.tickets_count))
      FROM ticket_types d WHERE d.event_id = b.event_id AND d.is_default
        AND NOT EXISTS (SELECT 1 FROM tickets k WHERE k.booking_id = b.id)
    ), '[]') AS "ticketTypes"`)
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
               ), '[]') AS "salesByDay",
               e.currency,
               COALESCE((
                 SELECT json_agg(json_build_object(
                   'ticketTypeId', t.id, 'name', t.name, 'priceCents', t.price_cents,
                   'sold', k.sold, 'held', CASE WHEN t.is_default THEN h.held ELSE 0 END,
                   'left', ${sql.literal(ticketTypeLeft("t", "e"))}, 'checkedIn', k.checked_in,
                   'revenueCents', t.price_cents::bigint * k.sold
                 ) ORDER BY t.is_default DESC, t.id)
                 FROM ticket_types t
                 CROSS JOIN LATERAL (
                   -- Sold: VALID and CHECKED_IN tickets (a cancelled ticket is neither sold nor paid for).
                   SELECT count(*) FILTER (WHERE k.status <> 'CANCELLED') + CASE WHEN t.is_default THEN u.sold ELSE 0 END AS sold,
                          count(*) FILTER (WHERE k.status = 'CHECKED_IN') AS checked_in
                   FROM tickets k WHERE k.event_id = e.id AND k.ticket_type_id = t.id
                 ) k
                 WHERE t.event_id = e.id
               ), '[]') AS "ticketTypes"
        FROM events e
        LEFT JOIN LATERAL (
          -- Sold: tickets of confirmed bookings (held tickets are not sold, a cancelled booking's are back on sale).
          SELECT sum(b.tickets_count) FILTER (WHERE b.status = 'CONFIRMED') AS sold,
                 count(*) FILTER (WHERE b.status = 'CONFIRMED') AS bookings,
                 count(*) FILTER (WHERE b.status = 'CANCELLED') AS cancelled
          FROM bookings b WHERE b.event_id = e.id
        ) s ON true
        -- TODO(engine-types): holds name their types (holds.items); until then every held ticket is the default type's.
        CROSS JOIN LATERAL (
          SELECT COALESCE(sum(tickets_count), 0) AS held FROM holds WHERE event_id = e.id AND status = 'HELD'
        ) h
        -- TODO(engine-types, tickets): confirmed bookings the engine made without their tickets count as the default type's.
        CROSS JOIN LATERAL (
          SELECT COALESCE(sum(b.tickets_count), 0) AS sold FROM bookings b
          WHERE b.event_id = e.id AND b.status = 'CONFIRMED' AND NOT EXISTS (SELECT 1 FROM tickets x WHERE x.booking_id = b.id)
        ) u
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
  /** The event's types, the default first: the order every list of types is in. */
  const typesOf = (tables: Tables, eventId: EventId) =>
    [...tables.ticketTypes.values()].filter((type) => type.eventId === eventId)
      .sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.id - b.id)

  const ticketTypesOf = (tables: Tables, booking: StoredBooking): ReadonlyArray<AttendeeTickets> => {
    const tickets = [...tables.tickets.values()].filter((ticket) => ticket.bookingId === booking.id)
    const lastCancelled = Math.max(...tickets.map((ticket) => ticket.cancelledAt?.getTime() ?? -Infinity))
    const counted = tickets.filter((ticket) => countedTicket(booking, ticket, lastCancelled))
    return typesOf(tables, booking.eventId as EventId).flatMap((type): Array<AttendeeTickets> => {
      const count = tickets.length === 0
        ? (type.isDefault ? booking.ticketsCount : 0)
        : counted.filter((ticket) => ticket.ticketTypeId === type.id).length
      return count === 0 ? [] : [{ ticketTypeId: type.id as TicketTypeId, name: type.name, count }]
    })
  }

  const attendeesOf = (tables: Tables, eventId: EventId): ReadonlyArray<Attendee> =>
    [...tables.bookings.values()]
      .filter((booking) => booking.eventId === eventId)
      .sort((a, b) => a.id - b.id)
      .map((booking: StoredBooking): Attendee => ({
        bookingId: booking.id as BookingId,
        customerEmail: tables.users.get(booking.userId)!.email,
        ticketsCount: booking.ticketsCount,
        status: booking.status,
        createdAt: booking.createdAt,
        ticketTypes: ticketTypesOf(tables, booking)
      }))

  const typeSalesOf = (tables: Tables, eventId: EventId, availableTickets: number): ReadonlyArray<TicketTypeSales> => {
    const tickets = [...tables.tickets.values()].filter((ticket) => ticket.eventId === eventId)
    const held = [...tables.holds.values()].filter((hold) => hold.eventId === eventId && hold.status === "HELD")
      .reduce((sum, hold) => sum + hold.ticketsCount, 0)
    const ticketed = new Set(tickets.map((ticket) => ticket.bookingId))
    const untracked = [...tables.bookings.values()]
      .filter((booking) => booking.eventId === eventId && booking.status === "CONFIRMED" && !ticketed.has(booking.id))
      .reduce((sum, booking) => sum + booking.ticketsCount, 0)
    const count = (typeId: number, counts: (ticket: StoredTicket) => boolean) =>
      tickets.filter((ticket) => ticket.ticketTypeId === typeId && counts(ticket)).length
    return typesOf(tables, eventId).map((type) => {
      const sold = count(type.id, (ticket) => ticket.status !== "CANCELLED") + (type.isDefault ? untracked : 0)
      return {
        ticketTypeId: type.id as TicketTypeId,
        name: type.name,
        priceCents: type.priceCents,
        sold,
        held: type.isDefault ? held : 0,
        left: ticketsLeft(type.quota, type.taken, availableTickets),
        checkedIn: count(type.id, (ticket) => ticket.status === "CHECKED_IN"),
        revenueCents: type.priceCents * sold
      }
    })
  }

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
            salesByDay: [...byDay].sort(([a], [b]) => a < b ? -1 : 1).map(([day, tickets]) => ({ day, tickets })),
            currency: event.currency,
            ticketTypes: typeSalesOf(tables, eventId, event.availableTickets)
          }
        }))
  }
}
