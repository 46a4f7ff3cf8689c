import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Data, Effect, Exit, Layer, Option } from "effect"
import { withSpan } from "../Telemetry/Tracing.ts"

/**
 * The COMMIT (or a statement sent with it) got no answer from PostgreSQL (the connection broke, the
 * server shut down): the transaction may have committed or not. A defect, as any SqlError here.
 */
export class CommitOutcomeUnknown extends Data.TaggedError("CommitOutcomeUnknown")<{ readonly cause: unknown }> {}

/**
 * Whether PostgreSQL answered a failed COMMIT message with an error that means it did not commit
 * (an error of a statement sent with it aborts the transaction, and the COMMIT then rolls back).
 * Without an answer, or with a connection, shutdown or internal error, nobody knows.
 */
const refusedByServer = (error: SqlError) => {
  const code = (error.cause as { readonly code?: unknown } | undefined)?.code
  return typeof code === "string" && !/^(08|53|57|58|XX)/.test(code)
}

/**
 * A statement to send with a transaction's COMMIT, and what to do with its rows once it committed
 * (`atCommit` below). Its text carries its values inline (no `$n` parameters): PostgreSQL
 * takes several statements in one message only in the simple query protocol.
 */
export interface AtCommit {
  readonly text: string
  readonly committed: (rows: ReadonlyArray<unknown>) => void
}

/**
 * Runs a piece of work atomically. On PostgreSQL every repository call made inside joins one
 * transaction, so a data change and the jobs it enqueues commit or roll back together. The
 * in-memory store applies each change atomically, so there it is the identity.
 *
 * Round trips are a booking's main cost (each is a socket write, a driver round and a fiber
 * round), so BEGIN and COMMIT travel with statements instead of alone: BEGIN with the first
 * statement when that one carries its values inline, COMMIT with the statements given to
 * `atCommit`. A booking's transaction is two round trips: BEGIN with the lock-and-read, then its
 * write and outbox rows with the COMMIT.
 */
export class Transactions extends Context.Tag("Transactions")<Transactions, {
  readonly run: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}>() {
  static readonly layer = Layer.effect(
    Transactions,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      // Repositories turn SqlErrors into defects; BEGIN or COMMIT failing is one as well.
      run: <A, E, R>(work: Effect.Effect<A, E, R>) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.scoped(Effect.gen(function*() {
            const transaction = new FusedTransaction(yield* sql.reserve)
            const exit = yield* Effect.exit(
              restore(work).pipe(
                Effect.provideService(SqlClient.TransactionConnection, [transaction.connection, 0]),
                Effect.provideService(PendingCommit, transaction)
              )
            )
            // A statement sent with the COMMIT may fail and leave the transaction aborted: roll it back.
            yield* Exit.isSuccess(exit)
              ? Effect.catchAll(transaction.commit, (error) =>
                Effect.zipRight(
                  Effect.ignore(transaction.rollback),
                  refusedByServer(error) ? Effect.fail(error) : Effect.die(new CommitOutcomeUnknown({ cause: error }))
                ))
              : transaction.rollback
            return yield* exit
          }))
        ).pipe(
          Effect.catchIf((error): error is SqlError => error instanceof SqlError, Effect.die),
          withSpan("sql.transaction", { kind: "client" })
        ) as Effect.Effect<A, E, R>
    }))
  )

  static readonly layerMemory = Layer.succeed(Transactions, { run: (work) => work })
}

/**
 * Inside `Transactions.run`: sends `statement` with the COMMIT, and hands its rows to `committed`
 * once the transaction committed (never if it rolled back). Outside any transaction it runs at once
 * and `committed` follows; inside a transaction that `run` did not open, it runs at once and
 * `committed` is never called (that commit is not ours to see).
 */
export const atCommit = (sql: SqlClient.SqlClient, statement: AtCommit): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(PendingCommit), (pending) => {
    if (Option.isSome(pending)) return Effect.sync(() => pending.value.add(statement))
    return Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (foreign) =>
      sql.unsafe(statement.text).pipe(
        Effect.tap((rows) => Option.isNone(foreign) && statement.committed(rows)),
        Effect.orDie
      ))
  })

/** The transaction `Transactions.run` opened in this fiber, with what waits for its COMMIT. */
class PendingCommit extends Context.Tag("Transactions/PendingCommit")<PendingCommit, FusedTransaction>() {}

/**
 * One transaction on a reserved connection. BEGIN is sent with the first statement when that one
 * has no parameters (else on its own, just before it), and only if a statement runs at all.
 */
class FusedTransaction {
  readonly connection: Connection
  private begun = false
  private readonly withCommit: Array<AtCommit> = []

  constructor(private readonly reserved: Connection) {
    const first = <A>(run: () => Effect.Effect<A, SqlError>) =>
      Effect.suspend(() => {
        if (this.begun) return run()
        this.begun = true
        return Effect.zipRight(reserved.executeUnprepared("BEGIN", [], undefined), run())
      })
    this.connection = {
      execute: (text, params, transformRows) =>
        Effect.suspend(() => {
          if (this.begun || params.length > 0) return first(() => reserved.execute(text, params, transformRows))
          this.begun = true
          // One message: BEGIN's result (none), then the statement's, or each statement's when
          // `text` holds several (as the driver answers them without BEGIN).
          return Effect.map(
            reserved.executeUnprepared(`BEGIN;\n${text}`, [], undefined),
            (results) => {
              if (results.length > 2) return results.slice(1)
              const rows = (results as ReadonlyArray<ReadonlyArray<object>>)[1] ?? []
              return transformRows === undefined ? rows : transformRows(rows)
            }
          )
        }),
      executeUnprepared: (text, params, transformRows) => first(() => reserved.executeUnprepared(text, params, transformRows)),
      executeRaw: (text, params) => first(() => reserved.executeRaw(text, params)),
      executeValues: (text, params) => first(() => reserved.executeValues(text, params)),
      executeStream: (text, params, transformRows) => {
        if (!this.begun) throw new Error("a transaction's first statement cannot be a stream")
        return reserved.executeStream(text, params, transformRows)
      }
    }
  }

  add(statement: AtCommit) {
    this.withCommit.push(statement)
  }

  /** The statements waiting for the COMMIT, then COMMIT, in one message; their rows to their owners. */
  get commit(): Effect.Effect<void, SqlError> {
    return Effect.suspend(() => {
      const statements = this.withCommit.splice(0)
      if (statements.length === 0) return this.begun ? Effect.asVoid(this.reserved.executeUnprepared("COMMIT", [], undefined)) : Effect.void
      const text = [...(this.begun ? [] : ["BEGIN"]), ...statements.map(({ text }) => text), "COMMIT"].join(";\n")
      const skip = this.begun ? 0 : 1
      // Begun now: if a statement fails, the transaction is left aborted and must be rolled back.
      this.begun = true
      return Effect.map(this.reserved.executeUnprepared(text, [], undefined), (results) => {
        const all = results as ReadonlyArray<ReadonlyArray<unknown>>
        statements.forEach(({ committed }, i) => committed(all[skip + i] ?? []))
      })
    })
  }

  get rollback(): Effect.Effect<void, SqlError> {
    return Effect.suspend(() => this.begun ? Effect.asVoid(this.reserved.executeUnprepared("ROLLBACK", [], undefined)) : Effect.void)
  }
}
