/**
 * A row's tickets by type as the API shows them (`items: [{ticketTypeId, name, count}]`): the
 * `items` jsonb column of bookings, holds and waiting-list entries (migration 0014) with each
 * type's name, for the reads of PostgreSQL and of the memory store alike.
 */
import type { SqlClient } from "@effect/sql"
import type { TicketsOfType } from "../Domain/Booking.ts"
import type { TicketTypeId } from "../Domain/Ids.ts"
import type { ItemRow } from "../Domain/TicketRows.ts"
import type { Tables } from "./MemoryStore.ts"

/** SQL: the items of the row `alias` (its `items` column) as JSON, with their types' names, in their order. */
export const itemsJson = (sql: SqlClient.SqlClient, alias: string) =>
  sql.literal(`(
    SELECT COALESCE(json_agg(json_build_object('ticketTypeId', t.id, 'name', t.name, 'count', (i.item->>'count')::int)
                             ORDER BY i.n), '[]')
    FROM jsonb_array_elements(${alias}.items) WITH ORDINALITY AS i(item, n)
    JOIN ticket_types t ON t.id = (i.item->>'ticketTypeId')::int)`)

/** Memory: the same. */
export const namedItems = (tables: Tables, items: ReadonlyArray<ItemRow>): ReadonlyArray<TicketsOfType> =>
  items.map(({ count, ticketTypeId }) => ({
    ticketTypeId: ticketTypeId as TicketTypeId,
    name: tables.ticketTypes.get(ticketTypeId)?.name ?? "",
    count
  }))
