/**
 * What every process of the service runs on, built once here for `npm start` (main.ts) and
 * `npm run worker` (worker.ts): the logger, the settings, the tracer, the database, the
 * repositories, the outbox relay and queues, and the booking engine. Each entry adds only what it
 * alone runs on top (the HTTP server; the heartbeat).
 *
 * Built from the bottom up; shutdown runs in reverse, after the entry's own layers: the booking
 * engine (its commits in flight), the relay and queues, then the pool and the database. Each step
 * is logged and bounded by SHUTDOWN_TIMEOUT_MS, the whole by SHUTDOWN_DEADLINE_MS.
 */
import { Layer } from "effect"
import { CatalogueChanges } from "./Inventory/CatalogueChanges.ts"
import { Inventory } from "./Inventory/Inventory.ts"
import { JobCatalogueLive } from "./Jobs.ts"
import { JobsLive } from "./Jobs/Jobs.ts"
import { PersistenceSql } from "./Persistence.ts"
import { AppConfig } from "./Platform/Config.ts"
import { boundedShutdown } from "./Platform/Lifecycle.ts"
import { LoggingLive } from "./Platform/Logging.ts"
import { DatabaseLive } from "./Storage/Database.ts"
import { TracingLive } from "./Telemetry/Tracing.ts"

// One engine for the process: bookings and hold expiries of an event share its line, and tell the
// listing's cache (CatalogueChanges, read by the API's listing) of every change to the tickets left.
export const BaseLive = Inventory.layer.pipe(
  boundedShutdown("the booking engine"),
  Layer.provideMerge(CatalogueChanges.layer),
  Layer.provideMerge(JobsLive.pipe(boundedShutdown("the outbox relay and job queues"))),
  Layer.provideMerge(JobCatalogueLive),
  Layer.provideMerge(PersistenceSql),
  Layer.provideMerge(DatabaseLive.pipe(boundedShutdown("the database"))),
  // Under everything but the settings and the logger: every fiber gets the tracer (or none).
  Layer.provideMerge(TracingLive),
  Layer.provideMerge(AppConfig.layer),
  Layer.provideMerge(LoggingLive)
)
