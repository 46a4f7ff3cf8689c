/**
 * A booking's ticket codes, for the tests of tickets and the door. Until the booking engine writes
 * one `tickets` row per booked ticket (issue 19, the engine's part), this issues them here when the
 * booking has none: rows of the event's default type (made if missing), VALID, or CANCELLED if the
 * booking is. Once the engine writes them, it finds them and issues nothing, and the issuing half
 * below can go.
 *
 * On PostgreSQL when the context has a SqlClient, else in the memory store.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option, Ref, Schema } from "effect"
import { newTicketCode } from "../../src/Domain/TicketCode.ts"
import { MemoryStore, type StoredTicket, type StoredTicketType, type Tables } from "../../src/Storage/MemoryStore.ts"

export interface BookingRef {
  readonly id: number
  readonly eventId: number
}

/** The booking's ticket codes in the order they were issued. */
export const ticketCodes = (booking: BookingRef): Effect.Effect<ReadonlyArray<string>> =>
  Effect.flatMap(Effect.serviceOption(SqlClient.SqlClient), (sql) =>
    Option.isSome(sql)
      ? onPostgres(sql.value, booking)
      : Effect.flatMap(Effect.serviceOption(MemoryStore), (store) =>
        Option.isSome(store) ? inMemory(store.value, booking) : Effect.dieMessage("ticketCodes: neither a SqlClient nor a MemoryStore")))

const Codes = Schema.Array(Schema.Struct({ code: Schema.String }))

const onPostgres = (sql: SqlClient.SqlClient, { eventId, id }: BookingRef) =>
  Effect.gen(function*() {
    const read = sql`SELECT code FROM tickets WHERE booking_id = ${id} ORDER BY id`.pipe(Effect.flatMap(Schema.decodeUnknown(Codes)))
    const existing = yield* read
    if (existing.length > 0) return existing.map((row) => row.code)
    yield* sql`
      INSERT INTO ticket_types (event_id, name, price_cents, quota, is_default)
      SELECT id, 'General admission', 0, total_tickets, true FROM events e
      WHERE id = ${eventId} AND NOT EXISTS (SELECT 1 FROM ticket_types WHERE event_id = e.id AND is_default)`
    const [booking] = yield* sql`SELECT tickets_count, cancelled_at FROM bookings WHERE id = ${id}`.pipe(
      Effect.flatMap(Schema.decodeUnknown(Schema.Array(
        Schema.Struct({ tickets_count: Schema.Int, cancelled_at: Schema.NullOr(Schema.DateFromSelf) })
      )))
    )
    if (booking === undefined) return yield* Effect.dieMessage(`ticketCodes: no booking ${id}`)
    yield* sql`
      INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status, cancelled_at)
      SELECT code, ${id}, ${eventId}, (SELECT id FROM ticket_types WHERE event_id = ${eventId} AND is_default),
        ${booking.cancelled_at === null ? "VALID" : "CANCELLED"}, ${booking.cancelled_at}::timestamptz
      FROM unnest(${Array.from({ length: booking.tickets_count }, newTicketCode)}::text[]) AS code`
    return (yield* read).map((row) => row.code)
  }).pipe(Effect.orDie)

const inMemory = (store: Ref.Ref<Tables>, { eventId, id }: BookingRef) =>
  Ref.modify(store, (tables): readonly [ReadonlyArray<string>, Tables] => {
    const codesOf = (tickets: Tables["tickets"]) =>
      [...tickets.values()].filter((ticket) => ticket.bookingId === id).sort((a, b) => a.id - b.id).map((ticket) => ticket.code)
    const existing = codesOf(tables.tickets)
    if (existing.length > 0) return [existing, tables]
    const booking = tables.bookings.get(id)
    if (booking === undefined) throw new Error(`ticketCodes: no booking ${id}`)
    let lastId = tables.lastId
    const ticketTypes = new Map(tables.ticketTypes)
    let type = [...ticketTypes.values()].find((candidate) => candidate.eventId === eventId && candidate.isDefault)
    if (type === undefined) {
      const event = tables.events.get(eventId)!
      type = {
        id: ++lastId,
        eventId,
        name: "General admission",
        priceCents: 0,
        quota: event.totalTickets,
        taken: 0,
        salesStart: null,
        salesEnd: null,
        maxPerBooking: null,
        isDefault: true,
        createdAt: booking.createdAt,
        updatedAt: booking.createdAt
      } satisfies StoredTicketType
      ticketTypes.set(type.id, type)
    }
    const tickets = new Map(tables.tickets)
    for (let n = 0; n < booking.ticketsCount; n++) {
      const ticket: StoredTicket = {
        id: ++lastId,
        code: newTicketCode(),
        bookingId: id,
        eventId,
        ticketTypeId: type.id,
        status: booking.cancelledAt === null ? "VALID" : "CANCELLED",
        checkedInAt: null,
        cancelledAt: booking.cancelledAt,
        createdAt: booking.createdAt
      }
      tickets.set(ticket.id, ticket)
    }
    return [codesOf(tickets), { ...tables, lastId, ticketTypes, tickets }]
  })
