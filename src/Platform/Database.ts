import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Redacted } from "effect"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { MigrationsLive } from "./Migrations.ts"

const EMBEDDED_DATA_DIR = ".data/postgres"

/** The server at DATABASE_URL, or an embedded one when it is unset. */
const PgLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const databaseUrl = yield* Config.option(Config.redacted("DATABASE_URL"))
    if (Option.isSome(databaseUrl)) return PgClient.layer({ url: databaseUrl.value })
    yield* Effect.logInfo("DATABASE_URL is not set: starting an embedded PostgreSQL")
    const embedded = yield* startEmbeddedPostgres(EMBEDDED_DATA_DIR)
    return PgClient.layer({
      host: embedded.host,
      port: embedded.port,
      username: embedded.user,
      password: Redacted.make(embedded.password),
      database: "postgres"
    })
  })
)

/** A migrated PostgreSQL, ready before any traffic. */
export const DatabaseLive = MigrationsLive.pipe(Layer.provideMerge(PgLive))
