/**
 * For races on PostgreSQL made on purpose: a connection of the test's own, outside the app's pool
 * (to hold a lock while the app's statements queue behind it), and a wait until they do.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schedule } from "effect"
import pg from "pg"
import { inject } from "vitest"

/** Another connection to the test's database, outside the app's pool; closed with the scope. */
export const otherConnection = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [{ database }] = yield* sql<{ database: string }>`SELECT current_database() AS database`
  const url = new URL(inject("databaseUrl"))
  url.pathname = `/${database}`
  const connection = new pg.Client({ connectionString: url.toString() })
  yield* Effect.acquireRelease(Effect.promise(() => connection.connect()), () => Effect.promise(() => connection.end()))
  return connection
})

/**
 * Waits until `n` statements of the test's database wait for a lock, watching through `watcher`
 * (the app's pool may be all taken by the waiting statements).
 */
export const lockWaiters = (watcher: pg.Client, n: number) =>
  Effect.promise(() =>
    watcher.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
  ).pipe(
    Effect.filterOrFail(({ rows }) => rows[0]!.n >= n, () => `fewer than ${n} statements wait for the lock`),
    Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("20 seconds")))
  )
