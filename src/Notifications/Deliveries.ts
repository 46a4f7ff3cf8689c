/**
 * The delivery log: what makes a retried job send nothing twice. BullMQ delivers a job at least
 * once (a retry after a failure, a stalled job after a crash), so each email is claimed by key
 * before it is sent.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Either, Layer } from "effect"
import { traced } from "../Telemetry/Tracing.ts"

export interface Delivery {
  /** What makes this email unique: one confirmation per booking, one notice per job and attendee. */
  readonly key: string
  readonly kind: string
  readonly jobId: string
  readonly recipient: string
}

export type DeliveryOutcome = "sent" | "already-sent"

/** A delivery and the send that makes it, answering the message id. */
export interface Send<E> {
  readonly delivery: Delivery
  readonly send: Effect.Effect<string, E>
}

export interface OnceEachOptions {
  /** Sends in flight at once within a batch; 1 by default. */
  readonly concurrency?: number
}

export class Deliveries extends Context.Tag("Deliveries")<Deliveries, {
  /**
   * Runs each send (answering its message id) unless a delivery with the same key is recorded, and
   * answers each one's outcome or failure, in order. On PostgreSQL a batch's claims, its sends and
   * their record share one transaction: a failed send leaves no record (its claim is withdrawn), a
   * concurrent claim of the same key waits for this batch and then skips, and once the record has
   * committed no retry sends again. Only a crash between the sends and that commit can repeat them.
   * One transaction per batch rather than per email: four statements per email were most of a
   * confirmation's cost.
   */
  readonly onceEach: <E>(
    sends: ReadonlyArray<Send<E>>,
    options?: OnceEachOptions
  ) => Effect.Effect<ReadonlyArray<Either.Either<DeliveryOutcome, E>>>
}>() {
  static readonly layer = Layer.effect(
    Deliveries,
    Effect.map(SqlClient.SqlClient, (sql) => ({
      onceEach: <E>(sends: ReadonlyArray<Send<E>>, options?: OnceEachOptions) =>
        sends.length === 0 ? Effect.succeed([]) : sql.withTransaction(Effect.gen(function*() {
          // Claimed in key order, so that two batches sharing keys cannot wait for each other in a cycle.
          const claims = [...new Map(sends.map(({ delivery }) => [delivery.key, delivery])).values()]
            .sort((a, b) => (a.key < b.key ? -1 : 1))
          const claimed = new Set(
            (yield* sql<{ key: string }>`
              INSERT INTO deliveries (key, kind, job_id, recipient)
              SELECT key, kind, job_id, recipient
              FROM unnest(${claims.map((d) => d.key)}::text[], ${claims.map((d) => d.kind)}::text[],
                          ${claims.map((d) => d.jobId)}::text[], ${claims.map((d) => d.recipient)}::text[])
                AS claim(key, kind, job_id, recipient)
              ORDER BY key
              ON CONFLICT (key) DO NOTHING
              RETURNING key`).map(({ key }) => key)
          )
          const results = yield* sendClaimed(sends, (key) => claimed.delete(key), options)
          const sent = results.flatMap((result, i) =>
            result._tag === "Sent" ? [{ key: sends[i]!.delivery.key, messageId: result.messageId }] : []
          )
          const failed = results.flatMap((result, i) => result._tag === "Failed" ? [sends[i]!.delivery.key] : [])
          if (failed.length > 0) yield* sql`DELETE FROM deliveries WHERE key = ANY(${failed}::text[])`
          if (sent.length > 0) {
            yield* sql`
              UPDATE deliveries SET message_id = sent.message_id
              FROM unnest(${sent.map((s) => s.key)}::text[], ${sent.map((s) => s.messageId)}::text[]) AS sent(key, message_id)
              WHERE deliveries.key = sent.key`
          }
          return results.map(outcomeOf)
        })).pipe(Effect.orDie)
    }))
  ).pipe(traced(Deliveries, { onceEach: (sends) => ({ "delivery.count": sends.length }) }))

  static readonly layerMemory = Layer.effect(
    Deliveries,
    Effect.gen(function*() {
      const recorded = new Set<string>()
      // One batch at a time, as the row locks make it on PostgreSQL.
      const lock = yield* Effect.makeSemaphore(1)
      return {
        onceEach: <E>(sends: ReadonlyArray<Send<E>>, options?: OnceEachOptions) =>
          lock.withPermits(1)(Effect.gen(function*() {
            const claimed = new Set(sends.map(({ delivery }) => delivery.key).filter((key) => !recorded.has(key)))
            const results = yield* sendClaimed(sends, (key) => claimed.delete(key), options)
            results.forEach((result, i) => {
              if (result._tag === "Sent") recorded.add(sends[i]!.delivery.key)
            })
            return results.map(outcomeOf)
          }))
      }
    })
  )
}

type SendResult<E> =
  | { readonly _tag: "Sent"; readonly messageId: string }
  | { readonly _tag: "AlreadySent" }
  | { readonly _tag: "Failed"; readonly error: E }

/**
 * Sends what this batch claimed, each key once: `take` answers true for the first send of a key
 * claimed here, and false for a key recorded before or already taken in this batch.
 */
const sendClaimed = <E>(sends: ReadonlyArray<Send<E>>, take: (key: string) => boolean, options?: OnceEachOptions) =>
  Effect.forEach(
    sends,
    ({ delivery, send }): Effect.Effect<SendResult<E>> =>
      take(delivery.key)
        ? Effect.match(send, {
          onSuccess: (messageId) => ({ _tag: "Sent", messageId }),
          onFailure: (error) => ({ _tag: "Failed", error })
        })
        : Effect.succeed({ _tag: "AlreadySent" }),
    { concurrency: options?.concurrency ?? 1 }
  )

const outcomeOf = <E>(result: SendResult<E>): Either.Either<DeliveryOutcome, E> =>
  result._tag === "Failed" ? Either.left(result.error) : Either.right(result._tag === "Sent" ? "sent" : "already-sent")
