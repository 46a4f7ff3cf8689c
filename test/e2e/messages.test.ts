/**
 * What the processes tell a person: a refusal to start is one line on standard error naming the
 * fix (no stack trace) and the exit code 1; a process logs when it is ready and when it stopped;
 * `npm run migrate` says what it applied, or that there was nothing to apply.
 */
import { Effect, Exit, Scope } from "effect"
import { rmSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { migrations } from "../../migrations/index.ts"
import { freshDatabaseUrl } from "../support/database.ts"
import {
  buildOnce,
  cleanUp,
  embeddedWorkdir,
  exited,
  freePort,
  npm,
  ROOT,
  SECRET,
  type Server,
  start,
  startScript,
  waitFor,
  waitUntilUp
} from "../support/process.ts"

const script = (path: string) => join(ROOT, "dist", path)

/** Runs a compiled script to its end. */
const run = async (path: string, env: Record<string, string>, cwd?: string) => {
  const server = startScript(script(path), env, cwd)
  try {
    const code = await exited(server.process, 60_000)
    return { server, code }
  } finally {
    cleanUp(server)
  }
}

/** Exit code 1, and standard error is the one line `error: ...` containing `expected`; no stack frame anywhere. */
const expectRefusal = ({ code, server }: { readonly code: number | null | "timeout"; readonly server: Server }, expected: string) => {
  expect(code, server.output()).toBe(1)
  expect(server.errorOutput().trimEnd().split("\n"), server.output()).toEqual([`error: ${expected}`])
  expect(server.output()).not.toMatch(/^\s+at /m)
}

beforeAll(buildOnce, 120_000)

describe("a refusal to start is one line naming the fix", () => {
  const scope = Effect.runSync(Scope.make())
  let databaseUrl: string
  beforeAll(async () => {
    databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
  })
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

  it("npm run worker without DATABASE_URL", async () => {
    const worker = npm(["run", "--silent", "worker"], { JWT_SECRET: SECRET })
    try {
      expectRefusal(
        { server: worker, code: await exited(worker.process, 60_000) },
        "npm run worker needs DATABASE_URL (the API's database); `npm start` alone already runs the workers"
      )
    } finally {
      cleanUp(worker)
    }
  }, 90_000)

  it("a malformed setting: PORT=abc, a short JWT_SECRET", async () => {
    expectRefusal(
      await run("src/main.js", { JWT_SECRET: SECRET, PORT: "abc" }),
      "invalid setting: PORT: Expected a network port value but received \"abc\" (set it in the environment or in .env)"
    )
    expectRefusal(
      await run("src/main.js", { JWT_SECRET: "short", PORT: String(await freePort()) }),
      "invalid setting: JWT_SECRET must be at least 32 characters (set it in the environment or in .env)"
    )
  }, 60_000)

  it("a database that does not answer, for the server, the worker, migrate and seed", async () => {
    const dead = `postgres://nope@127.0.0.1:${await freePort()}/x`
    const env = { JWT_SECRET: SECRET, DATABASE_URL: dead, PORT: String(await freePort()) }
    for (const path of ["src/main.js", "src/worker.js", "scripts/migrate.js", "scripts/seed.js"]) {
      const attempt = await run(path, env)
      expect(attempt.server.errorOutput(), path).toContain(`error: cannot connect to ${dead} (connect ECONNREFUSED`)
      expectRefusal(attempt, attempt.server.errorOutput().trimEnd().slice("error: ".length))
      expect(attempt.server.errorOutput()).toContain("or set DATABASE_URL to a database that answers")
    }
  }, 120_000)

  it("a PORT already taken", async () => {
    const taken = createServer().listen(0, "0.0.0.0")
    await new Promise((resolve) => taken.once("listening", resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const attempt = await run("src/main.js", { JWT_SECRET: SECRET, DATABASE_URL: databaseUrl, PORT: String(port) })
      expect(attempt.server.errorOutput()).toContain(`error: cannot listen on PORT ${port} (listen EADDRINUSE`)
      expectRefusal(attempt, attempt.server.errorOutput().trimEnd().slice("error: ".length))
    } finally {
      taken.close()
    }
  }, 90_000)

  it("npm run migrate while the server runs on the embedded database", async () => {
    const { dataDir, directory } = embeddedWorkdir()
    const port = await freePort()
    const server = start({ JWT_SECRET: SECRET, PORT: String(port) }, directory)
    try {
      await waitUntilUp(server, `http://127.0.0.1:${port}/api`)
      const migrate = await run("scripts/migrate.js", {}, directory)
      expect(migrate.server.errorOutput()).toContain(`error: the embedded PostgreSQL in ${dataDir} is in use by another process`)
      expectRefusal(migrate, migrate.server.errorOutput().trimEnd().slice("error: ".length))
    } finally {
      server.process.kill("SIGTERM")
      await exited(server.process, 30_000)
      cleanUp(server, dataDir)
      rmSync(directory, { recursive: true, force: true })
    }
  }, 120_000)
})

describe("ready, stopped, applied", () => {
  const scope = Effect.runSync(Scope.make())
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const fresh = () => Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))

  it("the worker and the server log when they are ready and when they stopped", async () => {
    const databaseUrl = await fresh()
    for (const [path, name] of [["src/worker.js", "the worker"], ["src/main.js", "the API server"]] as const) {
      const process = startScript(script(path), { JWT_SECRET: SECRET, DATABASE_URL: databaseUrl, PORT: String(await freePort()) })
      try {
        await waitFor(process.output, (output) => output.includes(`message="${name} ready (`), 60_000)
        expect(process.output()).toContain(`message="${name} ready (`)
        process.process.kill("SIGTERM")
        expect(await exited(process.process, 30_000), process.output()).toBe(0)
        expect(process.output()).toMatch(new RegExp(`message="${name} stopped \\(\\d+ ms\\)"`))
      } finally {
        cleanUp(process)
      }
    }
  }, 120_000)

  it("npm run migrate lists what it applied; run again, says there was nothing to apply", async () => {
    const databaseUrl = await fresh()
    const { host, pathname, protocol, username } = new URL(databaseUrl)
    const database = `${protocol}//${username}@${host}${pathname}`
    const files = Object.keys(migrations).sort()
    const first = await run("scripts/migrate.js", { DATABASE_URL: databaseUrl })
    expect(first.code, first.server.output()).toBe(0)
    expect(first.server.output()).toBe(
      [`${database}: applied ${files.length} migrations`, ...files.map((file) => `  ${file}`), ""].join("\n")
    )
    const second = await run("scripts/migrate.js", { DATABASE_URL: databaseUrl })
    expect(second.code, second.server.output()).toBe(0)
    expect(second.server.output()).toBe(`${database} is up to date: nothing to apply\n`)
  }, 60_000)
})
