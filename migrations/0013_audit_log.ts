import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The audit trail (issue 20): who changed what, when, from where. Append-only: a trigger refuses
 * UPDATE and DELETE of a row, a statement trigger TRUNCATE, whoever asks (the app never does;
 * `npm run db:reset` drops the schema, which no trigger sees). No foreign keys: an entry outlives
 * the user, event or booking it names. `at` is the transaction's time (now()), as the rows it
 * describes have. The two reads: an event's entries, and all of them, newest first, by time.
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
