/**
 * The transactional outbox: jobs are rows written in the transaction of the change they report,
 * so a job exists exactly when its change committed. The relay (Relay.ts) moves them to BullMQ:
 * at once for the rows this process committed (handed over by `committed`), and by a slower
 * sweep for any row left pending (a crash before publishing, a queue that was down).
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Context, type Duration, Effect, Layer, type ParseResult, Queue, Schema, type Tracer } from "effect"
import { escapeLiteral, jsonLiteral } from "../Storage/SqlLiteral.ts"
import { atCommit } from "../Storage/Transactions.ts"
import { currentSpan, traced, traceparentOf } from "../Telemetry/Tracing.ts"
import { type AnyJob, JobCatalogue, type QueueName, QueueNames } from "./JobCatalogue.ts"

export interface OutboxEntry {
  /** The row's position in the outbox (it restarts with a new database: never an identity elsewhere). */
  readonly id: string
  /** A UUID the database gives each row (rows from before migration 0003: their id), the same on every re-publish. */
  readonly jobId: string
  readonly queue: QueueName
  readonly name: string
  readonly payload: unknown
  /** How long BullMQ must keep the job before running it (0: at once), by the database's clock. */
  readonly delayMs: number
}

/**
 * The BullMQ job id of an outbox row: the same row always gives the same id, so a re-publish is
 * ignored; another row never does, even in another database on the same Redis.
 */
export const jobIdOf = (entry: Pick<OutboxEntry, "jobId" | "name">): string => `${entry.name}-${entry.jobId}`

export interface Backlog {
  readonly pending: number
  readonly oldestPendingSeconds: number | null
}

/**
 * What a row's payload holds, and a BullMQ job's data: the job as its schema encodes it, and the
 * `traceparent` of the span it reports when tracing is on (the job's schema ignores that field).
 */
const payloadOf = (encoded: unknown, span: Tracer.AnySpan | undefined) =>
  span === undefined ? encoded : { ...(encoded as object), traceparent: traceparentOf(span) }

/** A row as the relay publishes it, from INSERT or UPDATE ... RETURNING. */
const ENTRY_COLUMNS = `id, job_id AS "jobId", queue, name, payload,
  GREATEST(0, COALESCE(ceil(extract(epoch FROM run_at - now()) * 1000), 0))::float8 AS "delayMs"`

/**
 * Rows of ENTRY_COLUMNS (`id` is a bigint: text), decoded where they leave the outbox for the
 * relay: a name must be one of the catalogue's jobs.
 */
const entriesDecoder = (
  names: ReadonlyArray<string>
): (rows: unknown) => Effect.Effect<ReadonlyArray<OutboxEntry>, ParseResult.ParseError> =>
  Schema.decodeUnknown(
    Schema.Array(Schema.Struct({
      id: Schema.String,
      jobId: Schema.String,
      queue: Schema.Literal(...QueueNames),
      name: Schema.Literal(...names),
      payload: Schema.Unknown,
      delayMs: Schema.Number
    }))
  )

/** RETURNING gives no order: the relay publishes in the outbox's. */
const inOutboxOrder = (entries: ReadonlyArray<OutboxEntry>) => [...entries].sort((a, b) => Number(a.id) - Number(b.id))

