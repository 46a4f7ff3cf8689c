import { Migrator, SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { migrations } from "../../migrations/index.ts"

const runMigrator = Migrator.make({})({ loader: Migrator.fromRecord(migrations) })

/**
 * Applies pending migrations. The advisory lock makes instances that start together take turns:
 * the Migrator's own table lock does not cover creating its table on a fresh database.
 */
export const migrate = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const applied = yield* sql.withTransaction(
    sql`SELECT pg_advisory_xact_lock(hashtext('event-booking:migrations'))`.pipe(Effect.zipRight(runMigrator))
  )
  for (const [id, name] of applied) yield* Effect.logInfo(`applied migration ${id}_${name}`)
})

export const MigrationsLive = Layer.effectDiscard(migrate)
