/**
 * Typed configuration, read once from the environment through Effect's `Config`
 * (nothing else reads `process.env`). Each setting is declared once, with its default; tests and tools
 * give theirs as a map of the same names (`AppConfig.layerTest({ HOLD_TTL_SECONDS: 1 })`).
 */
import { Config, type ConfigError, ConfigProvider, Context, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { availableParallelism } from "node:os"
import { Refusal } from "./Refusal.ts"

export interface AppSettings {
  readonly port: number
  readonly production: boolean
  readonly jwt: {
    readonly secret: Redacted.Redacted
    readonly issuer: string
    readonly audience: string
    readonly ttlSeconds: number
  }
  readonly bcryptCost: number
  /** Threads that hash passwords, apart from the event loop. */
  readonly passwordWorkers: number
  readonly maxTicketsPerBooking: number
  /** Tickets one customer may have for one event: booked, held and waited for together. */
  readonly maxTicketsPerCustomerPerEvent: number
  readonly booking: BookingSettings
  readonly holds: HoldSettings
  /** How long an Idempotency-Key and its stored response are kept (Idempotency/Idempotency.ts). */
  readonly idempotencyTtlHours: number
  readonly maxBodyBytes: number
  readonly corsOrigins: ReadonlyArray<string>
  readonly jobs: JobSettings
  readonly mail: MailSettings
  /** Bearer token for the operator endpoints (`/api/admin/...`); unset, they answer 404. */
  readonly adminToken: Option.Option<Redacted.Redacted>
  readonly rateLimits: RateLimitSettings
  readonly server: ServerSettings
  readonly telemetry: TelemetrySettings
  readonly webhooks: WebhookSettings
}

/** How webhooks are posted (src/Webhooks/WebhookSender.ts; docs/decisions/0030-webhook-transport.md). */
export interface WebhookSettings {
  /** Post to loopback, private, link-local... addresses too (development and tests; never the cloud metadata ones). */
  readonly allowPrivate: boolean
  /** `http://` receivers are allowed; by default only outside production, where `https://` is required. */
  readonly allowHttp: boolean
  /** One attempt (name resolution, connection, request and answer) may take this long, then it failed. */
  readonly timeoutMs: number
  /**
   * The waits before each retry of a failed delivery, in ms (WEBHOOK_RETRY_SCHEDULE): its length is
   * the number of retries; after the last, the endpoint is disabled. Each wait gets ±20% jitter.
   */
  readonly retryScheduleMs: ReadonlyArray<number>
}

/** Traces and metrics (src/Telemetry/). Both off unless configured: no spans are made, no port is opened. */
export interface TelemetrySettings {
  /** Spans are made and exported over OTLP/HTTP only when an endpoint is set. */
  readonly otlp: Option.Option<OtlpSettings>
  /** Port of the Prometheus scrape endpoint (`GET /metrics`); unset, none is opened. */
  readonly metricsPort: Option.Option<number>
}

export interface OtlpSettings {
  /** Base URL of the collector (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `<endpoint>/v1/traces`. */
  readonly endpoint: string
  /** Sent with every export (`OTEL_EXPORTER_OTLP_HEADERS`, e.g. a vendor's API key). */
  readonly headers: Redacted.Redacted<Record<string, string>>
  readonly serviceName: string
  /** Finished spans are sent in batches this often (`OTEL_BSP_SCHEDULE_DELAY`). */
  readonly exportIntervalMs: number
}

/** Limits on POST /auth/login and /auth/register (each endpoint counts apart). */
export interface RateLimitSettings {
  /** Failed attempts per account (email) in a window that starts with the first; then 429 until it ends. */
  readonly accountFailures: number
  readonly accountWindowSeconds: number
  /** Attempts (any outcome) per client address in a window that starts with the first; then 429 until it ends. */
  readonly addressAttempts: number
  readonly addressWindowSeconds: number
  /**
   * Proxies in front of the app whose `X-Forwarded-For` is believed: 0 ignores the header (the
   * socket's address is the client); n takes the n-th address from its right end.
   */
  readonly trustProxy: number
}

/** The events' booking lines (see Platform/GroupCommit.ts). */
export interface BookingSettings {
  /** Most changes decided in one transaction (of one event, or of several). */
  readonly maxBatch: number
  /** Most bookings of one event waiting for their turn; more are answered 503 Overloaded. */
  readonly maxWaiting: number
  /** Most of those transactions at once (each holds a pooled connection). */
  readonly maxCommits: number
}

export interface HoldSettings {
  /** An unconfirmed hold (or waiting-list offer) expires this long after it was made. */
  readonly ttlSeconds: number
  /** How often the sweep expires holds whose delayed job was lost (the safety net). */
  readonly sweepIntervalSeconds: number
}

/** The server's time limits: Node's defaults would let a slow client or a stuck request hold a connection for minutes. */
export interface ServerSettings {
  /** A request's headers must arrive within this (else 408 and the connection is closed). */
  readonly headersTimeoutMs: number
  /** The whole request, body included, must arrive within this (else 408). */
  readonly receiveTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number
  /** A request not answered within this gets 503 `RequestTimeout` (its work is interrupted). */
  readonly deadlineMs: number
  /** Each shutdown step (draining HTTP connections, workers, queues, the database) may take this long, then is abandoned. */
  readonly shutdownTimeoutMs: number
}

export interface JobSettings {
  /** BullMQ on this Redis; unset, BullMQ runs on its PostgreSQL backend in the application database. */
  readonly redisUrl: Option.Option<Redacted.Redacted>
  /** BullMQ's key prefix on Redis (lets several deployments or test runs share one server). */
  readonly prefix: string
  /** Run the workers in this process (`false` for API-only instances; `npm run worker` runs them apart). */
  readonly runWorkers: boolean
  /** How often the outbox relay looks for rows when no notification woke it, and its pause after a failure. */
  readonly pollIntervalMs: number
  /** How long one publish to the queue backend may take before the relay gives up and retries later. */
  readonly publishTimeoutMs: number
  /** Published outbox rows are deleted after this long. */
  readonly outboxRetentionHours: number
  /** Tries per job, with exponential backoff from `backoffMs`. */
  readonly attempts: number
  readonly backoffMs: number
  /** A job whose worker stopped renewing its lock for this long (a crash) is handed to another worker. */
  readonly lockDurationMs: number
}

export interface MailSettings {
  /** SMTP server (`smtp://user:pass@host:587`); unset, messages are written as .eml files to `dir`. */
  readonly smtpUrl: Option.Option<Redacted.Redacted>
  readonly from: string
  readonly dir: string
}

/** bcrypt threads: one fewer than the cores (at least one), so the event loop keeps a core. */
const defaultPasswordWorkers = () => Math.max(1, Math.min(4, availableParallelism() - 1))

const positiveInteger = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

/**
 * SHUTDOWN_DEADLINE_MS: the whole shutdown may take this long from the first signal, whatever its
 * steps' SHUTDOWN_TIMEOUT_MS; then the process says what it was waiting for and exits 1. Read by
 * `launch` (Platform/Lifecycle.ts), which arms it outside the layers.
 */
export const shutdownDeadlineMs = positiveInteger("SHUTDOWN_DEADLINE_MS", 30_000)

/** An optional setting; set to the empty string (`SMTP_URL=` in a .env file or compose) counts as unset. */
const optional = <A>(config: Config.Config<A>, isEmpty: (a: A) => boolean) =>
  Config.option(config).pipe(Config.map(Option.filter((value) => !isEmpty(value))))
export const optionalString = (name: string) => optional(Config.string(name), (s) => s.trim() === "")
export const optionalSecret = (name: string) => optional(Config.redacted(name), (s) => Redacted.value(s).trim() === "")

/** REDIS_URL, or the seed's REDIS_HOST / REDIS_PORT; neither set means no Redis. */
const redisUrl = Effect.gen(function*() {
  const url = yield* optionalSecret("REDIS_URL")
  if (Option.isSome(url)) return url
  const host = yield* optionalString("REDIS_HOST")
  const port = yield* Config.option(Config.port("REDIS_PORT"))
  if (Option.isNone(host) && Option.isNone(port)) return Option.none()
  return Option.some(Redacted.make(`redis://${Option.getOrElse(host, () => "localhost")}:${Option.getOrElse(port, () => 6379)}`))
})

const jobSettings: Effect.Effect<JobSettings, ConfigError.ConfigError> = Effect.all({
  redisUrl,
  prefix: Config.string("QUEUE_PREFIX").pipe(
    Config.validate({ message: "QUEUE_PREFIX must be letters, digits, - or _", validation: (s) => /^[\w-]+$/.test(s) }),
    Config.withDefault("bull")
  ),
  runWorkers: Config.boolean("RUN_WORKERS").pipe(Config.withDefault(true)),
  pollIntervalMs: positiveInteger("OUTBOX_POLL_MS", 1000),
  publishTimeoutMs: positiveInteger("OUTBOX_PUBLISH_TIMEOUT_MS", 5000),
  outboxRetentionHours: positiveInteger("OUTBOX_RETENTION_HOURS", 168),
  attempts: positiveInteger("JOB_ATTEMPTS", 5),
  backoffMs: positiveInteger("JOB_BACKOFF_MS", 1000),
  lockDurationMs: positiveInteger("JOB_LOCK_MS", 30_000)
})

const serverSettings = Effect.gen(function*() {
  const headersTimeoutMs = yield* positiveInteger("HTTP_HEADERS_TIMEOUT_MS", 10_000)
  return {
    headersTimeoutMs,
    // Node refuses a headers timeout longer than the whole request's.
    receiveTimeoutMs: yield* positiveInteger("HTTP_RECEIVE_TIMEOUT_MS", 30_000).pipe(
      Config.validate({
        message: "HTTP_RECEIVE_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS",
        validation: (ms) => ms >= headersTimeoutMs
      })
    ),
    keepAliveTimeoutMs: yield* positiveInteger("HTTP_KEEP_ALIVE_TIMEOUT_MS", 5_000),
    deadlineMs: yield* positiveInteger("REQUEST_DEADLINE_MS", 15_000),
    shutdownTimeoutMs: yield* positiveInteger("SHUTDOWN_TIMEOUT_MS", 10_000)
  } satisfies ServerSettings
})

/** `key=value` pairs separated by commas, values percent-encoded (the OpenTelemetry convention). */
const otlpHeaders = (text: string): Record<string, string> =>
  Object.fromEntries(
    text.split(",").flatMap((pair) => {
      const at = pair.indexOf("=")
      return at <= 0 ? [] : [[pair.slice(0, at).trim(), decodeURIComponent(pair.slice(at + 1).trim())]]
    })
  )

const telemetrySettings = Effect.gen(function*() {
  const endpoint = yield* optionalString("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(
    Config.validate({
      message: "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL",
      validation: Option.match({ onNone: () => true, onSome: (url) => /^https?:\/\/[^\s]+$/.test(url) })
    })
  )
  const otlp = Option.isNone(endpoint) ? Option.none<OtlpSettings>() : Option.some({
    endpoint: endpoint.value.replace(/\/+$/, ""),
    headers: Redacted.make(otlpHeaders(yield* Config.string("OTEL_EXPORTER_OTLP_HEADERS").pipe(Config.withDefault("")))),
    serviceName: yield* Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("event-booking")),
    exportIntervalMs: yield* positiveInteger("OTEL_BSP_SCHEDULE_DELAY", 5000)
  })
  return { otlp, metricsPort: yield* Config.option(Config.port("METRICS_PORT")) } satisfies TelemetrySettings
})

