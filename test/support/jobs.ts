/**
 * The application with real job delivery, for the queue tiers: a fresh database, BullMQ on Redis
 * (under a prefix of its own, deleted afterwards) or on PostgreSQL, and SMTP into a sink.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Duration, Effect, Layer, Logger, LogLevel, Schedule } from "effect"
import { randomBytes } from "node:crypto"
import { inject } from "vitest"
import { deleteKeysUnder } from "../../scripts/redis-keys.ts"
import { JobWorkersLive } from "../../src/Background.ts"
import { HttpLive } from "../../src/Http.ts"
import { CatalogueChanges } from "../../src/Inventory/CatalogueChanges.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { JobsLive } from "../../src/Jobs/Jobs.ts"
import { Outbox } from "../../src/Jobs/Outbox.ts"
import { QueueBackend } from "../../src/Jobs/QueueBackend.ts"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig, type SettingsMap } from "../../src/Platform/Config.ts"
import { TracingLive } from "../../src/Telemetry/Tracing.ts"
import { TestDatabaseLive } from "./database.ts"

export const redisUrl = inject("redisUrl")

/** A BullMQ key prefix for one test; its keys are deleted when the scope closes. */
export const redisPrefix = Effect.acquireRelease(
  Effect.sync(() => `test-${randomBytes(4).toString("hex")}`),
  (prefix) => Effect.promise(() => deleteKeysUnder(redisUrl, prefix))
)

/** Fast polling, short timeouts and locks: faults show up in seconds instead of minutes. */
export const fastJobs: SettingsMap = {
  OUTBOX_POLL_MS: 100,
  OUTBOX_PUBLISH_TIMEOUT_MS: 500,
  JOB_BACKOFF_MS: 200,
  JOB_LOCK_MS: 1_500
}

/** Mail through the SMTP server at `url` (a test's sink). */
export const smtp = (url: string): SettingsMap => ({ SMTP_URL: url })

/** Jobs on BullMQ's Redis backend, under `prefix`. */
export const queuesOnRedis = (prefix: string, url = redisUrl): SettingsMap => ({ REDIS_URL: url, QUEUE_PREFIX: prefix })

/**
 * The HTTP API, the relay and (unless `workers: false`) the workers over a fresh database (or
 * `database`), traced as `npm start` traces: over OTLP when `telemetry.otlp` is set, else not at all.
 */
export const jobsApp = (
  settings: SettingsMap,
  options: { readonly workers?: boolean; readonly database?: typeof TestDatabaseLive } = {}
) =>
  Layer.mergeAll(HttpLive, options.workers ?? true ? JobWorkersLive : Layer.empty).pipe(
    Layer.provideMerge(Inventory.layer),
    Layer.provideMerge(CatalogueChanges.layer),
    Layer.provideMerge(JobsLive),
    Layer.provideMerge(JobCatalogueLive),
    Layer.provideMerge(PersistenceSql),
    Layer.provideMerge(options.database ?? TestDatabaseLive),
    Layer.provideMerge(TracingLive),
    Layer.provideMerge(AppConfig.layerTest(settings)),
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )

/** Polls `read` until `done` holds (answering the last value), failing the test after `within`. */
export const eventually = <A, E, R>(read: Effect.Effect<A, E, R>, done: (a: A) => boolean, within = Duration.seconds(20)) =>
  read.pipe(
    Effect.filterOrFail(done, (last) => new Error(`condition not met; last value: ${JSON.stringify(last)}`)),
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo(within)))
  )

/**
 * Once nothing is left to send: the outbox is empty, and then no job waits, runs or is delayed
 * (read in that order, so that a job published in between is counted). A test that then counts the
 * emails sees every one there will be, a duplicate included, without sleeping for it.
 */
export const jobsSettled = eventually(
  Effect.gen(function*() {
    const { pending } = yield* (yield* Outbox).backlog
    const queues = yield* (yield* QueueBackend).counts
    return { pending, queues }
  }),
  ({ pending, queues }) => pending === 0 && queues.every((queue) => queue.waiting + queue.active + queue.delayed === 0),
  Duration.seconds(30)
)

/**
 * The delivery log once it records at least `n` emails as sent (an email reaches the SMTP sink just
 * before its record): their count, so that a test still sees a duplicate.
 */
export const deliveriesOnceAtLeast = (n: number) => eventually(deliveryCount, (count) => count >= n)

export const deliveryCount = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ n: number }>`SELECT count(*)::int AS n FROM deliveries WHERE sent_at IS NOT NULL`.pipe(
      Effect.map(([row]) => row!.n),
      Effect.orDie
    )
)
