import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The engine's one-round-trip batch (src/Inventory/Remembered.ts): a process remembers an event's
 * state after a batch that only took tickets, and decides the next such batch from it, its write
 * sent with BEGIN and COMMIT in one message. Two functions (PL/pgSQL: their plans are kept for the
 * session):
 *
 * - `inventory_versions(event_ids)`: per event, a version that changes with every change of what
 *   such a batch is decided on (the event's row and its ticket types' rows, by their `xmin`: every
 *   engine write rewrites the event's row, an organizer's edit rewrites the row it edits; and its
 *   open holds' first expiry, should anything but the engine move one), and that first expiry on
 *   its own (a hold falling due changes no row: the engine reads once it is near).
 * - `inventory_unchanged(event_ids, versions, decided_at, margin, newcomers, keys)`: locks the
 *   events in id order and raises SQLSTATE IV001 unless their versions are still those remembered,
 *   the database's clock is within `margin` of the one the batch was decided by, each newcomer
 *   (`[{event, customer}]`: a customer the process had not counted on that event) has an account
 *   and no tickets of the event (no confirmed booking, open hold or waiting entry), and no booking
 *   or hold was made under any of `keys` (Idempotency-Key ids). The error aborts the transaction
 *   before anything is written; the engine then reads and decides again.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE FUNCTION inventory_versions(event_ids int[])
    RETURNS TABLE (id int, version text, "nextExpiry" timestamptz)
    LANGUAGE plpgsql AS $fn$
    BEGIN
      RETURN QUERY
      SELECT e.id,
        e.xmin::text || ';' || COALESCE(
          (SELECT string_agg(t.id || ':' || t.xmin::text, ',' ORDER BY t.id) FROM ticket_types t WHERE t.event_id = e.id), '')
          || ';' || COALESCE(x.first::text, ''),
        x.first
      FROM events e
      CROSS JOIN LATERAL (SELECT min(h.expires_at) AS first FROM holds h WHERE h.event_id = e.id AND h.status = 'HELD') x
      WHERE e.id = ANY(event_ids)
      ORDER BY e.id;
    END
    $fn$`
  yield* sql`
    CREATE FUNCTION inventory_unchanged(event_ids int[], versions text[], decided_at timestamptz, margin interval, newcomers jsonb,
                                        keys uuid[])
    RETURNS void
    LANGUAGE plpgsql AS $fn$
    BEGIN
      PERFORM FROM events e WHERE e.id = ANY(event_ids) ORDER BY e.id FOR UPDATE;
      IF ARRAY(SELECT v.version FROM inventory_versions(event_ids) v ORDER BY v.id) IS DISTINCT FROM versions
         OR now() NOT BETWEEN decided_at - margin AND decided_at + margin
         OR EXISTS (
           SELECT FROM jsonb_to_recordset(newcomers) AS n(event int, customer int)
           WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = n.customer)
              OR EXISTS (SELECT FROM bookings b WHERE b.event_id = n.event AND b.user_id = n.customer AND b.status = 'CONFIRMED')
              OR EXISTS (SELECT FROM holds h WHERE h.event_id = n.event AND h.user_id = n.customer AND h.status = 'HELD')
              OR EXISTS (SELECT FROM waitlist_entries w WHERE w.event_id = n.event AND w.user_id = n.customer AND w.status = 'WAITING'))
         OR EXISTS (SELECT FROM bookings b WHERE b.idempotency_id = ANY(keys))
         OR EXISTS (SELECT FROM holds h WHERE h.idempotency_id = ANY(keys)) THEN
        RAISE EXCEPTION 'the events changed since the engine remembered them' USING ERRCODE = 'IV001';
      END IF;
    END
    $fn$`
})
