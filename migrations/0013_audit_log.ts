import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The audit trail (issue 20): who changed what, when, from where. Append-only: a trigger refuses
 * UPDATE and DELETE of a row, a statement trigger TRUNCATE, whoever asks (the app never does;
 * `npm run db:reset` drops the schema, which no trigger sees). No foreign keys: an entry outlives
 * the user, event or booking it names. `at` is the transaction's time (now()), as the rows it
 * describes have. The two reads: an event's entries, and all of them, newest first, by time.
 * Entries are written by `audit_log_append(jsonb)`, many in one call.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE audit_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor_type text NOT NULL CHECK (actor_type IN ('user', 'system', 'admin')),
      actor_user_id integer,
      actor_role text,
      action text NOT NULL CHECK (action ~ '^[a-z_]+\\.[a-z_]+$'),
      subject_type text NOT NULL,
      subject_id bigint,
      event_id integer,
      changes jsonb NOT NULL DEFAULT '{}',
      request_id text,
      client_address text,
      CONSTRAINT audit_log_actor_check CHECK ((actor_type = 'user') = (actor_user_id IS NOT NULL AND actor_role IS NOT NULL))
    )`
  yield* sql`CREATE INDEX audit_log_event_idx ON audit_log (event_id, at, id) WHERE event_id IS NOT NULL`
  yield* sql`CREATE INDEX audit_log_at_idx ON audit_log (at, id)`
  // The one way entries are written: a JSON array of them, in order (ids follow it). A function, so
  // that its INSERT is planned once per connection, not for every batch that sends it as text.
  yield* sql`
    CREATE FUNCTION audit_log_append(entries jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO audit_log (actor_type, actor_user_id, actor_role, action, subject_type, subject_id, event_id, changes,
                             request_id, client_address)
      SELECT r.actor_type, r.actor_user_id, r.actor_role, r.action, r.subject_type, r.subject_id, r.event_id,
             COALESCE(r.changes, '{}'), r.request_id, r.client_address
      FROM jsonb_to_recordset(entries)
           AS r(n int, actor_type text, actor_user_id int, actor_role text, action text, subject_type text, subject_id bigint,
                event_id int, changes jsonb, request_id text, client_address text)
      ORDER BY r.n;
    END $fn$`
  yield* sql`
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'An audit entry is never changed or removed; write a new one.';
    END $$`
  yield* sql`
    CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`
  yield* sql`
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`
})
