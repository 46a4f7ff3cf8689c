import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Jobs written in the transaction of the change they report; the relay publishes them to BullMQ.
  yield* sql`
    CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      queue text NOT NULL CHECK (queue IN ('email-queue', 'notification-queue')),
      name text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`
  // The relay's scan: pending rows in order. Pruning: published rows by age.
  yield* sql`CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL`
  yield* sql`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`

  // One row per email sent: a retried job finds its delivery here and does not send it again.
  yield* sql`
    CREATE TABLE deliveries (
      key text PRIMARY KEY,
      kind text NOT NULL,
      job_id text NOT NULL,
      recipient text NOT NULL,
      message_id text,
      sent_at timestamptz NOT NULL DEFAULT now()
    )`
})
