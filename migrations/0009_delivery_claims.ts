import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * A delivery is claimed, then sent, then recorded, each in a statement of its own (issue 17): no
 * transaction spans a send, so a lost connection cannot take back a claim or a send. A row with
 * no `sent_at` is a claim: held by `claimed_by` (one run of a job) until its lease, counted from
 * `claimed_at`, runs out, or given up (`claimed_by` null) when its send failed.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Rows written before were all recorded in the transaction that claimed them.
  yield* sql`
    ALTER TABLE deliveries
      ADD COLUMN claimed_by text,
      ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now(),
      ALTER COLUMN sent_at DROP NOT NULL,
      ALTER COLUMN sent_at DROP DEFAULT`
})
