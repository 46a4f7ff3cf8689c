/** Launches job workers (and an outbox relay) without the HTTP API: `npm run worker`. */
import { Effect, Layer, Option } from "effect"
import { JobWorkersLive } from "./Background.ts"
import { HeartbeatLive } from "./Health/Heartbeat.ts"
import { Inventory } from "./Inventory/Inventory.ts"
import { JobsLive } from "./Jobs/Jobs.ts"
import { MetricsServerLive } from "./MetricsServer.ts"
import { PersistenceSql } from "./Persistence.ts"
import { AppConfig, optionalSecret } from "./Platform/Config.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { boundedShutdown, launch } from "./Platform/Lifecycle.ts"
import { LoggingLive } from "./Platform/Logging.ts"
import { DatabaseLive } from "./Storage/Database.ts"
import { TracingLive } from "./Telemetry/Tracing.ts"

// A worker shares the API's database. The embedded one belongs to `npm start`, which runs workers itself.
const RequireDatabaseUrl = Layer.effectDiscard(
  optionalSecret("DATABASE_URL").pipe(
    Effect.filterOrDieMessage(
      Option.isSome,
      "npm run worker needs DATABASE_URL (the API's database); `npm start` alone already runs the workers"
    )
  )
)

// The heartbeat starts once the workers run, and stops first on shutdown.
const WorkerLive = HeartbeatLive.pipe(
  Layer.provideMerge(Layer.merge(JobWorkersLive.pipe(boundedShutdown("the job workers")), MetricsServerLive)),
  // Hold expiries go through the engine (their event's line).
  Layer.provide(Inventory.layer.pipe(boundedShutdown("the booking engine"))),
  Layer.provide(JobsLive.pipe(boundedShutdown("the outbox relay and job queues"))),
  Layer.provide(PersistenceSql),
  Layer.provide(DatabaseLive.pipe(boundedShutdown("the database"))),
  Layer.provide(RequireDatabaseUrl),
  Layer.provide(TracingLive),
  Layer.provide(AppConfig.layer),
  Layer.provide(LoggingLive)
)

loadDotEnv()
launch(WorkerLive)
