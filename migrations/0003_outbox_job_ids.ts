import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // The BullMQ job id of each row. Outbox ids restart with a new database (a reset, a restore, a
  // second deployment) while Redis still holds the old jobs, and BullMQ ignores an id it holds:
  // a random UUID is unique across databases, and stays the row's for every re-publish. A column
  // DEFAULT, so every INSERT INTO outbox (one row or many) gets one; the volatile default gives
  // each existing row its own, too.
  yield* sql`ALTER TABLE outbox ADD COLUMN job_id uuid NOT NULL DEFAULT gen_random_uuid()`
})
