import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Webhooks (issue 20): each organizer's endpoints, and one delivery per (endpoint, event) with
 * where its attempts stand. The outbox carries their jobs on a queue of their own.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE webhook_endpoints (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      organizer_id integer NOT NULL REFERENCES users (id),
      url text NOT NULL CHECK (length(url) <= 2048),
      description text CHECK (length(description) <= 500),
      events text[] NOT NULL CHECK (cardinality(events) > 0),
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      secret text NOT NULL,
      -- A rotated secret keeps signing beside the new one until previous_secret_until.
      previous_secret text,
      previous_secret_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`
  // What the outbox asks in the transaction of every change: has this organizer an enabled endpoint?
  yield* sql`CREATE INDEX webhook_endpoints_enabled_idx ON webhook_endpoints (organizer_id) WHERE enabled`
  yield* sql`CREATE INDEX webhook_endpoints_organizer_idx ON webhook_endpoints (organizer_id, id)`
  yield* sql`
    CREATE TABLE webhook_deliveries (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      endpoint_id integer NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      -- The webhook-id header: the same on every attempt of this delivery.
      message_id text NOT NULL UNIQUE,
      -- The event this delivery carries (its outbox job's id): one delivery per endpoint and event.
      event_key text NOT NULL,
      event_type text NOT NULL,
      -- The body as sent, the same on every attempt.
      body text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      -- The attempts made before the current round of the retry schedule (a retry by hand starts one).
      round_start integer NOT NULL DEFAULT 0 CHECK (round_start >= 0 AND round_start <= attempts),
      last_status integer,
      last_error text,
      next_attempt_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (endpoint_id, event_key)
    )`
  yield* sql`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC)`
  yield* sql`ALTER TABLE outbox DROP CONSTRAINT outbox_queue_check`
  yield* sql`
    ALTER TABLE outbox ADD CONSTRAINT outbox_queue_check
      CHECK (queue IN ('email-queue', 'notification-queue', 'holds-queue', 'webhook-queue'))`
})
