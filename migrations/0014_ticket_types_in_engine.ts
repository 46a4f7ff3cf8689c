import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The booking engine sells ticket types (issue 19): what a booking, a hold and a waiting-list
 * entry hold or wait for, by type, and the engine's read (`inventory_state`, migration 0010)
 * loading what it decides on besides the event's row.
 *
 * - `items jsonb` on bookings, holds and waiting_list entries: `[{ticketTypeId, count}]` in the
 *   order asked for (`tickets_count` stays their sum); an entry's items also carry `reserved`,
 *   the tickets of that type kept back for it. Existing rows hold tickets of their event's default
 *   type. A booking's tickets are rows of `tickets`; its items say what it holds (and, once
 *   cancelled, what it held), without counting tickets on every read.
 * - `inventory_state` also answers the event's ticket types (quota, taken, sales window,
 *   maxPerBooking, default) and the tickets of the bookings the batch names, locked: a check-in
 *   of one of them waits for the batch, so a ticket the engine cancels is never checked in at the
 *   same moment (and one checked in first is seen as such). Its result type changes, so it is
 *   dropped and created again (the same transaction: no batch sees it missing).
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  for (const table of ["bookings", "holds", "waitlist_entries"]) {
    yield* sql`ALTER TABLE ${sql(table)} ADD COLUMN items jsonb NOT NULL DEFAULT '[]'`
  }
  yield* sql`
    UPDATE bookings b SET items = jsonb_build_array(jsonb_build_object('ticketTypeId', t.id, 'count', b.tickets_count))
    FROM ticket_types t WHERE t.event_id = b.event_id AND t.is_default`
  yield* sql`
    UPDATE holds h SET items = jsonb_build_array(jsonb_build_object('ticketTypeId', t.id, 'count', h.tickets_count))
    FROM ticket_types t WHERE t.event_id = h.event_id AND t.is_default`
  yield* sql`
    UPDATE waitlist_entries w
    SET items = jsonb_build_array(jsonb_build_object('ticketTypeId', t.id, 'count', w.tickets_count, 'reserved', w.reserved))
    FROM ticket_types t WHERE t.event_id = w.event_id AND t.is_default`

  yield* sql`DROP FUNCTION inventory_state(jsonb)`
  yield* sql`
    CREATE FUNCTION inventory_state(needs jsonb)
    RETURNS TABLE ("eventId" int, "knownUsers" int[], types json, bookings json, tickets json, holds json, line json,
                   "customerTickets" json, "bookingIds" int[])
    LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    BEGIN
      RETURN QUERY
      SELECT n.id,
        ARRAY(SELECT u.id FROM users u WHERE u.id = ANY(n.customers)),
        (SELECT COALESCE(json_agg(json_build_object(
            'id', t.id, 'name', t.name, 'quota', t.quota, 'taken', t.taken, 'salesStart', t.sales_start,
            'salesEnd', t.sales_end, 'maxPerBooking', t.max_per_booking, 'isDefault', t.is_default) ORDER BY t.id), '[]')
          FROM ticket_types t WHERE t.event_id = n.id),
        (SELECT COALESCE(json_agg(json_build_object(
            'id', b.id, 'userId', b.user_id, 'ticketsCount', b.tickets_count, 'items', b.items, 'status', b.status,
            'cancelledAt', b.cancelled_at, 'holdId', b.hold_id, 'createdAt', b.created_at,
            'idempotencyId', b.idempotency_id, 'cancelIdempotencyId', b.cancel_idempotency_id)), '[]')
          FROM bookings b
          WHERE b.event_id = n.id AND (b.id = ANY(n.bookings) OR b.idempotency_id = ANY(n.keys))),
        CASE WHEN cardinality(n.bookings) > 0 THEN (
          SELECT COALESCE(json_agg(json_build_object(
              'id', k.id, 'bookingId', k.booking_id, 'code', k.code, 'ticketTypeId', k.ticket_type_id, 'status', k.status)
              ORDER BY k.id), '[]')
          FROM (SELECT * FROM tickets k WHERE k.booking_id = ANY(n.bookings) AND k.event_id = n.id FOR UPDATE) k)
        ELSE '[]' END,
        (SELECT COALESCE(json_agg(json_build_object(
            'id', h.id, 'userId', h.user_id, 'ticketsCount', h.tickets_count, 'items', h.items, 'status', h.status,
            'expiresAt', h.expires_at, 'entryId', h.waitlist_entry_id, 'createdAt', h.created_at, 'endedAt', h.ended_at,
            'idempotencyId', h.idempotency_id)), '[]')
          FROM holds h
          WHERE h.event_id = n.id
            AND (h.id = ANY(n.holds) OR h.idempotency_id = ANY(n.keys)
                 OR (h.status = 'HELD' AND (h.expires_at <= now() OR (l.loaded AND h.waitlist_entry_id IS NOT NULL))))),
        CASE WHEN l.loaded THEN (
          SELECT COALESCE(json_agg(json_build_object(
              'id', w.id, 'userId', w.user_id, 'ticketsCount', w.tickets_count, 'items', w.items, 'status', w.status,
              'reserved', w.reserved, 'passedOver', w.passed_over, 'createdAt', w.created_at, 'endedAt', w.ended_at)
              ORDER BY w.id), '[]')
          FROM waitlist_entries w WHERE w.event_id = n.id AND w.status IN ('WAITING', 'OFFERED')) END,
        (SELECT COALESCE(json_object_agg(t.user_id, t.tickets), '{}') FROM (
          SELECT x.user_id, sum(x.tickets)::int AS tickets FROM (
            SELECT b.user_id, b.tickets_count AS tickets FROM bookings b
            WHERE b.event_id = n.id AND b.user_id = ANY(n.customers) AND b.status = 'CONFIRMED'
            UNION ALL
            SELECT h.user_id, h.tickets_count FROM holds h
            WHERE h.event_id = n.id AND h.user_id = ANY(n.customers) AND h.status = 'HELD'
            UNION ALL
            SELECT w.user_id, w.tickets_count FROM waitlist_entries w
            WHERE w.event_id = n.id AND w.user_id = ANY(n.customers) AND w.status = 'WAITING'
          ) x GROUP BY x.user_id) t),
        ARRAY(SELECT nextval(pg_get_serial_sequence('bookings', 'id'))::int FROM generate_series(1, n.mint))
      FROM jsonb_to_recordset(needs) AS n(id int, line boolean, customers int[], bookings int[], holds int[], keys uuid[], mint int)
      CROSS JOIN LATERAL (SELECT n.line OR EXISTS (
        SELECT FROM holds h WHERE h.event_id = n.id AND h.status = 'HELD' AND h.expires_at <= now()) AS loaded) l;
    END
    $fn$`
})
