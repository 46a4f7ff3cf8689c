import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // This database's own part of Redis: BullMQ keys live under `<QUEUE_PREFIX>:<namespace>`, so the
  // workers of another database on the same Redis (a second deployment, or one from before a
  // reset) never take its jobs, whose ids (bookings, users, events) mean nothing there. A restore
  // brings the namespace back with the rows its jobs refer to.
  yield* sql`
    CREATE TABLE queue_namespace (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      only_row boolean NOT NULL DEFAULT true UNIQUE CHECK (only_row)
    )`
  yield* sql`INSERT INTO queue_namespace DEFAULT VALUES`
  // Jobs published before this (under the bare prefix) may still wait there, where no worker looks
  // any more: publish the last day's again. The delivery log makes a second run of a job that did
  // run send nothing (its keys are unchanged: same booking, same job id).
  yield* sql`UPDATE outbox SET published_at = NULL WHERE published_at > now() - interval '1 day'`
})
