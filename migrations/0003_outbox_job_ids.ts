import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // The BullMQ job id of each row (`<name>-<job_id>`). Outbox ids restart with a new database (a
  // reset, a restore, a second deployment) while Redis still holds the old jobs, and BullMQ ignores
  // an id it holds: a random UUID is unique across databases, and stays the row's for every
  // re-publish. A column DEFAULT, so every INSERT INTO outbox (one row or many) gets one.
  yield* sql`ALTER TABLE outbox ADD COLUMN job_id text`
  // Rows already written keep the id BullMQ (and the delivery log's keys) already know them by.
  yield* sql`UPDATE outbox SET job_id = id::text`
  yield* sql`ALTER TABLE outbox ALTER COLUMN job_id SET DEFAULT gen_random_uuid()::text, ALTER COLUMN job_id SET NOT NULL`
})
