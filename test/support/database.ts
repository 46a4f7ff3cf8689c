/** A fresh, migrated database per test file, dropped when the file's layer is released. */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { inject } from "vitest"
import { MigrationsLive } from "../../src/Storage/Migrations.ts"

const serverUrl = () => new URL(inject("databaseUrl"))

const withServer = <A, E>(use: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
  Effect.scoped(
    Layer.build(PgClient.layer({ url: Redacted.make(serverUrl().toString()), maxConnections: 1 })).pipe(
      Effect.flatMap((context) => use(Context.get(context, SqlClient.SqlClient)))
    )
  )

/** The URL of a new empty database on the test server, dropped when the scope closes. */
export const freshDatabaseUrl = Effect.gen(function*() {
  const name = `event_booking_test_${randomBytes(6).toString("hex")}`
  yield* Effect.acquireRelease(
    withServer((sql) => sql`CREATE DATABASE ${sql(name)}`),
    () => withServer((sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`).pipe(Effect.orDie)
  ).pipe(Effect.orDie)
  const url = serverUrl()
  url.pathname = `/${name}`
  return url.toString()
})

export const TestDatabaseLive = Layer.unwrapScoped(
  Effect.map(
    freshDatabaseUrl,
    (url) => MigrationsLive.pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(url), maxConnections: 20 })))
  )
)
