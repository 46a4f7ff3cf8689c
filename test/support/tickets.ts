/**
 * A booking's tickets for tests, in whichever store the test runs on (PostgreSQL, or the memory
 * store's tables). The engine writes a booking's tickets in its transaction; `issueTickets` reads
 * them back, or, for a booking made around the engine (a fixture's row), writes them as the
 * engine does: a row per ticket, a code from Domain/TicketCode.ts, the event's ticket types made
 * as needed. A booking that has tickets already keeps them (a test naming types learns they differ).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option, Ref } from "effect"
import type { BookingId } from "../../src/Domain/Ids.ts"
import { newTicketCode } from "../../src/Domain/TicketCode.ts"
import type { TicketStatus } from "../../src/Domain/TicketRows.ts"
import { MemoryStore, type StoredTicket, type StoredTicketType, withEntry } from "../../src/Storage/MemoryStore.ts"

export const DEFAULT_TYPE = "General admission"

/** `count` tickets of the type named `type`, in `status` (VALID unless told). */
export interface TicketsOfType {
  readonly type: string
  readonly count: number
  readonly status?: TicketStatus
}

export interface IssuedTicket {
  readonly code: string
  readonly type: string
  readonly status: TicketStatus
}

/**
 * The booking's tickets in the order issued, writing them first if it has none: `types` in order
 * (default: the booking's count of the event's default type). Dies if the booking does not exist.
 */
export const issueTickets = (bookingId: BookingId, types?: ReadonlyArray<TicketsOfType>) =>
  Effect.flatMap(
    Effect.all([Effect.serviceOption(MemoryStore), Effect.serviceOption(SqlClient.SqlClient)]),
    ([memory, sql]) =>
      Option.isSome(memory)
        ? inMemory(memory.value, bookingId, types)
        : Option.isSome(sql)
        ? inSql(sql.value, bookingId, types)
        : Effect.dieMessage("issueTickets needs the memory store or a SqlClient")
  )

const inSql = (sql: SqlClient.SqlClient, bookingId: BookingId, types?: ReadonlyArray<TicketsOfType>) =>
  Effect.gen(function*() {
    const read = sql<IssuedTicket>`
      SELECT t.code, tt.name AS type, t.status FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id
      WHERE t.booking_id = ${bookingId} ORDER BY t.id`
    const existing = yield* read
    if (existing.length > 0) return existing
    const [booking] = yield* sql<{ eventId: number; ticketsCount: number }>`
      SELECT event_id AS "eventId", tickets_count AS "ticketsCount" FROM bookings WHERE id = ${bookingId}`
    if (booking === undefined) return yield* Effect.dieMessage(`no booking ${bookingId}`)
    for (const { count, status = "VALID", type } of types ?? [{ type: DEFAULT_TYPE, count: booking.ticketsCount }]) {
      // The type, made the event's default if it has none yet (as the migration does).
      const [typeRow] = yield* sql<{ id: number }>`
        WITH made AS (
          INSERT INTO ticket_types (event_id, name, price_cents, is_default)
          SELECT ${booking.eventId}, ${type}, 0,
            NOT EXISTS (SELECT 1 FROM ticket_types WHERE event_id = ${booking.eventId} AND is_default)
          WHERE NOT EXISTS (SELECT 1 FROM ticket_types WHERE event_id = ${booking.eventId} AND lower(name) = lower(${type}))
          RETURNING id
        )
        SELECT id FROM made UNION ALL
        SELECT id FROM ticket_types WHERE event_id = ${booking.eventId} AND lower(name) = lower(${type})`
      const rows = Array.from({ length: count }, () => ({
        code: newTicketCode(),
        booking_id: bookingId,
        event_id: booking.eventId,
        ticket_type_id: typeRow!.id,
        status,
        checked_in_at: status === "CHECKED_IN" ? new Date() : null,
        cancelled_at: status === "CANCELLED" ? new Date() : null
      }))
      if (rows.length > 0) yield* sql`INSERT INTO tickets ${sql.insert(rows)}`
    }
    return yield* read
  }).pipe(Effect.orDie)

