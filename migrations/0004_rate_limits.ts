import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // Rate-limit counters when no Redis is configured. UNLOGGED: no WAL for counters that live
  // minutes; a crash empties the table, which only forgives attempts.
  yield* sql`
    CREATE UNLOGGED TABLE rate_limits (
      key text PRIMARY KEY,
      hits integer NOT NULL,
      resets_at timestamptz NOT NULL
    )`
})
