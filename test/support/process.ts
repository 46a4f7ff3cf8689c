/** The real server process for the end-to-end tier: started as `npm start` starts it, and observed from outside. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs"
import { connect, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

export const ROOT = resolve(import.meta.dirname, "../..")

/** The JWT_SECRET the end-to-end servers run with. */
export const SECRET = "an-end-to-end-test-secret-of-32+-chars"

/** Compiles the server, the worker and the tools as `npm start` does (once per run: skipped when up to date). */
export const buildOnce = () => {
  const entries = ["src/main.ts", "src/worker.ts", "scripts/healthcheck.ts", "scripts/seed.ts", "scripts/db-reset.ts", "scripts/migrate.ts"]
  execFileSync(process.execPath, ["scripts/build.mjs", "--if-changed", ...entries], {
    cwd: ROOT,
    stdio: "inherit"
  })
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

export interface Server {
  readonly process: ChildProcess
  /** Standard output and error as they came. */
  readonly output: () => string
  readonly errorOutput: () => string
}

const track = (child: ChildProcess): Server => {
  let output = ""
  let errorOutput = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => {
    output += chunk
    errorOutput += chunk
  })
  return { process: child, output: () => output, errorOutput: () => errorOutput }
}

/**
 * The compiled server (what `npm start` runs), in `cwd` (where `.data/` and `.env` are looked
 * for), in its own process group so that a test can signal the group as a terminal's Ctrl-C does.
 */
export const start = (env: Record<string, string>, cwd = process.cwd()): Server => startScript(join(ROOT, "dist/src/main.js"), env, cwd)

/** A compiled script (`dist/...`), as `start` runs the server. */
export const startScript = (script: string, env: Record<string, string>, cwd = process.cwd(), args: ReadonlyArray<string> = []): Server =>
  track(spawn(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  }))

/** `npm <args>` in the project, as a user runs it. */
export const npm = (args: ReadonlyArray<string>, env: Record<string, string>): Server =>
  track(spawn("npm", [...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  }))

/** Ctrl-C in a terminal: SIGINT to every process of the foreground group. */
export const pressCtrlC = (server: Server) => process.kill(-server.process.pid!, "SIGINT")

export const waitUntilUp = async (server: Server, base: string, path = "/health/ready") => {
  const deadline = Date.now() + 45_000
  while (Date.now() < deadline) {
    const ready = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false)
    if (ready) return
    if (server.process.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the server did not start:\n${server.output()}`)
}

/** The exit code, or "timeout" if the process is still running after `timeoutMs`. */
export const exited = (child: ChildProcess, timeoutMs: number) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : Promise.race([
      once(child, "exit").then(([code]) => code as number | null),
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs))
    ])

/** Kills what a test left running: the process group, and an embedded PostgreSQL in `dataDir`. */
export const cleanUp = (server: Pick<Server, "process"> | undefined, dataDir?: string) => {
  if (server !== undefined && server.process.exitCode === null && server.process.signalCode === null) {
    try {
      process.kill(-server.process.pid!, "SIGKILL")
    } catch {
      // gone
    }
  }
  const pid = dataDir === undefined ? undefined : postmasterPid(dataDir)
  if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL")
}

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A scratch working directory for a process using the embedded default: its `./.data/postgres` is `dataDir`. */
export const embeddedWorkdir = () => {
  const directory = mkdtempSync(join(tmpdir(), "event-booking-e2e-"))
  chmodSync(directory, 0o755) // as root, the embedded server runs as the `postgres` user
  return { directory, dataDir: join(directory, ".data", "postgres") }
}

/** The PostgreSQL server running on `dataDir`, from its lock file. */
export const postmasterPid = (dataDir: string) => {
  const file = join(dataDir, "postmaster.pid")
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : undefined
}

/** The process group of `pid` (Linux). */
export const processGroupOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2])
}

/** Whether something accepts connections on the port. */
export const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

export const waitFor = async <A>(read: () => A | Promise<A>, done: (a: A) => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A JSON request to a running server (`base` ends in `/api`): its status, headers and body as text. */
export const send = async (
  base: string,
  method: "GET" | "POST",
  path: string,
  options: { readonly json?: unknown; readonly token?: string; readonly headers?: Record<string, string> } = {}
) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.json === undefined ? {} : { "content-type": "application/json" }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers
    },
    signal: AbortSignal.timeout(30_000),
    ...(options.json === undefined ? {} : { body: JSON.stringify(options.json) })
  })
  return { status: response.status, headers: response.headers, text: await response.text() }
}

let accounts = 0
/** An organizer's token and an event of theirs with `totalTickets`, and a customer's token, on a running server. */
export const eventAndCustomer = async (base: string, totalTickets: number) => {
  const token = async (role: "ORGANIZER" | "CUSTOMER") => {
    const account = { email: `${role.toLowerCase()}-${process.pid}-${++accounts}@e2e.io`, password: "e2e-password-123" }
    await send(base, "POST", "/auth/register", { json: { ...account, role } })
    return JSON.parse((await send(base, "POST", "/auth/login", { json: account })).text).token as string
  }
  const event = await send(base, "POST", "/events", {
    token: await token("ORGANIZER"),
    json: { title: "E2E", date: new Date(Date.now() + 86_400_000).toISOString(), location: "Loopback", totalTickets }
  })
  return { eventId: JSON.parse(event.text).id as number, customer: await token("CUSTOMER") }
}
