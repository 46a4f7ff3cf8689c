/**
 * Start-up time: from spawning the server to its first 200 on GET /api/health, on a database
 * already migrated (a scratch database on DATABASE_URL's server, migrated by a first start that is
 * not counted). Prints the median and the range of `runs` starts, through `npm start` (npm, its
 * prestart check, then node with npm start's flags) and through node directly (the same flags on
 * dist/src/main.js), and the server's RSS once it has been idle for 10 s. The server runs as
 * `npm start` runs it: workers in its process, its queues on REDIS_URL when that is set, else on
 * PostgreSQL.
 *
 *   DATABASE_URL=postgres://… npx tsx scripts/bench/startup.ts [runs]
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { request } from "node:http"
import { freePort, npmStartFlags, rssMbOf } from "./processes.ts"
import { scratch, scratchDatabase } from "./scratch.ts"

const runs = Number(process.argv[2] ?? 5)
const IDLE_MS = 10_000

// NODE_FLAGS="…" tries other flags for node (npm start keeps its own).
const nodeFlags = process.env.NODE_FLAGS?.split(" ") ?? npmStartFlags()

/** Whether GET /api/health answers 200 now. */
const healthy = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: "/api/health", timeout: 1000 }, (response) => {
      response.resume()
      resolve(response.statusCode === 200)
    })
    req.on("error", () => resolve(false))
    req.on("timeout", () => req.destroy())
    req.end()
  })

/**
 * Milliseconds from spawning `command` to the server's first 200; then, given `idleMs`, its RSS
 * after that long idle. Then it is stopped.
 */
const startOnce = async (command: ReadonlyArray<string>, env: Record<string, string>, idleMs = 0) => {
  const port = await freePort()
  const started = performance.now()
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env, PORT: String(port) }, stdio: "ignore" })
  try {
    for (const deadline = started + 60_000; !(await healthy(port));) {
      if (child.exitCode !== null || performance.now() > deadline) throw new Error(`${command.join(" ")} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const ms = performance.now() - started
    if (idleMs === 0) return { ms, rssMb: 0 }
    await new Promise((resolve) => setTimeout(resolve, idleMs))
    return { ms, rssMb: rssMbOf(child.pid!) }
  } finally {
    child.kill("SIGTERM")
    if (child.exitCode === null) await once(child, "exit")
  }
}

const summary = (times: Array<number>) => {
  const sorted = [...times].sort((a, b) => a - b)
  return `median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} ms (${Math.round(sorted[0]!)}–${
    Math.round(sorted[sorted.length - 1]!)
  } ms over ${sorted.length} starts)`
}

const main = async () => {
  const database = await scratchDatabase("startup")
  const space = scratch()
  try {
    const env = { DATABASE_URL: database.url, ...space.env }
    const npm = ["npm", "start", "--silent"]
    const node = [process.execPath, ...nodeFlags, "dist/src/main.js"]
    // The first start builds dist/ if a source changed, and migrates the database: not counted.
    await startOnce(npm, env)
    const viaNpm: Array<number> = []
    const viaNode: Array<number> = []
    for (let i = 0; i < runs; i++) {
      viaNpm.push((await startOnce(npm, env)).ms)
      viaNode.push((await startOnce(node, env)).ms)
    }
    const { rssMb } = await startOnce(node, env, IDLE_MS)
    console.log(`start-up to the first 200 of GET /api/health, database migrated:`)
    console.log(`  npm start:                 ${summary(viaNpm)}`)
    console.log(`  node ${nodeFlags.join(" ")} dist/src/main.js: ${summary(viaNode)}`)
    console.log(`RSS after ${IDLE_MS / 1000} s idle, once started: ${rssMb} MB`)
  } finally {
    await database.drop()
    await space.remove()
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
