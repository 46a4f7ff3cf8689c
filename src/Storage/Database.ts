import type { SqlError } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Option, Redacted } from "effect"
import { isProduction, optionalSecret } from "../Platform/Config.ts"
import { Refusal } from "../Platform/Refusal.ts"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { MigrationsLive } from "./Migrations.ts"

const EMBEDDED_DATA_DIR = ".data/postgres"

/** Which database PostgresLive connects to, for people (the URL without its password). */
export const databaseDescription = Effect.map(optionalSecret("DATABASE_URL"), (url) => {
  if (Option.isNone(url)) return `the embedded PostgreSQL in ./${EMBEDDED_DATA_DIR}`
  try {
    const { host, pathname, protocol, username } = new URL(Redacted.value(url.value))
    return `${protocol}//${username === "" ? "" : `${username}@`}${host}${pathname}`
  } catch {
    return "DATABASE_URL"
  }
})

/** A client of the server: a first connection that fails (no server, or one refusing the database or user) is a refusal. */
const connect = (config: PgClient.PgClientConfig) =>
  Effect.map(databaseDescription, (database) =>
    PgClient.layer(config).pipe(Layer.mapError((error: SqlError.SqlError) =>
      new Refusal({
        message: `cannot connect to ${database} (${
          error.cause instanceof Error ? error.cause.message : String(error.cause)
        }): start PostgreSQL there, or set DATABASE_URL to a database that answers`
      })
    )))

/**
 * The server at DATABASE_URL, or an embedded one when it is unset (not in production: the embedded
 * PostgreSQL is a development convenience, a devDependency absent from the production image).
 */
export const PostgresLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const databaseUrl = yield* optionalSecret("DATABASE_URL")
    if (Option.isSome(databaseUrl)) {
      return yield* connect({ url: databaseUrl.value })
    }
    if (yield* isProduction) {
      return yield* new Refusal({
        message: "DATABASE_URL is required when NODE_ENV=production (e.g. postgres://user:password@host:5432/booking); " +
          "the embedded PostgreSQL is for development only"
      })
    }
    yield* Effect.logInfo("DATABASE_URL is not set: starting an embedded PostgreSQL")
    // Its errors say what to do (stop the other server, install the devDependencies...).
    const embedded = yield* startEmbeddedPostgres(EMBEDDED_DATA_DIR).pipe(
      Effect.mapError(({ message }) => new Refusal({ message }))
    )
    return yield* connect({
      host: embedded.host,
      port: embedded.port,
      username: embedded.user,
      password: Redacted.make(embedded.password),
      database: "postgres"
    })
  })
)

/** A migrated PostgreSQL, ready before any traffic. */
export const DatabaseLive = MigrationsLive.pipe(Layer.provideMerge(PostgresLive))