const inMemory = (store: MemoryStore["Type"], bookingId: BookingId, types?: ReadonlyArray<TicketsOfType>) =>
  Effect.gen(function*() {
    const read = Effect.map(Ref.get(store), (tables) =>
      [...tables.tickets.values()]
        .filter((ticket) => ticket.bookingId === bookingId)
        .sort((a, b) => a.id - b.id)
        .map((ticket): IssuedTicket => ({
          code: ticket.code,
          type: tables.ticketTypes.get(ticket.ticketTypeId)!.name,
          status: ticket.status
        })))
    const existing = yield* read
    if (existing.length > 0) return existing
    const booking = (yield* Ref.get(store)).bookings.get(bookingId)
    if (booking === undefined) return yield* Effect.dieMessage(`no booking ${bookingId}`)
    yield* Ref.update(store, (start) => {
      let tables = start
      const now = new Date()
      for (const { count, status = "VALID", type } of types ?? [{ type: DEFAULT_TYPE, count: booking.ticketsCount }]) {
        const ofEvent = [...tables.ticketTypes.values()].filter((stored) => stored.eventId === booking.eventId)
        let ticketType = ofEvent.find((stored) => stored.name.toLowerCase() === type.toLowerCase())
        if (ticketType === undefined) {
          const made: StoredTicketType = {
            id: tables.lastId + 1,
            eventId: booking.eventId,
            name: type,
            priceCents: 0,
            quota: null,
            taken: 0,
            salesStart: null,
            salesEnd: null,
            maxPerBooking: null,
            isDefault: !ofEvent.some((stored) => stored.isDefault),
            createdAt: now,
            updatedAt: now
          }
          ticketType = made
          tables = { ...tables, lastId: made.id, ticketTypes: withEntry(tables.ticketTypes, made.id, made) }
        }
        for (let i = 0; i < count; i++) {
          const ticket: StoredTicket = {
            id: tables.lastId + 1,
            code: newTicketCode(),
            bookingId,
            eventId: booking.eventId,
            ticketTypeId: ticketType.id,
            status,
            checkedInAt: status === "CHECKED_IN" ? now : null,
            cancelledAt: status === "CANCELLED" ? now : null,
            createdAt: now
          }
          tables = { ...tables, lastId: ticket.id, tickets: withEntry(tables.tickets, ticket.id, ticket) }
        }
      }
      return tables
    })
    return yield* read
  })

/** The codes of the booking's tickets (written first if it has none: `issueTickets`). */
export const ticketCodes = (booking: { readonly id: number }, types?: ReadonlyArray<TicketsOfType>) =>
  Effect.map(issueTickets(booking.id as BookingId, types), (tickets) => tickets.map((ticket) => ticket.code))

/** Sets a ticket's status (a check-in at the door, as the check-in endpoint does), in whichever store the test runs on. */
export const setTicketStatus = (code: string, status: TicketStatus) =>
  Effect.flatMap(
    Effect.all([Effect.serviceOption(MemoryStore), Effect.serviceOption(SqlClient.SqlClient)]),
    ([memory, sql]) =>
      Option.isSome(memory)
        ? Ref.update(memory.value, (tables) => {
          const ticket = [...tables.tickets.values()].find((stored) => stored.code === code)!
          const now = new Date()
          return {
            ...tables,
            tickets: withEntry(tables.tickets, ticket.id, {
              ...ticket,
              status,
              checkedInAt: status === "CHECKED_IN" ? now : null,
              cancelledAt: status === "CANCELLED" ? now : null
            })
          }
        })
        : Option.isSome(sql)
        ? sql.value`
          UPDATE tickets SET status = ${status},
            checked_in_at = CASE WHEN ${status} = 'CHECKED_IN' THEN now() END,
            cancelled_at = CASE WHEN ${status} = 'CANCELLED' THEN now() END
          WHERE code = ${code}`.pipe(Effect.asVoid, Effect.orDie)
        : Effect.dieMessage("setTicketStatus needs the memory store or a SqlClient")
  )
