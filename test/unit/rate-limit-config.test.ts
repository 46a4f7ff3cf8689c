/** The rate-limit settings as read from the environment: documented defaults, overrides, bad values refused. */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, LogLevel } from "effect"
import { AppConfig } from "../../src/Platform/Config.ts"

const read = (env: Record<string, string>) =>
  Effect.provide(
    AppConfig,
    AppConfig.layer.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
  ).pipe(Effect.map((settings) => settings.rateLimits))

describe("rate limit settings", () => {
  it.effect("default to 10 failures per account per 15 min, 60 attempts per address per 10 min, no trusted proxy", () =>
    Effect.gen(function*() {
      expect(yield* read({})).toEqual({
        accountFailures: 10,
        accountWindowSeconds: 900,
        addressAttempts: 60,
        addressWindowSeconds: 600,
        trustProxy: 0
      })
    }))

  it.effect("are read from AUTH_RATE_LIMIT_* and TRUST_PROXY; zero or negative limits are refused", () =>
    Effect.gen(function*() {
      expect(
        yield* read({
          AUTH_RATE_LIMIT_ACCOUNT: "5",
          AUTH_RATE_LIMIT_ACCOUNT_WINDOW_SECONDS: "60",
          AUTH_RATE_LIMIT_ADDRESS: "100",
          AUTH_RATE_LIMIT_ADDRESS_WINDOW_SECONDS: "120",
          TRUST_PROXY: "1"
        })
      ).toEqual({ accountFailures: 5, accountWindowSeconds: 60, addressAttempts: 100, addressWindowSeconds: 120, trustProxy: 1 })
      for (const env of [{ AUTH_RATE_LIMIT_ACCOUNT: "0" }, { AUTH_RATE_LIMIT_ADDRESS: "-1" }, { TRUST_PROXY: "-1" }]) {
        const exit = yield* Effect.exit(read(env))
        expect(exit._tag).toBe("Failure")
      }
    }))
})
