/**
 * The delivery log: what keeps a job that runs again (a retry, a stalled job taken over) from
 * sending an email twice. BullMQ delivers a job at least once, so each email is claimed by key
 * before it is sent and recorded once it is.
 *
 * No transaction spans a send (issue 17): a claim is one autocommitted statement, the record of
 * the sends another, so a connection lost in between can take back neither. Both statements are
 * safe to repeat and are repeated on a fresh connection when one fails: a send that went out is
 * recorded before its job may fail. Only a process that dies between a send and its record
 * repeats that email, and then with the same Message-ID (`Send.send` gets a stable id).
 */
import { SqlClient } from "@effect/sql"
import { Cause, Clock, Context, Duration, Effect, Either, Exit, Layer, Option, Schedule, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { queueNamespace } from "../Jobs/QueueBackend.ts"
import { AppConfig } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface Delivery {
  /** What makes this email unique: one confirmation per booking, one notice per job and attendee. */
  readonly key: string
  readonly kind: string
  readonly jobId: string
  readonly recipient: string
}

export type DeliveryOutcome = "sent" | "already-sent"

/** A delivery and the send that makes it. */
export interface Send<E> {
  readonly delivery: Delivery
  /**
   * Sends, answering the message id. `id` is the same every time this delivery is sent (its key and
   * this database's namespace): the Message-ID is made of it, so that a repeat can be recognised.
   */
  readonly send: (id: string) => Effect.Effect<string, E>
}

export interface OnceEachOptions {
  /** Sends in flight at once within a batch; 1 by default. */
  readonly concurrency?: number
}

/** Another run of a job still holds the email's claim after a whole lease: the job is tried again later. */
export class DeliveryBusy extends Schema.TaggedError<DeliveryBusy>()("DeliveryBusy", { message: Schema.String }) {}

export class Deliveries extends Context.Tag("Deliveries")<Deliveries, {
  /**
   * Runs each send unless its key is recorded, and answers each one's outcome or failure, in order.
   * A batch's claims are one statement and the record of its sends another. A failed send's claim
   * is withdrawn, so that a retry sends it. A key claimed by another run is waited for (it is
   * recorded, withdrawn, or its lease, JOB_LOCK_MS, runs out and it is taken over), up to a lease.
   */
  readonly onceEach: <E>(
    sends: ReadonlyArray<Send<E>>,
    options?: OnceEachOptions
  ) => Effect.Effect<ReadonlyArray<Either.Either<DeliveryOutcome, E | DeliveryBusy>>>
}>() {
  static readonly layer = Layer.effect(
    Deliveries,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const lease = Duration.millis((yield* AppConfig).jobs.lockDurationMs)
      return make(sqlLog(sql, lease), yield* queueNamespace, lease)
    })
  ).pipe(traced(Deliveries, { onceEach: (sends) => ({ "delivery.count": sends.length }) }))

  /** The same rules over a map, with a namespace of its own, as a fresh database has. */
  static readonly layerMemory = Layer.effect(
    Deliveries,
    Effect.map(AppConfig, ({ jobs }) => {
      const lease = Duration.millis(jobs.lockDurationMs)
      return make(memoryLog(lease), randomUUID(), lease)
    })
  )
}

/** Where a key stands after a claim: claimed by this run, recorded as sent, or held by another run. */
type Standing = "claimed" | "recorded" | "held"

/** The claim's answer: each key it claimed or found recorded (the others are held). */
const decodeClaimRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({
  key: Schema.String,
  standing: Schema.Literal("claimed", "recorded")
})))

/** A claimed delivery and what its send came to: its message id, or none (not sent: withdrawn). */
interface Settled {
  readonly delivery: Delivery
  readonly messageId: string | undefined
}

/** The log's two statements; `claim` identifies one run of `onceEach`. */
interface DeliveryLog {
  /**
   * Claims each delivery that is not recorded and not held by another claim whose lease still
   * runs. A key `claim` holds already is claimed again: the statement can be repeated.
   */
  readonly claim: (claim: string, deliveries: ReadonlyArray<Delivery>) => Effect.Effect<ReadonlyMap<string, Standing>>
  /** Records the sends that went out, and withdraws `claim`'s claims of the others. Can be repeated. */
  readonly settle: (claim: string, settled: ReadonlyArray<Settled>) => Effect.Effect<void>
}

