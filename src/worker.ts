/** Launches job workers (and an outbox relay) without the HTTP API: `npm run worker`. */
import { Effect, Layer, Option } from "effect"
import { JobWorkersLive } from "./Background.ts"
import { BaseLive } from "./Base.ts"
import { HeartbeatLive } from "./Health/Heartbeat.ts"
import { MetricsServerLive } from "./MetricsServer.ts"
import { optionalSecret } from "./Platform/Config.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { boundedShutdown, launch } from "./Platform/Lifecycle.ts"
import { Refusal } from "./Platform/Refusal.ts"

// A worker shares the API's database. The embedded one belongs to `npm start`, which runs workers itself.
const RequireDatabaseUrl = Layer.effectDiscard(
  optionalSecret("DATABASE_URL").pipe(
    Effect.filterOrFail(
      Option.isSome,
      () =>
        new Refusal({
          message: "npm run worker needs DATABASE_URL (the API's database); `npm start` alone already runs the workers"
        })
    )
  )
)

// The heartbeat starts once the workers run, and stops first on shutdown. Hold expiries go
// through the engine of BaseLive (their event's line). DATABASE_URL is checked before anything starts.
const WorkerLive = HeartbeatLive.pipe(
  Layer.provideMerge(Layer.merge(JobWorkersLive.pipe(boundedShutdown("the job workers")), MetricsServerLive)),
  Layer.provide(BaseLive),
  Layer.provide(RequireDatabaseUrl)
)

loadDotEnv()
launch(WorkerLive, "the worker")
