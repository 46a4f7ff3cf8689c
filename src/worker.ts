/** Launches job workers (and an outbox relay) without the HTTP API: `npm run worker`. */
import { Config, Effect, Layer } from "effect"
import { AppConfig } from "./Config.ts"
import { Inventory } from "./Inventory/Inventory.ts"
import { JobsLive, JobWorkersLive } from "./Jobs/Jobs.ts"
import { PersistenceSql } from "./Persistence.ts"
import { DatabaseLive } from "./Platform/Database.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { boundedShutdown, launch } from "./Platform/Lifecycle.ts"
import { LoggingLive } from "./Platform/Logging.ts"
import { MetricsServerLive } from "./Telemetry/MetricsServer.ts"
import { TracingLive } from "./Telemetry/Tracing.ts"

// A worker shares the API's database. The embedded one belongs to `npm start`, which runs workers itself.
const RequireDatabaseUrl = Layer.effectDiscard(
  Config.string("DATABASE_URL").pipe(
    Effect.orElse(() => Effect.dieMessage("npm run worker needs DATABASE_URL (the API's database); `npm start` alone already runs the workers"))
  )
)

const WorkerLive = Layer.merge(JobWorkersLive.pipe(boundedShutdown("the job workers")), MetricsServerLive).pipe(
  // Hold expiries go through the engine (their event's line).
  Layer.provide(Inventory.layer),
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
