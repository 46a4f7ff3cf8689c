/**
 * The transactional outbox: jobs are rows written in the transaction of the change they report,
 * so a job exists exactly when its change committed. The relay (Relay.ts) moves them to BullMQ.
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Schema, Stream, type Tracer } from "effect"
import { currentSpan, traced, traceparentOf } from "../Telemetry/Tracing.ts"
import { Job, type JobName, type QueueName, queueOf, runAtOf } from "./Job.ts"

/**
 * NOTIFY channel: PostgreSQL delivers it when the writing transaction commits, never before, and
 * merges identical notifications of one transaction. The payload must not be empty: PgClient.listen
 * drops notifications without one.
 */
const CHANNEL = "outbox_pending"
const PAYLOAD = "commit"

export interface OutboxEntry {
  /** The row's position in the outbox (it restarts with a new database: never an identity elsewhere). */
  readonly id: string
  /** A UUID the database gives each row (rows from before migration 0003: their id), the same on every re-publish. */
  readonly jobId: string
  readonly queue: QueueName
  readonly name: JobName
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

const encodeJob = Schema.encodeSync(Job)

/**
 * What a row's payload holds, and a BullMQ job's data: the job as its schema encodes it, and the
 * `traceparent` of the span it reports when tracing is on (the Job schema ignores that field).
 */
const payloadOf = (job: Job, span: Tracer.AnySpan | undefined) => {
  const encoded = encodeJob(job)
  return span === undefined ? encoded : { ...encoded, traceparent: traceparentOf(span) }
}

export class Outbox extends Context.Tag("Outbox")<Outbox, {
  /**
   * Writes `jobs`; inside `sql.withTransaction` they commit or roll back with the caller's change.
   * Job i carries the trace context of `spans[i]` (default: the current span, if tracing is on).
   */
  readonly append: (jobs: ReadonlyArray<Job>, spans?: ReadonlyArray<Tracer.AnySpan | undefined>) => Effect.Effect<void>
  /**
   * Claims up to `limit` pending rows (rows another relay holds are skipped), hands them to
   * `publish` and marks them published, all in one transaction: if publishing fails, the rows stay
   * pending. Answers how many rows were published.
   */
  readonly publishPending: <E>(
    limit: number,
    publish: (entries: ReadonlyArray<OutboxEntry>) => Effect.Effect<void, E>
  ) => Effect.Effect<number, E>
  /** Deletes rows published more than `hours` ago. */
  readonly prune: (hours: number) => Effect.Effect<number>
  readonly backlog: Effect.Effect<Backlog>
  /** One element each time a transaction that appended jobs commits (a dedicated LISTEN connection). */
  readonly commits: Stream.Stream<void, unknown>
}>() {
  static readonly layer = Layer.effect(
    Outbox,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const pg = yield* PgClient.PgClient
      return {
        append: (jobs, spans) =>
          // One round trip for any number of rows, and the notification PostgreSQL holds back until commit.
          Effect.flatMap(spans === undefined ? currentSpan : Effect.succeed(undefined), (current) =>
            sql`
            WITH rows AS (
              INSERT INTO outbox (queue, name, payload, run_at)
              SELECT * FROM unnest(
                ${jobs.map(queueOf)}::text[],
                ${jobs.map((job) => job._tag)}::text[],
                ${jobs.map((job, i) => JSON.stringify(payloadOf(job, spans === undefined ? current : spans[i])))}::jsonb[],
                ${jobs.map(runAtOf)}::timestamptz[])
              RETURNING id
            )
            SELECT pg_notify(${CHANNEL}, ${PAYLOAD}) WHERE EXISTS (SELECT FROM rows)`).pipe(Effect.asVoid, Effect.orDie),

        // The rows are marked and read in one statement; publishing fails → the transaction rolls
        // back, and they are pending again.
        publishPending: (limit, publish) =>
          sql.withTransaction(Effect.gen(function*() {
            const entries = yield* sql<OutboxEntry>`
              UPDATE outbox o SET published_at = now()
              FROM (
                SELECT id FROM outbox
                WHERE published_at IS NULL
                ORDER BY id
                LIMIT ${limit}
                FOR UPDATE SKIP LOCKED
              ) pending
              WHERE o.id = pending.id
              RETURNING o.id, o.job_id AS "jobId", o.queue, o.name, o.payload,
                        GREATEST(0, COALESCE(ceil(extract(epoch FROM o.run_at - now()) * 1000), 0))::float8 AS "delayMs"`
            if (entries.length === 0) return 0
            // UPDATE ... RETURNING gives no order: publish in the outbox's.
            yield* publish([...entries].sort((a, b) => Number(a.id) - Number(b.id)))
            return entries.length
          })).pipe(Effect.catchTag("SqlError", Effect.die)),

        prune: (hours) =>
          sql<{ id: string }>`
            DELETE FROM outbox
            WHERE published_at < now() - make_interval(hours => ${hours})
            RETURNING id`.pipe(Effect.map((rows) => rows.length), Effect.orDie),

        backlog: sql<{ pending: number; oldest: number | null }>`
          SELECT count(*)::int AS pending,
                 extract(epoch FROM now() - min(created_at))::float8 AS oldest
          FROM outbox WHERE published_at IS NULL`.pipe(
          Effect.map(([row]) => ({
            pending: row!.pending,
            oldestPendingSeconds: row!.oldest === null ? null : Math.round(row!.oldest)
          })),
          Effect.orDie
        ),

        commits: pg.listen(CHANNEL).pipe(Stream.as(undefined))
      }
    })
  ).pipe(traced(Outbox, {
    append: (jobs) => ({ "outbox.jobs": jobs.length }),
    publishPending: (limit) => ({ "outbox.limit": limit }),
    prune: (hours) => ({ "outbox.retention_hours": hours })
  }))
}
