/** A read-only view of the background work for operators: queue counts and the outbox backlog. */
import { Context, Effect, Either, Layer, Schema } from "effect"
import { traced } from "../Telemetry/Tracing.ts"
import { Outbox } from "./Outbox.ts"
import { QueueBackend, QueueCounts } from "./QueueBackend.ts"

export const QueueHealthReport = Schema.Struct({
  backend: Schema.Struct({
    kind: Schema.Literal("redis", "postgres"),
    reachable: Schema.Boolean,
    error: Schema.optional(Schema.String)
  }),
  /** Empty while the backend is unreachable. */
  queues: Schema.Array(QueueCounts),
  outbox: Schema.Struct({
    pending: Schema.Int.annotations({ description: "Jobs committed but not yet published to the queues" }),
    oldestPendingSeconds: Schema.NullOr(Schema.Number)
  })
}).annotations({ identifier: "QueueHealth" })
export type QueueHealthReport = typeof QueueHealthReport.Type

export class QueueHealth extends Context.Tag("QueueHealth")<QueueHealth, {
  readonly report: Effect.Effect<QueueHealthReport>
}>() {
  static readonly layer = Layer.effect(
    QueueHealth,
    Effect.gen(function*() {
      const backend = yield* QueueBackend
      const outbox = yield* Outbox
      return {
        report: Effect.all([Effect.either(backend.counts), outbox.backlog], { concurrency: 2 }).pipe(
          Effect.map(([counts, backlog]) => ({
            backend: Either.match(counts, {
              onLeft: (error) => ({ kind: backend.kind, reachable: false, error: error.message }),
              onRight: () => ({ kind: backend.kind, reachable: true })
            }),
            queues: Either.getOrElse(counts, () => []),
            outbox: backlog
          }))
        )
      }
    })
  ).pipe(traced(QueueHealth))
}
