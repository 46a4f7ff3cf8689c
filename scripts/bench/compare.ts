/**
 * Compares server builds side by side: each bundle (a copy of dist/src/main.js, or "ceiling" for
 * the one-endpoint HttpApi server's /ping) is started once, API only, on one scratch database with
 * 20 events, and they are loaded in turn, `rounds` times 2 s at 64 connections. Turn by turn they
 * share the machine's ups and downs, so their CPU per request compares where separate runs of
 * scenario.ts, a third apart on this shared machine, would not. A bundle may name its young
 * generation: `build.js:16` runs with `--max-semi-space-size=16` (npm start's flags otherwise).
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/compare.ts <health|events> <rounds> <bundle.js[:MB]|ceiling>...
 */
import { randomBytes } from "node:crypto"
import pg from "pg"
import { load } from "./load.ts"
import { type Child, npmStartFlags, settle, startChild } from "./processes.ts"
import { scratchDatabase } from "./scratch.ts"

const [path = "events", roundsArg = "8", ...variants] = process.argv.slice(2)
const rounds = Number(roundsArg)
const START_FLAGS = npmStartFlags()

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const main = async () => {
  if (variants.length === 0) throw new Error("usage: DATABASE_URL=… compare.ts <health|events> <rounds> <bundle.js[:MB]|ceiling>...")
  const database = await scratchDatabase("compare")
  const children: Array<Child> = []
  try {
    const env = { DATABASE_URL: database.url, NODE_ENV: "production", JWT_SECRET: randomBytes(32).toString("hex"), RUN_WORKERS: "false" }
    const servers: Array<{ readonly child: Child; readonly url: string }> = []
    for (const variant of variants) {
      const [bundle, semiSpace] = variant.split(":")
      const flags = semiSpace === undefined ? START_FLAGS : ["--single-threaded-gc", `--max-semi-space-size=${semiSpace}`]
      const child = await startChild(children, bundle === "ceiling" ? "dist/scripts/bench/ceiling-httpapi.js" : bundle!, env, flags)
      servers.push({ child, url: bundle === "ceiling" ? `${child.url}/ping` : `${child.url}/api/${path}` })
    }
    const db = new pg.Client({ connectionString: database.url })
    await db.connect()
    const { rows: [organizer] } = await db.query<{ id: number }>(
      `INSERT INTO users (email, password_hash, role) VALUES ('organizer@compare.example', 'not a hash', 'ORGANIZER') RETURNING id`
    )
    await db.query(
      `WITH e AS (
         INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
         SELECT $1, 'Event ' || n, 'Arena', '2099-06-01', 1000, 1000 FROM generate_series(1, 20) n RETURNING id)
       INSERT INTO ticket_types (event_id, name, price_cents, quota, is_default)
       SELECT id, 'General admission', 0, 1000, true FROM e`,
      [organizer!.id]
    )
    await db.end()
    for (const { url } of servers) await load({ url, connections: 64, seconds: 2 }) // warm-up
    const cpuMs = servers.map(() => 0)
    const requests = servers.map(() => 0)
    const rates: Array<Array<number>> = servers.map(() => [])
    for (let round = 0; round < rounds; round++) {
      for (const [i, { child, url }] of servers.entries()) {
        await settle(child)
        const before = child.cpuMs()
        const run = await load({ url, connections: 64, seconds: 2 })
        cpuMs[i]! += child.cpuMs() - before
        requests[i]! += run.ok + run.failed
        rates[i]!.push(run.perSecond)
      }
    }
    for (const [i, variant] of variants.entries()) {
      console.log(
        `${variant}: ${(cpuMs[i]! / requests[i]!).toFixed(3)} ms of CPU per request, median ${median(rates[i]!)} req/s, ` +
          `RSS ${servers[i]!.child.rssMb()} MB after`
      )
    }
  } finally {
    for (const child of children) await child.stop()
    await database.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
