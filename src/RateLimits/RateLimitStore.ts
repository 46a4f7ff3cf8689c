/**
 * Counters for rate limits, shared by every instance of the app: on Redis when one is configured,
 * otherwise in PostgreSQL (the app database); in memory for the fast test tiers.
 *
 * A counter is a fixed window: the first hit opens it for `windowMs`, later hits count in it, and
 * it ends on time whatever happens meanwhile (hits past a limit never extend it).
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Option, Redacted, Ref, Schedule, Schema } from "effect"
import { Redis } from "ioredis"
import { AppConfig } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface Window {
  /** Hits counted in the current window, this one included. */
  readonly hits: number
  /** Milliseconds until the window ends. */
  readonly resetMs: number
}

/** The store did not answer (in time); callers let the request through rather than fail it. */
export class RateLimitStoreUnavailable extends Schema.TaggedError<RateLimitStoreUnavailable>()("RateLimitStoreUnavailable", {
  message: Schema.String
}) {}

/** A store slower than this is treated as unavailable: a login never waits on it for long. */
const TIMEOUT = Duration.seconds(1)

export class RateLimitStore extends Context.Tag("RateLimitStore")<RateLimitStore, {
  /** Counts one hit on `key`; a window of `windowMs` opens with the first hit after the last window ended. */
  readonly hit: (key: string, windowMs: number) => Effect.Effect<Window, RateLimitStoreUnavailable>
  /** Takes one hit back (an attempt that turned out not to count), if its window is still open. */
  readonly release: (key: string) => Effect.Effect<void, RateLimitStoreUnavailable>
}>() {
  static readonly layerMemory = Layer.effect(
    RateLimitStore,
    Effect.gen(function*() {
      const windows = yield* Ref.make(new Map<string, { hits: number; resetsAt: number }>())
      return {
        hit: (key, windowMs) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Ref.modify(windows, (all) => {
              // Forget ended windows now and then, so the map stays as small as the open ones.
              if (all.size > 10_000) { for (const [k, w] of all) if (w.resetsAt <= now) all.delete(k) }
              const open = all.get(key)
              const next = open !== undefined && open.resetsAt > now
                ? { hits: open.hits + 1, resetsAt: open.resetsAt }
                : { hits: 1, resetsAt: now + windowMs }
              all.set(key, next)
              return [{ hits: next.hits, resetMs: next.resetsAt - now }, all]
            })),
        release: (key) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Ref.update(windows, (all) => {
              const open = all.get(key)
              if (open !== undefined && open.resetsAt > now && open.hits > 0) all.set(key, { ...open, hits: open.hits - 1 })
              return all
            }))
      }
    })
  )

  /** In the `rate_limits` table (migration 0004); ended windows are deleted every 10 minutes. */
  static readonly layerSql = Layer.scoped(
    RateLimitStore,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const unavailable = (cause: unknown) => new RateLimitStoreUnavailable({ message: `rate limits in PostgreSQL: ${String(cause)}` })
      yield* sql`DELETE FROM rate_limits WHERE resets_at <= now()`.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("pruning rate limits failed", cause)),
        Effect.repeat(Schedule.spaced("10 minutes")),
        Effect.delay("10 minutes"),
        Effect.forkScoped
      )
      const hit = SqlSchema.single({
        Request: Schema.Struct({ key: Schema.String, windowMs: Schema.Number }),
        Result: Schema.Struct({ hits: Schema.Int, reset_ms: Schema.Int }),
        execute: ({ key, windowMs }) =>
          sql`
            INSERT INTO rate_limits AS r (key, hits, resets_at)
            VALUES (${key}, 1, now() + make_interval(secs => ${windowMs / 1000}))
            ON CONFLICT (key) DO UPDATE SET
              hits = CASE WHEN r.resets_at > now() THEN r.hits + 1 ELSE 1 END,
              resets_at = CASE WHEN r.resets_at > now() THEN r.resets_at ELSE excluded.resets_at END
            RETURNING hits, greatest(0, ceil(extract(epoch FROM resets_at - now()) * 1000))::int AS reset_ms`
      })
      return {
        hit: (key, windowMs) =>
          hit({ key, windowMs }).pipe(
            Effect.map((row) => ({ hits: row.hits, resetMs: row.reset_ms })),
            Effect.catchTags({
              SqlError: (cause) => Effect.fail(unavailable(cause)),
              ParseError: Effect.die,
              NoSuchElementException: Effect.die
            }),
            Effect.timeoutFail({ duration: TIMEOUT, onTimeout: () => unavailable("timed out") })
          ),
        release: (key) =>
          sql`UPDATE rate_limits SET hits = hits - 1 WHERE key = ${key} AND resets_at > now() AND hits > 0`.pipe(
            Effect.asVoid,
            Effect.mapError(unavailable),
            Effect.timeoutFail({ duration: TIMEOUT, onTimeout: () => unavailable("timed out") })
          )
      }
    })
  )

  /** On Redis, one key per counter under `<prefix>:rate-limit:`, expiring with its window. */
  static readonly layerRedis = (url: string, prefix: string) =>
    Layer.scoped(
      RateLimitStore,
      Effect.gen(function*() {
        // No offline queue: while Redis is away a command fails at once instead of waiting.
        const redis = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
            redis.on("error", () => {}) // each failed command says so to its caller
            return redis
          }),
          (redis) => Effect.sync(() => redis.disconnect())
        )
        // The first command waits (briefly) for the first connection; later ones never wait.
        const connected = yield* Effect.cached(
          Effect.async<void>((resume) => {
            if (redis.status === "ready") return resume(Effect.void)
            redis.once("ready", () => resume(Effect.void))
          }).pipe(Effect.timeoutOption(TIMEOUT))
        )
        const keyOf = (key: string) => `${prefix}:rate-limit:${key}`
        const run = <A>(what: string, command: () => Promise<A>) =>
          Effect.zipRight(
            connected,
            Effect.tryPromise({
              try: command,
              catch: (cause) => new RateLimitStoreUnavailable({ message: `rate limits on Redis (${what}): ${String(cause)}` })
            })
          ).pipe(
            Effect.timeoutFail({
              duration: TIMEOUT,
              onTimeout: () => new RateLimitStoreUnavailable({ message: `rate limits on Redis (${what}): timed out` })
            })
          )
        return {
          hit: (key, windowMs) =>
            run("hit", () => redis.eval(HIT, 1, keyOf(key), windowMs) as Promise<[number, number]>).pipe(
              Effect.map(([hits, resetMs]) => ({ hits, resetMs }))
            ),
          release: (key) => run("release", () => redis.eval(RELEASE, 1, keyOf(key))).pipe(Effect.asVoid)
        }
      })
    )

  /** Redis when `REDIS_URL` (or `REDIS_HOST`/`REDIS_PORT`) is set, under `QUEUE_PREFIX`; else PostgreSQL. */
  static readonly layer = Layer.unwrapEffect(
    Effect.map(AppConfig, ({ jobs }) =>
      Option.match(jobs.redisUrl, {
        onNone: () => RateLimitStore.layerSql,
        onSome: (url) => RateLimitStore.layerRedis(Redacted.value(url), jobs.prefix)
      }))
  ).pipe(traced(RateLimitStore))
}

// One round trip each, atomic on the server. A key without expiry (never expected) gets one.
const HIT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { hits, ttl }`

const RELEASE = `
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits > 0 then redis.call('DECR', KEYS[1]) end
return 0`
