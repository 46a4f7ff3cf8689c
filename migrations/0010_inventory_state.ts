import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The booking engine's read, as a function: PL/pgSQL keeps the plan of its query for the session,
 * where the same query sent as text was parsed and planned for every transaction (~1 ms of the
 * database's time, most of a lone booking's first round trip; measured in docs/performance.md).
 * The engine calls it right after locking the events, in the same message as BEGIN and the lock
 * (src/Inventory/InventoryRepo.ts); being a statement of its own, it reads as of after the lock.
 *
 * `needs`: one object per event: `id`, `line` (its waiting list is needed), `customers` (whose
 * tickets count against the per-customer limit), `bookings`/`holds` (named by id) and `keys`
 * (Idempotency-Key ids whose bookings or holds answer their repeats), and `mint`: how many
 * booking ids to draw (as many as it has operations that may make a booking), so that the engine
 * can write its bookings and their jobs in the message that commits them. Ids drawn and not used
 * are gaps, as a rolled-back insert leaves. A change to the query is a new migration with CREATE
 * OR REPLACE.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE FUNCTION inventory_state(needs jsonb)
    RETURNS TABLE ("eventId" int, "knownUsers" int[], bookings json, holds json, line json, "customerTickets" json,
                   "bookingIds" int[])
    LANGUAGE plpgsql AS $fn$
    #variable_conflict use_column
    BEGIN
      RETURN QUERY
      SELECT n.id,
        ARRAY(SELECT u.id FROM users u WHERE u.id = ANY(n.customers)),
        (SELECT COALESCE(json_agg(json_build_object(
            'id', b.id, 'userId', b.user_id, 'ticketsCount', b.tickets_count, 'status', b.status,
            'cancelledAt', b.cancelled_at, 'holdId', b.hold_id, 'createdAt', b.created_at,
            'idempotencyId', b.idempotency_id, 'cancelIdempotencyId', b.cancel_idempotency_id)), '[]')
          FROM bookings b
          WHERE b.event_id = n.id AND (b.id = ANY(n.bookings) OR b.idempotency_id = ANY(n.keys))),
        (SELECT COALESCE(json_agg(json_build_object(
            'id', h.id, 'userId', h.user_id, 'ticketsCount', h.tickets_count, 'status', h.status,
            'expiresAt', h.expires_at, 'entryId', h.waitlist_entry_id, 'createdAt', h.created_at, 'endedAt', h.ended_at,
            'idempotencyId', h.idempotency_id)), '[]')
          FROM holds h
          WHERE h.event_id = n.id
            AND (h.id = ANY(n.holds) OR h.idempotency_id = ANY(n.keys)
                 OR (h.status = 'HELD' AND (h.expires_at <= now() OR (l.loaded AND h.waitlist_entry_id IS NOT NULL))))),
        CASE WHEN l.loaded THEN (
          SELECT COALESCE(json_agg(json_build_object(
              'id', w.id, 'userId', w.user_id, 'ticketsCount', w.tickets_count, 'status', w.status, 'reserved', w.reserved,
              'passedOver', w.passed_over, 'createdAt', w.created_at, 'endedAt', w.ended_at) ORDER BY w.id), '[]')
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
