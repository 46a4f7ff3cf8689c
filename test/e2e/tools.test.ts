/**
 * `npm run seed` and `npm run db:reset` as a user runs them: against DATABASE_URL, and against the
 * embedded default (in a directory of their own, where `./.data/postgres` is created).
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Layer, Redacted, Scope } from "effect"
import { spawn } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDatabaseUrl } from "../support/database.ts"
import { buildOnce, cleanUp, embeddedWorkdir, exited, postmasterPid, ROOT } from "../support/process.ts"

interface Run {
  readonly code: number | null | "timeout"
  readonly output: string
}

/** `npm run <script> -- <args>` in the project, or the compiled script itself in `cwd`; `input` is typed in. */
const tool = async (
  script: "seed" | "db:reset",
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly cwd?: string; readonly input?: string } = {}
): Promise<Run> => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", ...options.env }
  const file = join(ROOT, "dist/scripts", script === "seed" ? "seed.js" : "db-reset.js")
  const child = options.cwd === undefined
    ? spawn("npm", ["run", "--silent", script, ...(args.length > 0 ? ["--", ...args] : [])], { cwd: ROOT, env, detached: true })
    : spawn(process.execPath, [file, ...args], { cwd: options.cwd, env, detached: true })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  child.stdin.end(options.input ?? "")
  try {
    return { code: await exited(child, 90_000), output }
  } finally {
    cleanUp({ process: child })
  }
}

beforeAll(buildOnce, 120_000)

/** The logins block the seed prints. */
const loginsOf = (output: string) => output.slice(output.indexOf("Logins"))

describe("npm run seed and npm run db:reset on DATABASE_URL", () => {
  const scope = Effect.runSync(Scope.make())
  let databaseUrl: string
  const countUsers = () =>
    Effect.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ count: number }>`SELECT count(*)::int AS count FROM users`).pipe(
        Effect.map((rows) => rows[0]!.count),
        Effect.provide(Layer.orDie(PgClient.layer({ url: Redacted.make(databaseUrl), maxConnections: 1 }))),
        Effect.scoped
      )
    )

  beforeAll(async () => {
    databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
  })
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

  it("seed: twice in a row, the same logins, nothing new the second time", async () => {
    const first = await tool("seed", [], { env: { DATABASE_URL: databaseUrl } })
    expect(first.code, first.output).toBe(0)
    expect(first.output).toContain("accounts 4 (4 new), events 12 (12 new), ticket types 17 (17 new), bookings 9 (9 new)")
    expect(first.output).toContain("Logins (password \"demo-password\" for every one):")
    expect(first.output).toMatch(/ORGANIZER\s+organizer@demo\.example\.com/)

    const second = await tool("seed", [], { env: { DATABASE_URL: databaseUrl } })
    expect(second.code, second.output).toBe(0)
    expect(second.output).toContain("accounts 4 (0 new), events 12 (0 new), ticket types 17 (0 new), bookings 9 (0 new)")
    expect(loginsOf(second.output)).toBe(loginsOf(first.output))
    expect(await countUsers()).toBe(4)
  }, 120_000)

  it("both refuse in production unless --allow-production (then they do their work)", async () => {
    for (const [script, args] of [["seed", []], ["db:reset", ["--yes"]]] as const) {
      const refused = await tool(script, args, { env: { DATABASE_URL: databaseUrl, NODE_ENV: "production" } })
      expect(refused.code, refused.output).toBe(1)
      expect(refused.output).toContain(
        `NODE_ENV=production: npm run ${script} refuses to touch a production database; add --allow-production`
      )
    }
    expect(await countUsers()).toBe(4)
    const allowed = await tool("seed", ["--allow-production"], { env: { DATABASE_URL: databaseUrl, NODE_ENV: "production" } })
    expect(allowed.code, allowed.output).toBe(0)
    expect(allowed.output).toContain("accounts 4 (0 new)")
  }, 60_000)

  it("db:reset asks first: no answer, or anything but yes, changes nothing", async () => {
    for (const input of ["", "no\n"]) {
      const declined = await tool("db:reset", [], { env: { DATABASE_URL: databaseUrl }, input })
      expect(declined.code, declined.output).toBe(1)
      expect(declined.output).toContain("This deletes every account, event, booking and pending job in postgres://")
      expect(declined.output).toContain("error: nothing was changed")
    }
    expect(await countUsers()).toBe(4)
  }, 60_000)

  it("db:reset with a typed yes, or --yes, empties the database and migrates it", async () => {
    const confirmed = await tool("db:reset", [], { env: { DATABASE_URL: databaseUrl }, input: "yes\n" })
    expect(confirmed.code, confirmed.output).toBe(0)
    expect(confirmed.output).toContain("emptied and migrated again")
    expect(await countUsers()).toBe(0)
    const unasked = await tool("db:reset", ["--yes"], { env: { DATABASE_URL: databaseUrl } })
    expect(unasked.code, unasked.output).toBe(0)
    expect(unasked.output).not.toContain("Go on?")
    expect(await countUsers()).toBe(0)
  }, 60_000)

  it("refuses an unknown argument", async () => {
    const run = await tool("db:reset", ["--force"], { env: { DATABASE_URL: databaseUrl } })
    expect(run.code).toBe(1)
    expect(run.output).toContain("error: unknown argument --force; known: --yes --allow-production")
  }, 30_000)
})

describe("npm run seed and npm run db:reset on the embedded default", () => {
  it("seed twice (same logins), then reset: each run starts and stops ./.data/postgres", async () => {
    const { dataDir, directory } = embeddedWorkdir()
    try {
      const first = await tool("seed", [], { cwd: directory })
      expect(first.code, first.output).toBe(0)
      expect(first.output).toContain("Seeding the embedded PostgreSQL in ./.data/postgres")
      expect(first.output).toContain("accounts 4 (4 new), events 12 (12 new), ticket types 17 (17 new), bookings 9 (9 new)")
      expect(postmasterPid(dataDir)).toBeUndefined()

      const second = await tool("seed", [], { cwd: directory })
      expect(second.code, second.output).toBe(0)
      expect(second.output).toContain("accounts 4 (0 new), events 12 (0 new), ticket types 17 (0 new), bookings 9 (0 new)")
      expect(loginsOf(second.output)).toBe(loginsOf(first.output))

      const reset = await tool("db:reset", ["--yes"], { cwd: directory })
      expect(reset.code, reset.output).toBe(0)
      expect(reset.output).toContain("Reset the embedded PostgreSQL in ./.data/postgres: emptied and migrated again.")
      expect(postmasterPid(dataDir)).toBeUndefined()
    } finally {
      const pid = postmasterPid(dataDir)
      if (pid !== undefined) cleanUp(undefined, dataDir)
      rmSync(directory, { recursive: true, force: true })
    }
  }, 240_000)
})
