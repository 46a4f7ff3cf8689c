import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * A check-in at the door takes an Idempotency-Key (src/Tickets/): the key's id is recorded on the
 * ticket it checked in, as bookings.idempotency_id is on a booking (migration 0006), so a retry
 * after a crash between the check-in's commit and its stored response gets the same 200, not 409
 * AlreadyCheckedIn. Undoing the check-in clears it.
 */
export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE tickets ADD COLUMN check_in_idempotency_id uuid`
})
