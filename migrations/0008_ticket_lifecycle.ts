import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Tickets come back (issue 9): cancelled bookings, holds that expire, the waiting list, sales
 * windows. The ledger of an event: total = available + held + booked, where held counts open
 * holds and the tickets kept back for a waiting group (`waitlist_entries.reserved`).
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Optional sales window; both bounds may be null.
  yield* sql`
    ALTER TABLE events
      ADD COLUMN sales_start timestamptz,
      ADD COLUMN sales_end timestamptz,
      ADD CONSTRAINT events_sales_window_check CHECK (sales_start < sales_end)`

  yield* sql`
    CREATE TABLE waitlist_entries (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id integer NOT NULL REFERENCES events (id),
      user_id integer NOT NULL REFERENCES users (id),
      tickets_count integer NOT NULL CHECK (tickets_count > 0),
      status text NOT NULL CHECK (status IN ('WAITING', 'OFFERED', 'ACCEPTED', 'EXPIRED', 'LEFT')),
      reserved integer NOT NULL DEFAULT 0,
      passed_over integer NOT NULL DEFAULT 0 CHECK (passed_over >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      CONSTRAINT waitlist_entries_reserved_check CHECK (reserved >= 0 AND reserved < tickets_count AND (reserved = 0 OR status = 'WAITING')),
      CONSTRAINT waitlist_entries_ended_check CHECK ((status IN ('WAITING', 'OFFERED')) = (ended_at IS NULL))
    )`
  // The line of an event, in order; a customer's entries.
  yield* sql`CREATE INDEX waitlist_entries_line_idx ON waitlist_entries (event_id, id) WHERE status IN ('WAITING', 'OFFERED')`
  // Checked at commit: one batch may end a customer's entry and open a new one (leave, then join),
  // and the statement writing both orders neither.
  yield* sql`
    ALTER TABLE waitlist_entries ADD CONSTRAINT waitlist_entries_one_open_key
    EXCLUDE USING btree (event_id WITH =, user_id WITH =) WHERE (status IN ('WAITING', 'OFFERED'))
    DEFERRABLE INITIALLY DEFERRED`
  yield* sql`CREATE INDEX waitlist_entries_user_idx ON waitlist_entries (user_id) WHERE status IN ('WAITING', 'OFFERED')`

  yield* sql`
    CREATE TABLE holds (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id integer NOT NULL REFERENCES events (id),
      user_id integer NOT NULL REFERENCES users (id),
      tickets_count integer NOT NULL CHECK (tickets_count > 0),
      status text NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
      expires_at timestamptz NOT NULL,
      waitlist_entry_id integer REFERENCES waitlist_entries (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      -- The Idempotency-Key id of the request that placed it (as bookings.idempotency_id, migration 0006).
      idempotency_id uuid,
      CONSTRAINT holds_ended_check CHECK ((status = 'HELD') = (ended_at IS NULL))
    )`
  // Open holds of an event by expiry (the batch expires due ones), all due holds (the sweep),
  // a customer's open holds, an entry's offer.
  yield* sql`CREATE INDEX holds_open_idx ON holds (event_id, expires_at) WHERE status = 'HELD'`
  yield* sql`CREATE INDEX holds_due_idx ON holds (expires_at) WHERE status = 'HELD'`
  yield* sql`CREATE INDEX holds_user_idx ON holds (user_id) WHERE status = 'HELD'`
  yield* sql`CREATE INDEX holds_entry_idx ON holds (waitlist_entry_id) WHERE waitlist_entry_id IS NOT NULL`
  // A retry of the request that placed a hold finds it by its Idempotency-Key id instead of holding twice.
  yield* sql`CREATE UNIQUE INDEX holds_idempotency_id_key ON holds (idempotency_id) WHERE idempotency_id IS NOT NULL`

  yield* sql`
    ALTER TABLE bookings
      ADD COLUMN status text NOT NULL DEFAULT 'CONFIRMED' CHECK (status IN ('CONFIRMED', 'CANCELLED')),
      ADD COLUMN cancelled_at timestamptz,
      ADD COLUMN hold_id integer REFERENCES holds (id),
      -- The Idempotency-Key id of the request that cancelled it: a retry gets the cancelled booking, not a 409.
      ADD COLUMN cancel_idempotency_id uuid,
      ADD CONSTRAINT bookings_cancelled_check CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL))`
  // A hold becomes at most one booking.
  yield* sql`CREATE UNIQUE INDEX bookings_hold_key ON bookings (hold_id) WHERE hold_id IS NOT NULL`
  // A customer's tickets for an event (the per-customer limit, the attendees of a notice).
  yield* sql`CREATE INDEX bookings_event_user_idx ON bookings (event_id, user_id) WHERE status = 'CONFIRMED'`

  // Delayed jobs (a hold's expiry): published to BullMQ with the delay left until run_at.
  yield* sql`ALTER TABLE outbox ADD COLUMN run_at timestamptz`
  yield* sql`ALTER TABLE outbox DROP CONSTRAINT outbox_queue_check`
  yield* sql`ALTER TABLE outbox ADD CONSTRAINT outbox_queue_check CHECK (queue IN ('email-queue', 'notification-queue', 'holds-queue'))`
})