const make = (log: DeliveryLog, namespace: string, lease: Duration.Duration): Deliveries["Type"] => ({
  onceEach: <E>(sends: ReadonlyArray<Send<E>>, options?: OnceEachOptions) =>
    sends.length === 0 ? Effect.succeed([]) : Effect.gen(function*() {
      const claim = randomUUID()
      // In key order: two batches sharing keys lock their rows in the same order, never in a cycle.
      const deliveries = [...new Map(sends.map(({ delivery }) => [delivery.key, delivery])).values()]
        .sort((a, b) => (a.key < b.key ? -1 : 1))
      const standing = yield* claimWaiting(log, claim, deliveries, lease)

      // Each key claimed here is sent once, by its first send in the batch.
      const firsts = new Map(sends.map(({ delivery }, i) => [delivery.key, i] as const).reverse())
      const first = new Set([...firsts].flatMap(([key, i]) => standing.get(key) === "claimed" ? [i] : []))
      const exits = new Map<string, Exit.Exit<string, E>>()
      yield* Effect.forEach(
        sends,
        ({ delivery, send }, i) =>
          first.has(i)
            ? Effect.exit(send(`${delivery.key}.${namespace}`)).pipe(Effect.map((exit) => exits.set(delivery.key, exit)))
            : Effect.void,
        // Sends in flight at once reach the mailer together (it batches them: Mailer.ts).
        { concurrency: options?.concurrency ?? 1, batching: true, discard: true }
      ).pipe(
        // Even when interrupted (a shutdown): what went out is recorded, the rest withdrawn.
        Effect.ensuring(Effect.suspend(() =>
          log.settle(
            claim,
            deliveries.filter(({ key }) => standing.get(key) === "claimed").map((delivery) => {
              const exit = exits.get(delivery.key)
              return { delivery, messageId: exit !== undefined && Exit.isSuccess(exit) ? exit.value : undefined }
            })
          )
        ))
      )

      // A send that died (its mail thread did) fails the job once the others are recorded.
      for (const exit of exits.values()) {
        if (Exit.isFailure(exit) && Option.isNone(Cause.failureOption(exit.cause))) return yield* Effect.die(Cause.squash(exit.cause))
      }
      return sends.map(({ delivery }, i): Either.Either<DeliveryOutcome, E | DeliveryBusy> => {
        if (standing.get(delivery.key) === "held") {
          return Either.left(new DeliveryBusy({ message: `Another run of a job still holds delivery ${delivery.key}` }))
        }
        if (!first.has(i)) return Either.right("already-sent")
        const exit = exits.get(delivery.key)!
        return Exit.isSuccess(exit) ? Either.right("sent") : Either.left(Option.getOrThrow(Cause.failureOption(exit.cause)))
      })
    })
})

/**
 * Claims `deliveries`, then asks again for those another run holds, less often each time, until
 * none is held or a lease has passed: that run records or withdraws them, or its lease runs out.
 */
const claimWaiting = (log: DeliveryLog, claim: string, deliveries: ReadonlyArray<Delivery>, lease: Duration.Duration) =>
  Effect.gen(function*() {
    const standing = new Map(yield* log.claim(claim, deliveries))
    const held = () => deliveries.filter(({ key }) => standing.get(key) === "held")
    const until = (yield* Clock.currentTimeMillis) + Duration.toMillis(lease)
    let pause = 50
    while (held().length > 0 && (yield* Clock.currentTimeMillis) < until) {
      yield* Effect.sleep(Duration.millis(pause))
      pause = Math.min(pause * 2, 1000)
      for (const [key, now] of yield* log.claim(claim, held())) standing.set(key, now)
    }
    return standing
  })

/**
 * A statement that can be repeated, tried again when it fails (the connection was cut, the
 * database restarts): the pool drops a broken connection, so each try runs on a working one.
 */
const persistently = <A>(what: string, statement: Effect.Effect<A, unknown>) =>
  statement.pipe(
    Effect.tapError((error) => Effect.logWarning(`${what} failed; trying again on a fresh connection`, error)),
    Effect.retry(Schedule.exponential("50 millis").pipe(Schedule.jittered, Schedule.upTo("10 seconds"))),
    Effect.orDie
  )

