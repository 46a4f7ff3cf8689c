/**
 * BullMQ, on Redis when one is configured (keys under `<QUEUE_PREFIX>:<this database's namespace>`),
 * otherwise on BullMQ's PostgreSQL backend in the application database (so the embedded default
 * runs the whole flow with no other service).
 * It owns the queue objects: the relay publishes through it, workers and the health view use it.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import {
  createPostgresBackend,
  type Job as BullJob,
  type JobsOptions,
  type PostgresConnectionOptions,
  Queue,
  withBackend,
  Worker
} from "bullmq"
import { Context, Duration, Effect, Layer, Option, Redacted, Runtime, Schema, type Scope } from "effect"
import { Redis } from "ioredis"
import type { EventEmitter } from "node:events"
import { AppConfig, type JobSettings } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { type QueueName, QueueNames } from "./JobCatalogue.ts"
import { jobIdOf, type OutboxEntry } from "./Outbox.ts"

/** The backend did not answer in time or refused; nothing was lost, the caller tries again later. */
export class QueueUnavailable extends Schema.TaggedError<QueueUnavailable>()("QueueUnavailable", {
  message: Schema.String
}) {}

export const QueueCounts = Schema.Struct({
  name: Schema.Literal(...QueueNames),
  waiting: Schema.Int,
  active: Schema.Int,
  delayed: Schema.Int,
  failed: Schema.Int,
  completed: Schema.Int
}).annotations({ identifier: "QueueCounts" })
export type QueueCounts = typeof QueueCounts.Type

export type BackendKind = "redis" | "postgres"

export class QueueBackend extends Context.Tag("QueueBackend")<QueueBackend, {
  readonly kind: BackendKind
  /** Adds the entries as jobs, each under its deterministic id (a second add of an id is ignored). */
  readonly publish: (entries: ReadonlyArray<OutboxEntry>) => Effect.Effect<void, QueueUnavailable>
  readonly counts: Effect.Effect<ReadonlyArray<QueueCounts>, QueueUnavailable>
  /**
   * Runs a worker on `queue` until the scope closes; closing lets in-flight jobs finish (bounded),
   * and a job cut short is handed to another worker once its lock expires.
   */
  readonly work: (
    queue: QueueName,
    handler: (job: BullJob) => Promise<void>,
    concurrency: number
  ) => Effect.Effect<void, never, Scope.Scope>
}>() {
  static readonly layer = Layer.scoped(
    QueueBackend,
    Effect.gen(function*() {
      const { jobs } = yield* AppConfig
      const driver = Option.isSome(jobs.redisUrl)
        ? redisDriver(Redacted.value(jobs.redisUrl.value), `${jobs.prefix}:${yield* queueNamespace}`)
        : postgresDriver(postgresConnection((yield* PgClient.PgClient).config))
      yield* Effect.addFinalizer(() => Effect.promise(driver.close))
      yield* Effect.logInfo(`job queues on ${driver.kind === "redis" ? "Redis" : "PostgreSQL (BullMQ's PostgreSQL backend)"}`)

      const runtime = yield* Effect.runtime<never>()
      const reportErrors = (emitter: EventEmitter, what: string) => {
        // A backend that is down fails every reconnect: one warning a minute says it.
        let lastLogged = 0
        emitter.on("error", (error: unknown) => {
          if (Date.now() - lastLogged < 60_000) return
          lastLogged = Date.now()
          Runtime.runFork(runtime)(Effect.logWarning(`${what}: ${String(error)} (repeats are silent for a minute)`))
        })
      }

      const defaultJobOptions = jobOptions(jobs)
      const queues = new Map<QueueName, Queue>()
      for (const name of QueueNames) {
        const queue = yield* Effect.acquireRelease(
          Effect.sync(() => driver.queue(name, defaultJobOptions)),
          (queue) => Effect.promise(() => queue.close()).pipe(Effect.timeoutOption("5 seconds"))
        )
        reportErrors(queue, `queue ${name}`)
        queues.set(name, queue)
      }

      const attempt = <A>(what: string, run: () => Promise<A>) =>
        Effect.tryPromise({
          try: run,
          catch: (cause) => new QueueUnavailable({ message: `${what} failed: ${String(cause)}` })
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(jobs.publishTimeoutMs),
            onTimeout: () => new QueueUnavailable({ message: `${what} timed out after ${jobs.publishTimeoutMs} ms` })
          })
        )

      return {
        kind: driver.kind,

        publish: (entries) =>
          Effect.forEach(QueueNames, (name) => {
            const jobsOfQueue = entries.filter((entry) => entry.queue === name)
            if (jobsOfQueue.length === 0) return Effect.void
            return attempt(`publishing to ${name}`, () =>
              queues.get(name)!.addBulk(jobsOfQueue.map((entry) => ({
                name: entry.name,
                data: entry.payload,
                opts: entry.delayMs > 0 ? { jobId: jobIdOf(entry), delay: entry.delayMs } : { jobId: jobIdOf(entry) }
              }))))
          }, { discard: true }),

        counts: Effect.forEach(
          QueueNames,
          (name) =>
            attempt(`counting jobs of ${name}`, () => queues.get(name)!.getJobCounts("waiting", "active", "delayed", "failed", "completed"))
              .pipe(
                Effect.map((counts) => ({
                  name,
                  waiting: counts.waiting ?? 0,
                  active: counts.active ?? 0,
                  delayed: counts.delayed ?? 0,
                  failed: counts.failed ?? 0,
                  completed: counts.completed ?? 0
                }))
              )
        ),

        work: (name, handler, concurrency) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              const worker = driver.worker(name, handler, {
                concurrency,
                lockDuration: jobs.lockDurationMs,
                stalledInterval: jobs.lockDurationMs,
                maxStalledCount: 2
              })
              reportErrors(worker, `worker ${name}`)
              return worker
            }),
            (worker) =>
              Effect.promise(() => worker.close()).pipe(
                Effect.timeoutOption("30 seconds"),
                // Past that, give the jobs up: their locks expire and another worker takes them.
                Effect.flatMap(Option.match({ onSome: () => Effect.void, onNone: () => Effect.promise(() => worker.close(true)) }))
              )
          ).pipe(Effect.asVoid)
      }
    })
  ).pipe(traced(QueueBackend, {
    publish: (entries) => ({ "queue.jobs": entries.length }),
    work: (queue, _, concurrency) => ({ "queue.name": queue, "queue.concurrency": concurrency })
  }))
}