export class Outbox extends Context.Tag("Outbox")<Outbox, {
  /**
   * Writes `jobs` with the caller's change: inside `Transactions.run` they are sent with its
   * COMMIT, and handed to `committed` once it committed. Job i carries the trace context of
   * `spans[i]` (default: the current span, if tracing is on).
   */
  readonly append: (jobs: ReadonlyArray<AnyJob>, spans?: ReadonlyArray<Tracer.AnySpan | undefined>) => Effect.Effect<void>
  /**
   * Waits for rows this process committed, then `gather` longer for more, and takes all of them
   * (in outbox order) for the relay.
   */
  readonly committed: (gather: Duration.DurationInput) => Effect.Effect<ReadonlyArray<OutboxEntry>>
  /** Marks rows published (the relay published them itself, outside any claim). */
  readonly markPublished: (ids: ReadonlyArray<string>) => Effect.Effect<void>
  /**
   * Claims up to `limit` pending rows at least `minAgeMs` old (rows another relay holds are
   * skipped), hands them to `publish` and marks them published, all in one transaction: if
   * publishing fails, the rows stay pending. Answers how many rows were published.
   */
  readonly publishPending: <E>(
    limit: number,
    publish: (entries: ReadonlyArray<OutboxEntry>) => Effect.Effect<void, E>,
    minAgeMs?: number
  ) => Effect.Effect<number, E>
  /** Deletes rows published more than `hours` ago. */
  readonly prune: (hours: number) => Effect.Effect<number>
  readonly backlog: Effect.Effect<Backlog>
}>() {
  static readonly layer = Layer.effect(
    Outbox,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const catalogue = yield* JobCatalogue
      const decodeEntries = entriesDecoder(catalogue.names)
      // The job types' conditions, one CASE over the row's name (nothing when no type has one).
      const conditions = [...catalogue.conditions]
      const onlyIf = conditions.length === 0 ?
        "" :
        `WHERE CASE r.name ${
          conditions.map(([name, condition]) => `WHEN ${escapeLiteral(name)} THEN (${condition})`).join(" ")
        } ELSE true END`
      // Batches of rows committed here (as the driver gave them), until the relay takes them.
      const committed = yield* Queue.unbounded<ReadonlyArray<unknown>>()
      const backlog = SqlSchema.single({
        Request: Schema.Void,
        Result: Schema.Struct({ pending: Schema.Int, oldest: Schema.NullOr(Schema.Number) }),
        execute: () =>
          sql`
            SELECT count(*)::int AS pending,
                   extract(epoch FROM now() - min(created_at))::float8 AS oldest
            FROM outbox WHERE published_at IS NULL`
      })
      return {
        append: (jobs, spans) =>
          Effect.flatMap(spans === undefined ? currentSpan : Effect.succeed(undefined), (current) => {
            const rows = jobs.map((job, i) => ({
              n: i,
              queue: catalogue.queueOf(job),
              name: job._tag,
              payload: payloadOf(catalogue.encode(job), spans === undefined ? current : spans[i]),
              run_at: catalogue.runAtOf(job)
            }))
            // Sent with the COMMIT: its values inline (a JSON literal, escaped).
            return atCommit(sql, {
              text: `
                INSERT INTO outbox (queue, name, payload, run_at)
                SELECT r.queue, r.name, r.payload, r.run_at
                FROM jsonb_to_recordset(${jsonLiteral(rows)})
                     AS r(n int, queue text, name text, payload jsonb, run_at timestamptz)
                ${onlyIf}
                ORDER BY r.n
                RETURNING ${ENTRY_COLUMNS}`,
              committed: (rows) => Queue.unsafeOffer(committed, rows)
            })
          }),

        committed: (gather) =>
          Effect.flatMap(
            Effect.zipWith(
              Queue.take(committed),
              Effect.zipRight(Effect.sleep(gather), Queue.takeAll(committed)),
              (first, rest) => [first, ...rest].flat()
            ),
            decodeEntries
          ).pipe(Effect.map(inOutboxOrder), Effect.orDie),

        markPublished: (ids) =>
          sql`UPDATE outbox SET published_at = now() WHERE id = ANY(${ids}::bigint[]) AND published_at IS NULL`.pipe(
            Effect.asVoid,
            Effect.orDie
          ),

        // The rows are marked and read in one statement; publishing fails → the transaction rolls
        // back, and they are pending again.
        publishPending: (limit, publish, minAgeMs = 0) =>
          sql.withTransaction(Effect.gen(function*() {
            const entries = yield* Effect.flatMap(
              sql`
              UPDATE outbox o SET published_at = now()
              FROM (
                SELECT id AS pending_id FROM outbox
                WHERE published_at IS NULL AND created_at <= now() - make_interval(secs => ${minAgeMs / 1000})
                ORDER BY id
                LIMIT ${limit}
                FOR UPDATE SKIP LOCKED
              ) pending
              WHERE o.id = pending.pending_id
              RETURNING ${sql.literal(ENTRY_COLUMNS)}`,
              (rows) => Effect.orDie(decodeEntries(rows))
            )
            if (entries.length === 0) return 0
            yield* publish(inOutboxOrder(entries))
            return entries.length
          })).pipe(Effect.catchTag("SqlError", Effect.die)),

        prune: (hours) =>
          sql`
            DELETE FROM outbox
            WHERE published_at < now() - make_interval(hours => ${hours})
            RETURNING id`.pipe(Effect.map((rows) => rows.length), Effect.orDie),

        backlog: backlog(undefined).pipe(
          Effect.map((row) => ({
            pending: row.pending,
            oldestPendingSeconds: row.oldest === null ? null : Math.round(row.oldest)
          })),
          Effect.orDie
        )
      }
    })
  ).pipe(traced(Outbox, {
    append: (jobs) => ({ "outbox.jobs": jobs.length }),
    publishPending: (limit) => ({ "outbox.limit": limit }),
    prune: (hours) => ({ "outbox.retention_hours": hours })
  }))
}