const mailSettings: Effect.Effect<MailSettings, ConfigError.ConfigError> = Effect.all({
  smtpUrl: optionalSecret("SMTP_URL"),
  from: Config.string("MAIL_FROM").pipe(Config.withDefault("Event Booking <no-reply@event-booking.local>")),
  dir: Config.string("MAIL_DIR").pipe(Config.withDefault(".data/mail"))
})

const rateLimitSettings: Effect.Effect<RateLimitSettings, ConfigError.ConfigError> = Effect.all({
  accountFailures: positiveInteger("AUTH_RATE_LIMIT_ACCOUNT", 10),
  accountWindowSeconds: positiveInteger("AUTH_RATE_LIMIT_ACCOUNT_WINDOW_SECONDS", 900),
  addressAttempts: positiveInteger("AUTH_RATE_LIMIT_ADDRESS", 60),
  addressWindowSeconds: positiveInteger("AUTH_RATE_LIMIT_ADDRESS_WINDOW_SECONDS", 600),
  trustProxy: Config.integer("TRUST_PROXY").pipe(
    Config.validate({ message: "TRUST_PROXY must be the number of trusted proxies (0: none)", validation: (n) => n >= 0 }),
    Config.withDefault(0)
  )
})

/** `NODE_ENV=production`: JSON logs, JWT_SECRET and DATABASE_URL required. */
export const isProduction = Config.string("NODE_ENV").pipe(
  Config.withDefault("development"),
  Config.map((env) => env === "production")
)

