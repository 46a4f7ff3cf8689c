import { Config, Effect, Layer, Logger } from "effect"

/** JSON lines in production (for log shippers), readable lines otherwise. */
export const LoggingLive = Layer.unwrapEffect(
  Effect.map(
    Config.string("NODE_ENV").pipe(Config.withDefault("development")),
    (env) => env === "production" ? Logger.json : Logger.logFmt
  )
)
