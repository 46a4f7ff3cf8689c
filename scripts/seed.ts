/**
 * `npm run seed`: demo data (src/Demo/Seed.ts) in DATABASE_URL's database, or the embedded one,
 * migrated first. Adds only what is missing, so it can be run again; prints the logins.
 *   npm run seed [-- --allow-production]
 */
import { Console, Effect, Layer } from "effect"
import { DEMO_PASSWORD, logins, Seed } from "../src/Demo/Seed.ts"
import { JobCatalogueLive } from "../src/Jobs.ts"
import { AppConfig, bcryptCost } from "../src/Platform/Config.ts"
import { databaseDescription, DatabaseLive } from "../src/Storage/Database.ts"
import { flags, refuseInProduction, runCli } from "./cli.ts"

// The tool's settings: the configured bcrypt cost (logins then cost what they cost in the app), defaults otherwise.
const ToolConfig = Layer.unwrapEffect(Effect.map(bcryptCost, (cost) => AppConfig.layerTest({ BCRYPT_COST: cost })))

const pad = (text: string) => text.padEnd(10)

runCli(Effect.gen(function*() {
  const given = yield* flags(["--allow-production"])
  yield* refuseInProduction("npm run seed", given.has("--allow-production"))
  const database = yield* databaseDescription
  yield* Console.log(`Seeding ${database}`)
  const report = yield* Effect.flatMap(Seed, (seed) => seed.run).pipe(
    Effect.provide(Seed.layer.pipe(Layer.provide(DatabaseLive), Layer.provide(JobCatalogueLive), Layer.provide(ToolConfig)))
  )
  const tally = ({ created, total }: { created: number; total: number }) => `${total} (${created} new)`
  yield* Console.log(
    `  accounts ${tally(report.accounts)}, events ${tally(report.events)}, ticket types ${tally(report.ticketTypes)}, ` +
      `bookings ${tally(report.bookings)}`
  )
  for (const line of report.notBooked) yield* Console.log(`  not booked: ${line}`)
  yield* Console.log(`\nLogins (password "${DEMO_PASSWORD}" for every one):`)
  for (const { email, role } of logins) yield* Console.log(`  ${pad(role)} ${email}`)
}))
