import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE users (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('ORGANIZER', 'CUSTOMER')),
      created_at timestamptz NOT NULL DEFAULT now()
    )`
  yield* sql`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`

  yield* sql`
    CREATE TABLE events (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      organizer_id integer NOT NULL REFERENCES users (id),
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
      location text NOT NULL CHECK (length(location) BETWEEN 1 AND 200),
      date timestamptz NOT NULL,
      total_tickets integer NOT NULL CHECK (total_tickets BETWEEN 1 AND 1000000),
      available_tickets integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      deleted_at timestamptz,
      -- the last line of defence against overselling
      CONSTRAINT events_available_tickets_check CHECK (available_tickets BETWEEN 0 AND total_tickets)
    )`
  // GET /events: scheduled events by date
  yield* sql`CREATE INDEX events_listing_idx ON events (date, id) WHERE deleted_at IS NULL`
  yield* sql`CREATE INDEX events_organizer_idx ON events (organizer_id)`

  yield* sql`
    CREATE TABLE bookings (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id integer NOT NULL REFERENCES users (id),
      event_id integer NOT NULL REFERENCES events (id),
      tickets_count integer NOT NULL CHECK (tickets_count > 0),
      created_at timestamptz NOT NULL DEFAULT now()
    )`
  // GET /bookings/my-bookings: a user's bookings, newest first
  yield* sql`CREATE INDEX bookings_user_idx ON bookings (user_id, created_at DESC, id DESC)`
  yield* sql`CREATE INDEX bookings_event_idx ON bookings (event_id)`
})
