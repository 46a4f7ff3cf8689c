import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { NotReady } from "../Edge/HttpErrors.ts"

/** Whether this instance can serve traffic: the database answers within a second. */
export class Readiness extends Context.Tag("Readiness")<Readiness, {
  readonly check: Effect.Effect<void, NotReady>
}>() {
  static readonly layer = Layer.effect(
    Readiness,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      check: sql`SELECT 1`.pipe(
        Effect.timeout("1 second"),
        Effect.tapError((error) => Effect.logWarning("readiness check failed", error)),
        Effect.mapError(() => new NotReady({ message: "The database is not reachable" })),
        Effect.asVoid
      )
    }))
  )

  static readonly layerMemory = Layer.succeed(Readiness, { check: Effect.void })
}