/** BCRYPT_COST: also read by tools that hash passwords without the whole AppConfig (npm run seed). */
export const bcryptCost = Config.integer("BCRYPT_COST").pipe(
  Config.validate({ message: "BCRYPT_COST must be between 4 and 15", validation: (n) => n >= 4 && n <= 15 }),
  Config.withDefault(10)
)

/** JWT_SECRET, required in production; in development a random one (tokens then die with the process). */
const jwtSecret = Effect.gen(function*() {
  const secret = yield* Config.redacted("JWT_SECRET").pipe(
    Config.validate({
      message: "JWT_SECRET must be at least 32 characters",
      validation: (value) => Redacted.value(value).length >= 32
    }),
    Config.option
  )
  if (Option.isSome(secret)) return secret.value
  return yield* (yield* isProduction)
    ? new Refusal({ message: "JWT_SECRET is required when NODE_ENV=production (at least 32 characters)" })
    : Effect.logWarning("JWT_SECRET is not set: using a random secret; tokens will not survive a restart").pipe(
      Effect.as(Redacted.make(randomBytes(32).toString("hex")))
    )
})

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `5s,5m,30m,2h`: durations (a whole number and ms, s, m or h), comma-separated, as ms. */
const retrySchedule = Config.string("WEBHOOK_RETRY_SCHEDULE").pipe(
  Config.withDefault("5s,5m,30m,2h,5h,10h,10h"),
  Config.validate({
    message: "WEBHOOK_RETRY_SCHEDULE must be durations like 5s,5m,30m,2h (a whole number and ms, s, m or h, comma-separated)",
    validation: (text) => text.split(",").every((part) => /^\s*\d{1,9}(ms|s|m|h)\s*$/.test(part))
  }),
  Config.map((text) =>
    text.split(",").map((part) => {
      const [, amount, unit] = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(part)!
      return Number(amount) * DURATION_UNITS[unit!]!
    })
  )
)

