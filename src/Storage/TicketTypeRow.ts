/**
 * A ticket type's row boundary, written once (as EventRow.ts is an event's): the SQL projection of
 * `ticket_types` joined to its event as a TicketType, with what is left of it, and the in-memory
 * store's row as one. The ticket types' repository and the stats read through here.
 */
import type { SqlClient } from "@effect/sql"
import type { EventId, TicketTypeId } from "../Domain/Ids.ts"
import { ticketsLeft, TicketType } from "../Domain/TicketType.ts"
import type { StoredEvent, StoredTicketType } from "./MemoryStore.ts"
import { driverRow } from "./Rows.ts"

/** What is left of type `t` of event `e`: `ticketsLeft` in SQL. */
export const ticketTypeLeft = (t: string, e: string) =>
  `GREATEST(0, LEAST(COALESCE(${t}.quota - ${t}.taken, ${e}.available_tickets), ${e}.available_tickets))`

/** The columns of `ticket_types t JOIN events e` as a TicketType's fields (decode the rows with `TicketTypeRow`). */
export const ticketTypeColumns = (sql: SqlClient.SqlClient) =>
  sql.literal(`
    t.id, t.event_id AS "eventId", t.name, t.price_cents AS "priceCents", e.currency, t.quota,
    t.sales_start AS "salesStart", t.sales_end AS "salesEnd", t.max_per_booking AS "maxPerBooking",
    t.is_default AS "isDefault", ${ticketTypeLeft("t", "e")} AS "left"`)

export const TicketTypeRow = driverRow(TicketType)

/** The public view of a stored type of `event`. */
export const toTicketType = (stored: StoredTicketType, event: StoredEvent): TicketType => ({
  id: stored.id as TicketTypeId,
  eventId: stored.eventId as EventId,
  name: stored.name,
  priceCents: stored.priceCents,
  currency: event.currency,
  quota: stored.quota,
  salesStart: stored.salesStart,
  salesEnd: stored.salesEnd,
  maxPerBooking: stored.maxPerBooking,
  isDefault: stored.isDefault,
  left: ticketsLeft(stored.quota, stored.taken, event.availableTickets)
})
