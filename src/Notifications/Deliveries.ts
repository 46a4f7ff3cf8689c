/**
 * The delivery log: what makes a retried job send nothing twice. BullMQ delivers a job at least
 * once (a retry after a failure, a stalled job after a crash), so each email is claimed by key
 * before it is sent.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Ref } from "effect"
import { traced } from "../Telemetry/Tracing.ts"

export interface Delivery {
  /** What makes this email unique: one confirmation per booking, one notice per job and attendee. */
  readonly key: string
  readonly kind: string
  readonly jobId: string
  readonly recipient: string
}

export type DeliveryOutcome = "sent" | "already-sent"

export class Deliveries extends Context.Tag("Deliveries")<Deliveries, {
  /**
   * Runs `send` (answering the message id) unless a delivery with the same key is recorded. On
   * PostgreSQL the claim and the send share one transaction: a failed send leaves no record, a
   * concurrent claim of the same key waits for this one and then skips, and once the record has
   * committed no retry sends again. Only a crash between the send and that commit can repeat it.
   */
  readonly once: <E>(delivery: Delivery, send: Effect.Effect<string, E>) => Effect.Effect<DeliveryOutcome, E>
}>() {
  static readonly layer = Layer.effect(
    Deliveries,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      once: <E>(delivery: Delivery, send: Effect.Effect<string, E>) =>
        sql.withTransaction(Effect.gen(function*() {
          const claimed = yield* sql`
            INSERT INTO deliveries (key, kind, job_id, recipient)
            VALUES (${delivery.key}, ${delivery.kind}, ${delivery.jobId}, ${delivery.recipient})
            ON CONFLICT (key) DO NOTHING
            RETURNING key`
          if (claimed.length === 0) return "already-sent" as const
          const messageId = yield* send
          yield* sql`UPDATE deliveries SET message_id = ${messageId} WHERE key = ${delivery.key}`
          return "sent" as const
        })).pipe(Effect.catchTag("SqlError", Effect.die)) as Effect.Effect<DeliveryOutcome, E>
    }))
  ).pipe(traced(Deliveries, { once: (delivery) => ({ "delivery.kind": delivery.kind, "job.id": delivery.jobId }) }))

  static readonly layerMemory = Layer.effect(
    Deliveries,
    Effect.gen(function*() {
      const recorded = yield* Ref.make<ReadonlySet<string>>(new Set())
      // One at a time, as the row lock makes it on PostgreSQL.
      const lock = yield* Effect.makeSemaphore(1)
      return {
        once: (delivery, send) =>
          lock.withPermits(1)(Effect.gen(function*() {
            if ((yield* Ref.get(recorded)).has(delivery.key)) return "already-sent" as const
            yield* send
            yield* Ref.update(recorded, (keys) => new Set(keys).add(delivery.key))
            return "sent" as const
          }))
      }
    })
  )
}
