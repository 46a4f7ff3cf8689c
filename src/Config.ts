/**
 * Typed configuration, read once from the environment through Effect's `Config`
 * (nothing else reads `process.env`). Tests build an `AppConfig` directly with `AppConfig.make`.
 */
import { Config, Context, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"

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
  readonly maxTicketsPerBooking: number
  readonly maxBodyBytes: number
  readonly corsOrigins: ReadonlyArray<string>
}

export class AppConfig extends Context.Tag("AppConfig")<AppConfig, AppSettings>() {
  /** Settings for tests and tools: sensible defaults, a random secret, cheap bcrypt. */
  static make(overrides: Partial<AppSettings> = {}): AppSettings {
    return {
      port: 0,
      production: false,
      jwt: { secret: Redacted.make(randomBytes(32).toString("hex")), issuer: "event-booking", audience: "event-booking-api", ttlSeconds: 3600 },
      bcryptCost: 4,
      maxTicketsPerBooking: 10,
      maxBodyBytes: 100 * 1024,
      corsOrigins: [],
      ...overrides
    }
  }

  static layerTest(overrides: Partial<AppSettings> = {}) {
    return Layer.succeed(AppConfig, AppConfig.make(overrides))
  }

  static readonly layer = Layer.effect(
    AppConfig,
    Effect.gen(function*() {
      const production = (yield* Config.string("NODE_ENV").pipe(Config.withDefault("development"))) === "production"
      const secret = yield* Config.redacted("JWT_SECRET").pipe(
        Config.validate({
          message: "JWT_SECRET must be at least 32 characters",
          validation: (value) => Redacted.value(value).length >= 32
        }),
        Config.option
      )
      const jwtSecret = yield* Option.match(secret, {
        onSome: Effect.succeed,
        onNone: () =>
          production
            ? Effect.dieMessage("JWT_SECRET is required when NODE_ENV=production (at least 32 characters)")
            : Effect.logWarning("JWT_SECRET is not set: using a random secret; tokens will not survive a restart").pipe(
              Effect.as(Redacted.make(randomBytes(32).toString("hex")))
            )
      })
      return {
        port: yield* Config.port("PORT").pipe(Config.withDefault(4000)),
        production,
        jwt: {
          secret: jwtSecret,
          issuer: yield* Config.string("JWT_ISSUER").pipe(Config.withDefault("event-booking")),
          audience: yield* Config.string("JWT_AUDIENCE").pipe(Config.withDefault("event-booking-api")),
          ttlSeconds: yield* Config.integer("JWT_TTL_SECONDS").pipe(
            Config.validate({ message: "JWT_TTL_SECONDS must be positive", validation: (n) => n > 0 }),
            Config.withDefault(3600)
          )
        },
        bcryptCost: yield* Config.integer("BCRYPT_COST").pipe(
          Config.validate({ message: "BCRYPT_COST must be between 4 and 15", validation: (n) => n >= 4 && n <= 15 }),
          Config.withDefault(10)
        ),
        maxTicketsPerBooking: yield* Config.integer("MAX_TICKETS_PER_BOOKING").pipe(
          Config.validate({ message: "MAX_TICKETS_PER_BOOKING must be at least 1", validation: (n) => n >= 1 }),
          Config.withDefault(10)
        ),
        maxBodyBytes: yield* Config.integer("MAX_BODY_BYTES").pipe(Config.withDefault(100 * 1024)),
        corsOrigins: yield* Config.array(Config.string(), "CORS_ORIGINS").pipe(Config.withDefault([]))
      } satisfies AppSettings
    })
  )
}
