/**
 * `npm run db:reset`: empties the application's database as if it were new. Everything the app
 * keeps there lives in two schemas, `public` (our tables, the migrations' own) and `bullmq` (the
 * queue's PostgreSQL backend, recreated at start-up), so both are dropped and the migrations run
 * again, all in one transaction: a reset that fails changes nothing. Redis is left alone: the new
 * database gets a new queue namespace (migration 0005), so jobs of the old one are never taken.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { migrate } from "./Migrations.ts"

/** Other sessions on this database (a server still running on it, say). */
export const otherSessions = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  SqlSchema.single({
    Request: Schema.Void,
    Result: Schema.Struct({ count: Schema.Int }),
    execute: () =>
      sql`
        SELECT count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`
  })(undefined)).pipe(
    Effect.map((row) => row.count),
    Effect.catchTags({ ParseError: Effect.die, NoSuchElementException: Effect.die })
  )

export const resetDatabase = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.withTransaction(Effect.gen(function*() {
    // A server still using the database holds locks: fail rather than wait for it forever.
    yield* sql`SET LOCAL lock_timeout = '10s'`
    yield* sql`DROP SCHEMA IF EXISTS bullmq CASCADE`
    yield* sql`DROP SCHEMA IF EXISTS public CASCADE`
    yield* sql`CREATE SCHEMA public`
    yield* migrate
  })))
