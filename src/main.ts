/** Launches the API server, with the job workers unless RUN_WORKERS=false: `npm start`. */
import { HttpServer } from "@effect/platform"
import { Effect, Layer } from "effect"
import { JobWorkersLive } from "./Background.ts"
import { NodeServerLive } from "./Edge/NodeServer.ts"
import { HttpLive } from "./Http.ts"
import { CatalogueChanges } from "./Inventory/CatalogueChanges.ts"
import { Inventory } from "./Inventory/Inventory.ts"
import { JobsLive } from "./Jobs/Jobs.ts"
import { MetricsServerLive } from "./MetricsServer.ts"
import { PersistenceSql } from "./Persistence.ts"
import { AppConfig } from "./Platform/Config.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { boundedShutdown, launch } from "./Platform/Lifecycle.ts"
import { LoggingLive } from "./Platform/Logging.ts"
import { DatabaseLive } from "./Storage/Database.ts"
import { TracingLive } from "./Telemetry/Tracing.ts"

const WorkersIfEnabled = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ jobs }) => jobs.runWorkers ? JobWorkersLive.pipe(boundedShutdown("the job workers")) : Layer.empty)
)

// The server listens once everything below is built (database, migrations, queues, handler).
// Shutdown runs in reverse: HTTP server (draining its connections) and workers first, then the
// booking engine (its commits in flight), the relay and queues, then the pool and the database;
// each step is logged and bounded by SHUTDOWN_TIMEOUT_MS, the whole by SHUTDOWN_DEADLINE_MS.
const MainLive = Layer.mergeAll(
  HttpLive.pipe(HttpServer.withLogAddress, Layer.provide(NodeServerLive)),
  WorkersIfEnabled,
  MetricsServerLive
).pipe(
  // One engine for the process: bookings and hold expiries of an event share its line, and tell
  // the listing's cache (CatalogueChanges) of every change to the tickets left.
  Layer.provide(Inventory.layer.pipe(boundedShutdown("the booking engine"))),
  Layer.provide(CatalogueChanges.layer),
  Layer.provide(JobsLive.pipe(boundedShutdown("the outbox relay and job queues"))),
  Layer.provide(PersistenceSql),
  Layer.provide(DatabaseLive.pipe(boundedShutdown("the database"))),
  // Under everything but the settings and the logger: every fiber gets the tracer (or none).
  Layer.provide(TracingLive),
  Layer.provide(AppConfig.layer),
  Layer.provide(LoggingLive)
)

loadDotEnv()
launch(MainLive)