/**
 * This database's part of Redis (migration 0005): jobs carry ids that only mean something in the
 * database that wrote them, so only its workers may take them.
 */
export const queueNamespace = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  SqlSchema.single({
    Request: Schema.Void,
    Result: Schema.Struct({ id: Schema.String }),
    execute: () => sql`SELECT id::text AS id FROM queue_namespace`
  })(undefined)).pipe(
    Effect.map((row) => row.id),
    Effect.orDie
  )

/** Retries with exponential backoff; completed jobs trimmed, failed ones kept a week for inspection. */
const jobOptions = (jobs: JobSettings): JobsOptions => ({
  attempts: jobs.attempts,
  backoff: { type: "exponential", delay: jobs.backoffMs },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 }
})

type WorkerOptions = { concurrency: number; lockDuration: number; stalledInterval: number; maxStalledCount: number }

interface Driver {
  readonly kind: BackendKind
  readonly queue: (name: QueueName, defaultJobOptions: JobsOptions) => Queue
  readonly worker: (name: QueueName, handler: (job: BullJob) => Promise<void>, options: WorkerOptions) => Worker
  /** Closes the connections the queue objects do not own. */
  readonly close: () => Promise<void>
}

const redisDriver = (url: string, prefix: string): Driver => {
  const connections: Array<Redis> = []
  // BullMQ needs `maxRetriesPerRequest: null` (its blocking commands wait indefinitely).
  const connect = (options: { enableOfflineQueue?: boolean } = {}) => {
    const connection = new Redis(url, { maxRetriesPerRequest: null, ...options })
    connection.on("error", () => {}) // reported through the queue and worker objects
    connections.push(connection)
    return connection
  }
  // Producers fail fast rather than buffer commands while Redis is away.
  const producer = connect({ enableOfflineQueue: false })
  return {
    kind: "redis",
    queue: (name, defaultJobOptions) => new Queue(name, { connection: producer, prefix, defaultJobOptions }),
    worker: (name, handler, options) => new Worker(name, handler, { ...options, connection: connect(), prefix }),
    close: async () => {
      for (const connection of connections) connection.disconnect()
    }
  }
}

const postgresDriver = (connection: PostgresConnectionOptions): Driver => {
  const { Queue: PgQueue, Worker: PgWorker } = withBackend(createPostgresBackend)
  return {
    kind: "postgres",
    queue: (name, defaultJobOptions) => new PgQueue(name, { connection, defaultJobOptions }) as unknown as Queue,
    worker: (name, handler, options) => new PgWorker(name, handler, { ...options, connection }) as unknown as Worker,
    close: async () => {}
  }
}

/** The application database, as BullMQ's PostgreSQL backend takes it: its own small pool, tables in schema `bullmq`. */
const postgresConnection = (config: PgClient.PgClientConfig): PostgresConnectionOptions => ({
  connectionString: config.url !== undefined ? Redacted.value(config.url) : urlOf(config),
  max: 3,
  // Creates or upgrades its tables on first use (without it a fresh database is never ready).
  migrate: true
})

const urlOf = ({ database, host, password, port, username }: PgClient.PgClientConfig) => {
  const url = new URL(`postgres://${host ?? "localhost"}:${port ?? 5432}`)
  url.username = encodeURIComponent(username ?? "postgres")
  if (password !== undefined) url.password = encodeURIComponent(Redacted.value(password))
  url.pathname = `/${encodeURIComponent(database ?? "postgres")}`
  return url.toString()
}
