/** Launches the API server, with the job workers unless RUN_WORKERS=false: `npm start`. */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "./Config.ts"
import { HttpLive } from "./Http.ts"
import { JobsLive, JobWorkersLive } from "./Jobs/Jobs.ts"
import { PersistenceSql } from "./Persistence.ts"
import { DatabaseLive } from "./Platform/Database.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { LoggingLive } from "./Platform/Logging.ts"

const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ port }) => NodeHttpServer.layer(createServer, { port }))
)

const WorkersIfEnabled = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ jobs }) => jobs.runWorkers ? JobWorkersLive : Layer.empty)
)

// Shutdown runs in reverse: HTTP server and workers first (in-flight requests and jobs finish),
// then the relay and queues, then the pool and the database.
const MainLive = Layer.mergeAll(HttpLive.pipe(HttpServer.withLogAddress, Layer.provide(NodeServerLive)), WorkersIfEnabled).pipe(
  Layer.provide(JobsLive),
  Layer.provide(PersistenceSql),
  Layer.provide(DatabaseLive),
  Layer.provide(AppConfig.layer),
  Layer.provide(LoggingLive)
)

loadDotEnv()
Layer.launch(MainLive).pipe(NodeRuntime.runMain({ disablePrettyLogger: true }))