const webhookSettings = Effect.gen(function*() {
  const production = yield* isProduction
  return {
    allowPrivate: yield* Config.boolean("WEBHOOK_ALLOW_PRIVATE").pipe(Config.withDefault(false)),
    allowHttp: yield* Config.boolean("WEBHOOK_ALLOW_HTTP").pipe(Config.withDefault(!production)),
    timeoutMs: yield* positiveInteger("WEBHOOK_TIMEOUT_MS", 10_000),
    retryScheduleMs: yield* retrySchedule
  } satisfies WebhookSettings
})

/** Every setting, each named once with its default, read from the current `ConfigProvider`. */
const appSettings: Effect.Effect<AppSettings, ConfigError.ConfigError | Refusal> = Effect.all({
  port: Config.port("PORT").pipe(Config.withDefault(4000)),
  production: isProduction,
  jwt: Effect.all({
    secret: jwtSecret,
    issuer: Config.string("JWT_ISSUER").pipe(Config.withDefault("event-booking")),
    audience: Config.string("JWT_AUDIENCE").pipe(Config.withDefault("event-booking-api")),
    ttlSeconds: Config.integer("JWT_TTL_SECONDS").pipe(
      Config.validate({ message: "JWT_TTL_SECONDS must be positive", validation: (n) => n > 0 }),
      Config.withDefault(3600)
    )
  }),
  bcryptCost,
  passwordWorkers: positiveInteger("PASSWORD_WORKERS", defaultPasswordWorkers()),
  maxTicketsPerBooking: Config.integer("MAX_TICKETS_PER_BOOKING").pipe(
    Config.validate({ message: "MAX_TICKETS_PER_BOOKING must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(10)
  ),
  maxTicketsPerCustomerPerEvent: positiveInteger("MAX_TICKETS_PER_CUSTOMER_PER_EVENT", 10),
  booking: Effect.all({
    maxBatch: positiveInteger("BOOKING_BATCH_MAX", 100),
    maxWaiting: positiveInteger("BOOKING_QUEUE_MAX", 1000),
    maxCommits: positiveInteger("BOOKING_COMMITS_MAX", 2)
  }),
  holds: Effect.all({
    ttlSeconds: positiveInteger("HOLD_TTL_SECONDS", 600),
    sweepIntervalSeconds: positiveInteger("HOLD_SWEEP_SECONDS", 30)
  }),
  idempotencyTtlHours: positiveInteger("IDEMPOTENCY_TTL_HOURS", 24),
  maxBodyBytes: Config.integer("MAX_BODY_BYTES").pipe(Config.withDefault(100 * 1024)),
  corsOrigins: Config.array(Config.string(), "CORS_ORIGINS").pipe(Config.withDefault([])),
  jobs: jobSettings,
  mail: mailSettings,
  rateLimits: rateLimitSettings,
  adminToken: optionalSecret("ADMIN_TOKEN").pipe(
    Config.validate({
      message: "ADMIN_TOKEN must be at least 16 characters",
      validation: Option.match({ onNone: () => true, onSome: (value) => Redacted.value(value).length >= 16 })
    })
  ),
  server: serverSettings,
  telemetry: telemetrySettings,
  webhooks: webhookSettings
})

/** A setting's environment name and its value, as tests and tools give them (numbers are written out). */
export type SettingsMap = Readonly<Record<string, string | number | boolean>>

/**
 * Tests' and tools' differences from the defaults: cheap bcrypt on one thread, a random secret
 * (no warning), and limits loose enough for suites that sign many users up from one address
 * (limit tests set small ones).
 */
const testSettings: SettingsMap = {
  BCRYPT_COST: 4,
  PASSWORD_WORKERS: 1,
  JWT_SECRET: randomBytes(32).toString("hex"),
  AUTH_RATE_LIMIT_ACCOUNT: 1_000,
  AUTH_RATE_LIMIT_ADDRESS: 100_000
}

/**
 * A provider over `settings` alone that refuses, once the settings are read, a name no setting
 * read: a misspelt name in a test would otherwise leave the default in place without a word.
 */
const strictMapProvider = (settings: SettingsMap) => {
  const map = new Map(Object.entries(settings).map(([name, value]) => [name, String(value)]))
  const inner = ConfigProvider.fromMap(map).flattened
  const read = new Set<string>()
  const provider = ConfigProvider.fromFlat(ConfigProvider.makeFlat({
    load: (path, config, split) => {
      read.add(path.join("."))
      return inner.load(path, config, split)
    },
    enumerateChildren: (path) => inner.enumerateChildren(path),
    patch: inner.patch
  }))
  const unread = Effect.suspend(() => {
    const unknown = [...map.keys()].filter((name) => !read.has(name))
    return unknown.length === 0 ? Effect.void : Effect.dieMessage(`no setting is named ${unknown.join(", ")}`)
  })
  return { provider, unread }
}

export class AppConfig extends Context.Tag("AppConfig")<AppConfig, AppSettings>() {
  /** The settings from the environment (or whatever `ConfigProvider` is current). */
  static readonly layer = Layer.effect(AppConfig, appSettings)

  /** The settings from `settings` alone, named as in the environment (`{ HOLD_TTL_SECONDS: 1 }`). */
  static fromMap(settings: SettingsMap) {
    return Layer.effect(
      AppConfig,
      Effect.gen(function*() {
        const { provider, unread } = strictMapProvider(settings)
        const read = yield* Effect.withConfigProvider(appSettings, provider)
        yield* unread
        return read
      })
    )
  }

  /** `fromMap` over the tests' differences from the defaults (see `testSettings`). */
  static layerTest(settings: SettingsMap = {}) {
    return AppConfig.fromMap({ ...testSettings, ...settings })
  }
}
