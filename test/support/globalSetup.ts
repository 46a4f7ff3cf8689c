/**
 * One PostgreSQL server for the whole run: the one named by TEST_DATABASE_URL or DATABASE_URL
 * (CI: the machine's server), or else an embedded one in a temporary directory. Each test file
 * then creates its own database on it (see database.ts).
 *
 * Redis for the queue tier: TEST_REDIS_URL (CI sets it, and then it must answer), or else
 * redis://127.0.0.1:6379 if something listens there; with neither, the Redis suites are skipped.
 */
import { Effect, Exit, Scope } from "effect"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { startEmbeddedPostgres } from "../../src/Storage/EmbeddedPostgres.ts"

declare module "vitest" {
  export interface ProvidedContext {
    readonly databaseUrl: string
    /** Empty when no Redis is available (only outside CI). */
    readonly redisUrl: string
  }
}

const answers = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 1_000 })
    const answer = (answered: boolean) => () => {
      socket.destroy()
      resolve(answered)
    }
    socket.once("connect", answer(true)).once("error", answer(false)).once("timeout", answer(false))
  })

const findRedis = async () => {
  const configured = process.env.TEST_REDIS_URL
  if (configured !== undefined && configured !== "") {
    if (!(await answers(configured))) throw new Error(`TEST_REDIS_URL (${configured}) does not answer`)
    return configured
  }
  const fallback = "redis://127.0.0.1:6379"
  return (await answers(fallback)) ? fallback : ""
}

export default async function setup(project: TestProject) {
  project.provide("redisUrl", await findRedis())
  const external = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL
  if (external !== undefined && external !== "") {
    project.provide("databaseUrl", external)
    return
  }
  const directory = mkdtempSync(join(tmpdir(), "event-booking-test-"))
  chmodSync(directory, 0o755) // the embedded server may run as the `postgres` user
  const scope = Effect.runSync(Scope.make())
  const server = await Effect.runPromise(
    startEmbeddedPostgres(join(directory, "data")).pipe(Scope.extend(scope))
  )
  project.provide("databaseUrl", `postgres://${server.user}:${server.password}@${server.host}:${server.port}/postgres`)
  return async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(directory, { recursive: true, force: true })
  }
}
