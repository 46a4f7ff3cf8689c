/**
 * One PostgreSQL server for the whole run: the one named by TEST_DATABASE_URL or DATABASE_URL
 * (CI: the machine's server), or else an embedded one in a temporary directory. Each test file
 * then creates its own database on it (see database.ts).
 */
import { Effect, Exit, Scope } from "effect"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"
import { startEmbeddedPostgres } from "../../src/Platform/EmbeddedPostgres.ts"

declare module "vitest" {
  export interface ProvidedContext {
    readonly databaseUrl: string
  }
}

export default async function setup(project: TestProject) {
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
