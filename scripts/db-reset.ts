/**
 * `npm run db:reset`: empties DATABASE_URL's database, or the embedded one, and migrates it again
 * (src/Storage/DatabaseReset.ts). Asks first unless --yes; refuses in production unless
 * --allow-production.
 *   npm run db:reset [-- --yes] [--allow-production]
 */
import { Console, Effect } from "effect"
import { Refusal } from "../src/Platform/Refusal.ts"
import { databaseDescription, PostgresLive } from "../src/Storage/Database.ts"
import { otherSessions, resetDatabase } from "../src/Storage/DatabaseReset.ts"
import { confirm, flags, refuseInProduction, runCli } from "./cli.ts"

runCli(Effect.gen(function*() {
  const given = yield* flags(["--yes", "--allow-production"])
  yield* refuseInProduction("npm run db:reset", given.has("--allow-production"))
  const database = yield* databaseDescription
  yield* Effect.gen(function*() {
    const others = yield* otherSessions
    if (others > 0) {
      yield* Console.log(`${others} other connection(s) to this database are open: stop the server using it first.`)
    }
    if (!given.has("--yes")) {
      const sure = yield* confirm(`This deletes every account, event, booking and pending job in ${database}. Go on?`)
      if (!sure) return yield* new Refusal({ message: "nothing was changed" })
    }
    yield* resetDatabase
    yield* Console.log(`Reset ${database}: emptied and migrated again.`)
  }).pipe(Effect.provide(PostgresLive))
}))
