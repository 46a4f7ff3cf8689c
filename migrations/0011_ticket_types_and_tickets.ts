import { SqlClient } from "@effect/sql"
import { base32crockford } from "@scure/base"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"

/**
 * Tickets people carry (issue 19): an event sells one or more ticket types sharing its capacity,
 * and every ticket of a booking is a row with its own code.
 *
 * - `ticket_types.taken`: tickets of the type no longer on sale (sold, held, kept back for the
 *   waiting list), kept by the engine beside `events.available_tickets`; what is left of a type is
 *   the smaller of `quota - taken` and the event's tickets left. The CHECKs are the last line of
 *   defence against overselling a type, as `events_available_tickets_check` is for the event.
 * - Every event has exactly one default type (a booking that names none books it): existing events
 *   get "General admission", free, its quota the event's capacity, taking what is already taken.
 * - `tickets`: one row per ticket of a booking, with its code (see src/Domain/TicketCode.ts) and
 *   its state at the door. Existing bookings get their tickets here.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  yield* sql`
    ALTER TABLE events ADD COLUMN currency text NOT NULL DEFAULT 'EUR'
      CONSTRAINT events_currency_check CHECK (currency ~ '^[A-Z]{3}$')`

  yield* sql`
    CREATE TABLE ticket_types (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id integer NOT NULL REFERENCES events (id),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
      price_cents integer NOT NULL CHECK (price_cents >= 0),
      quota integer CHECK (quota > 0),
      taken integer NOT NULL DEFAULT 0,
      sales_start timestamptz,
      sales_end timestamptz,
      max_per_booking integer CHECK (max_per_booking > 0),
      is_default boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ticket_types_taken_check CHECK (taken >= 0 AND (quota IS NULL OR taken <= quota)),
      CONSTRAINT ticket_types_sales_window_check CHECK (sales_start < sales_end)
    )`
  yield* sql`CREATE UNIQUE INDEX ticket_types_default_key ON ticket_types (event_id) WHERE is_default`
  yield* sql`CREATE UNIQUE INDEX ticket_types_name_key ON ticket_types (event_id, lower(name))`
  yield* sql`
    INSERT INTO ticket_types (event_id, name, price_cents, quota, taken, is_default)
    SELECT id, 'General admission', 0, total_tickets, total_tickets - available_tickets, true FROM events ORDER BY id`

  yield* sql`
    CREATE TABLE tickets (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      code text NOT NULL CONSTRAINT tickets_code_key UNIQUE,
      booking_id integer NOT NULL REFERENCES bookings (id),
      event_id integer NOT NULL REFERENCES events (id),
      ticket_type_id integer NOT NULL REFERENCES ticket_types (id),
      status text NOT NULL CHECK (status IN ('VALID', 'CANCELLED', 'CHECKED_IN')),
      checked_in_at timestamptz,
      cancelled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT tickets_checked_in_check CHECK ((status = 'CHECKED_IN') = (checked_in_at IS NOT NULL)),
      CONSTRAINT tickets_cancelled_check CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL))
    )`
  // A booking's tickets; an event's tickets by type (its stats).
  yield* sql`CREATE INDEX tickets_booking_idx ON tickets (booking_id, id)`
  yield* sql`CREATE INDEX tickets_event_type_idx ON tickets (event_id, ticket_type_id)`

  // The tickets of existing bookings, in batches; the codes as src/Domain/TicketCode.ts makes them
  // (copied: a migration stays as it was when it ran).
  const newCode = () => base32crockford.encode(randomBytes(13)).slice(0, 20).match(/.{5}/g)!.join("-")
  for (let after = 0;;) {
    const rows = yield* sql<{ id: number; eventId: number; typeId: number; tickets: number; cancelledAt: Date | null }>`
      SELECT b.id, b.event_id AS "eventId", t.id AS "typeId", b.tickets_count AS tickets, b.cancelled_at AS "cancelledAt"
      FROM bookings b JOIN ticket_types t ON t.event_id = b.event_id AND t.is_default
      WHERE b.id > ${after} ORDER BY b.id LIMIT 1000`
    if (rows.length === 0) break
    const tickets = rows.flatMap((row) =>
      Array.from({ length: row.tickets }, () => ({
        code: newCode(),
        booking_id: row.id,
        event_id: row.eventId,
        ticket_type_id: row.typeId,
        status: row.cancelledAt === null ? "VALID" : "CANCELLED",
        cancelled_at: row.cancelledAt
      }))
    )
    yield* sql`INSERT INTO tickets ${sql.insert(tickets)}`
    after = rows[rows.length - 1]!.id
  }
})