const sqlLog = (sql: SqlClient.SqlClient, lease: Duration.Duration): DeliveryLog => ({
  claim: (claim, deliveries) => {
    const keys = deliveries.map((d) => d.key)
    // The outer SELECT sees the rows as they were before the INSERT: recorded ones are recorded.
    return persistently(
      "claiming deliveries",
      sql`
        WITH claimed AS (
          INSERT INTO deliveries AS d (key, kind, job_id, recipient, claimed_by)
          SELECT key, kind, job_id, recipient, ${claim}
          FROM unnest(${keys}::text[], ${deliveries.map((d) => d.kind)}::text[],
                      ${deliveries.map((d) => d.jobId)}::text[], ${deliveries.map((d) => d.recipient)}::text[])
            AS claim(key, kind, job_id, recipient)
          ORDER BY key
          ON CONFLICT (key) DO UPDATE
            SET kind = EXCLUDED.kind, job_id = EXCLUDED.job_id, recipient = EXCLUDED.recipient,
                claimed_by = EXCLUDED.claimed_by, claimed_at = now()
            WHERE d.sent_at IS NULL
              AND (d.claimed_by IS NULL OR d.claimed_by = EXCLUDED.claimed_by
                   OR d.claimed_at < now() - ${Duration.toMillis(lease)}::int * interval '1 millisecond')
          RETURNING key
        )
        SELECT key, 'claimed' AS standing FROM claimed
        UNION ALL
        SELECT key, 'recorded' FROM deliveries WHERE key = ANY(${keys}::text[]) AND sent_at IS NOT NULL`
    ).pipe(Effect.flatMap((rows) => Effect.orDie(decodeClaimRows(rows))), Effect.map((rows) => standings(keys, rows)))
  },
  settle: (claim, settled) =>
    settled.length === 0 ? Effect.void : persistently(
      "recording deliveries",
      // One statement in key order (as claims lock), withdrawn claims included: released, not deleted.
      sql`
        INSERT INTO deliveries AS d (key, kind, job_id, recipient, claimed_by, message_id, sent_at)
        SELECT key, kind, job_id, recipient,
               CASE WHEN message_id IS NULL THEN NULL ELSE ${claim} END, message_id,
               CASE WHEN message_id IS NULL THEN NULL ELSE now() END
        FROM unnest(${settled.map((s) => s.delivery.key)}::text[], ${settled.map((s) => s.delivery.kind)}::text[],
                    ${settled.map((s) => s.delivery.jobId)}::text[], ${settled.map((s) => s.delivery.recipient)}::text[],
                    ${settled.map((s) => s.messageId ?? null)}::text[])
          AS settled(key, kind, job_id, recipient, message_id)
        ORDER BY key
        ON CONFLICT (key) DO UPDATE
          SET claimed_by = EXCLUDED.claimed_by, message_id = EXCLUDED.message_id, sent_at = EXCLUDED.sent_at
          WHERE d.sent_at IS NULL AND (EXCLUDED.sent_at IS NOT NULL OR d.claimed_by = ${claim})`
    ).pipe(Effect.asVoid)
})

/** Each key's standing: claimed or recorded as the statement answered, otherwise held by another run. */
const standings = (keys: ReadonlyArray<string>, rows: ReadonlyArray<{ key: string; standing: Standing }>) => {
  const answered = new Map(rows.map(({ key, standing }) => [key, standing]))
  return new Map(keys.map((key) => [key, answered.get(key) ?? "held"]))
}

interface MemoryRow {
  claimedBy: string | null
  claimedAt: number
  sent: boolean
}

const memoryLog = (lease: Duration.Duration): DeliveryLog => {
  const rows = new Map<string, MemoryRow>()
  return {
    claim: (claim, deliveries) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        new Map(deliveries.map(({ key }): [string, Standing] => {
          const row = rows.get(key)
          if (row?.sent) return [key, "recorded"]
          const free = row === undefined || row.claimedBy === null || row.claimedBy === claim ||
            row.claimedAt < now - Duration.toMillis(lease)
          if (!free) return [key, "held"]
          rows.set(key, { claimedBy: claim, claimedAt: now, sent: false })
          return [key, "claimed"]
        }))),
    settle: (claim, settled) =>
      Effect.sync(() => {
        for (const { delivery, messageId } of settled) {
          const row = rows.get(delivery.key)
          if (row?.sent) continue
          if (messageId !== undefined) rows.set(delivery.key, { claimedBy: claim, claimedAt: row?.claimedAt ?? 0, sent: true })
          else if (row?.claimedBy === claim) row.claimedBy = null
        }
      })
  }
}
