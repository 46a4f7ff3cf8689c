/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database), says which, and exits. */
import { Console, Effect } from "effect"
import { databaseDescription, PostgresLive } from "../src/Storage/Database.ts"
import { migrate, migrationName } from "../src/Storage/Migrations.ts"
import { flags, runCli } from "./cli.ts"

runCli(Effect.gen(function*() {
  yield* flags([])
  const database = yield* databaseDescription
  const applied = yield* Effect.provide(migrate, PostgresLive)
  if (applied.length === 0) return yield* Console.log(`${database} is up to date: nothing to apply`)
  yield* Console.log(`${database}: applied ${applied.length} migration${applied.length === 1 ? "" : "s"}`)
  for (const migration of applied) yield* Console.log(`  ${migrationName(migration)}`)
}))
