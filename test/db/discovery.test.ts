/** Finding and running events (issue 10) over HTTP, on PostgreSQL: the same suite as test/http/discovery.test.ts. */
import { SqlClient } from "@effect/sql"
import { describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { discoverySuite } from "../support/discovery.ts"
import { PostgresServer } from "../support/server.ts"

describe("on PostgreSQL", () => {
  // One customer books many tickets here: the per-customer limit is not the subject.
  layer(PostgresServer({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 1_000 }), { excludeTestServices: true })((it) => {
    discoverySuite(it, {
      setEventDate: (id, date) =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE events SET date = ${date} WHERE id = ${id}`).pipe(Effect.orDie),
      setBookingTime: (id, at) =>
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE bookings SET created_at = ${at} WHERE id = ${id}`).pipe(Effect.orDie)
    })
  })
})
