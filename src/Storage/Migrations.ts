import { Migrator, SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { migrations } from "../../migrations/index.ts"

const runMigrator = Migrator.make({})({ loader: Migrator.fromRecord(migrations) })

/**
 * Applies pending migrations, and answers them (id and name). The advisory lock makes instances
 * that start together take turns: the Migrator's own table lock does not cover creating that table
 * on a fresh database, so it is created here, under the lock, with the Migrator's definition.
 */
export const migrate = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql`SELECT pg_advisory_xact_lock(hashtext('event-booking:migrations'))`
    yield* sql`
      CREATE TABLE IF NOT EXISTS effect_sql_migrations (
        migration_id integer PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        name text NOT NULL
      )`
    return yield* runMigrator
  }))
})

/** A migration as its file in migrations/ is named (`0001_create_tables`). */
export const migrationName = ([id, name]: readonly [number, string]) => `${String(id).padStart(4, "0")}_${name}`

export const MigrationsLive = Layer.effectDiscard(
  Effect.flatMap(migrate, Effect.forEach((migration) => Effect.logInfo(`applied migration ${migrationName(migration)}`)))
)
