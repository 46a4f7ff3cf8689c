import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Effect, Layer } from "effect"

/**
 * Runs a piece of work atomically. On PostgreSQL this is `sql.withTransaction`: every repository
 * call made inside joins the transaction, so a data change and the job it enqueues commit or roll
 * back together. The in-memory store applies each change atomically, so there it is the identity.
 */
export class Transactions extends Context.Tag("Transactions")<Transactions, {
  readonly run: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}>() {
  static readonly layer = Layer.effect(
    Transactions,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      // Repositories turn SqlErrors into defects; BEGIN or COMMIT failing is one as well.
      run: <A, E, R>(work: Effect.Effect<A, E, R>) =>
        sql.withTransaction(work).pipe(
          Effect.catchIf((error): error is SqlError => error instanceof SqlError, Effect.die)
        ) as Effect.Effect<A, E, R>
    }))
  )

  static readonly layerMemory = Layer.succeed(Transactions, { run: (work) => work })
}
