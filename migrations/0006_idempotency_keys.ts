import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Idempotency-Key per user (src/Idempotency/IdempotencyStore.ts). `id` is what the operation records
  // on what it creates (a booking's idempotency_id), so a retry after a crash finds it; it stays the
  // same when a retry takes over a key whose request died, and is new when an expired key is reused.
  // `attempt` names the request holding the key now: only it may store the response or let go.
  yield* sql`
    CREATE TABLE idempotency_keys (
      user_id integer NOT NULL,
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      id uuid NOT NULL,
      fingerprint text NOT NULL,
      attempt uuid NOT NULL,
      locked_until timestamptz,
      status smallint,
      body text,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, key),
      CHECK ((status IS NULL) = (body IS NULL))
    )`
  yield* sql`CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)`

  // The key's id on the booking it made, written in the booking's own transaction. Unique: the last
  // line of defence against booking one key twice (the engine looks it up first, under the event's lock).
  yield* sql`ALTER TABLE bookings ADD COLUMN idempotency_id uuid`
  yield* sql`CREATE UNIQUE INDEX bookings_idempotency_id_key ON bookings (idempotency_id) WHERE idempotency_id IS NOT NULL`
})
