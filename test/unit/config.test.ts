/** Settings from a map, as tests and tools build them: each name is one the environment uses, or the map is refused. */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import { AppConfig } from "../../src/Platform/Config.ts"

const read = (settings: Record<string, string | number>) => Effect.provide(AppConfig, AppConfig.layerTest(settings))

describe("AppConfig.layerTest", () => {
  it.effect("reads the environment's names; what is not named keeps its default", () =>
    Effect.gen(function*() {
      const settings = yield* read({
        HOLD_TTL_SECONDS: 5,
        CORS_ORIGINS: "https://a.example,https://b.example",
        MAIL_FROM: "Us <us@example.com>"
      })
      expect(settings.holds).toEqual({ ttlSeconds: 5, sweepIntervalSeconds: 30 })
      expect(settings.corsOrigins).toEqual(["https://a.example", "https://b.example"])
      expect(settings.mail).toEqual({ smtpUrl: Option.none(), from: "Us <us@example.com>", dir: ".data/mail" })
      expect(settings.jobs.prefix).toBe("bull")
    }))

  it.effect("refuses a name no setting reads (a misspelt one would leave the default in place)", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(read({ HOLD_TTL_SECOND: 5 }))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("no setting is named HOLD_TTL_SECOND")
    }))

  it.effect("refuses a bad value with the environment's message", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(read({ QUEUE_PREFIX: "a:b" }))
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("QUEUE_PREFIX must be letters, digits, - or _")
    }))
})
