import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Drafts: an event is published once published_at is set; a draft is inserted with NULL. The
  // default publishes rows written without it, as every event was before drafts existed (existing
  // rows take this migration's time, without rewriting the table).
  yield* sql`ALTER TABLE events ADD COLUMN published_at timestamptz DEFAULT now()`

  // The catalogue (GET /events) is published, not cancelled events; its indexes cover only those.
  // Trigrams serve both the words of `q` and the `location` substring with ILIKE '%…%' (a word
  // index would not find "conf" in "Conference"). pg_trgm ships with PostgreSQL (also the
  // embedded one) and is a trusted extension: a database owner may create it.
  yield* sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`
  yield* sql`DROP INDEX events_listing_idx`
  yield* sql`
    CREATE INDEX events_catalogue_date_idx ON events (date, id)
    WHERE deleted_at IS NULL AND published_at IS NOT NULL`
  yield* sql`
    CREATE INDEX events_catalogue_title_idx ON events (lower(title), id)
    WHERE deleted_at IS NULL AND published_at IS NOT NULL`
  // The expression must match the search's exactly (EventsRepo, searchText).
  yield* sql`
    CREATE INDEX events_catalogue_text_idx ON events
    USING gin ((title || ' ' || description || ' ' || location) gin_trgm_ops)
    WHERE deleted_at IS NULL AND published_at IS NOT NULL`
  yield* sql`
    CREATE INDEX events_catalogue_location_idx ON events USING gin (location gin_trgm_ops)
    WHERE deleted_at IS NULL AND published_at IS NOT NULL`
  // No index on available_tickets: every booking changes it, and an index on it would end HOT updates.

  // GET /events/mine: an organizer's events by date (also serves the foreign key).
  yield* sql`DROP INDEX events_organizer_idx`
  yield* sql`CREATE INDEX events_organizer_idx ON events (organizer_id, date, id)`
  // GET /events/:id/attendees: an event's bookings in the order they were made.
  yield* sql`DROP INDEX bookings_event_idx`
  yield* sql`CREATE INDEX bookings_event_idx ON bookings (event_id, id)`
})
