/** Launches the API server, with the job workers unless RUN_WORKERS=false: `npm start`. */
import { HttpServer } from "@effect/platform"
import { Effect, Layer } from "effect"
import { JobWorkersLive } from "./Background.ts"
import { BaseLive } from "./Base.ts"
import { NodeServerLive } from "./Edge/NodeServer.ts"
import { HttpLive } from "./Http.ts"
import { MetricsServerLive } from "./MetricsServer.ts"
import { AppConfig } from "./Platform/Config.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { boundedShutdown, launch } from "./Platform/Lifecycle.ts"

const WorkersIfEnabled = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ jobs }) => jobs.runWorkers ? JobWorkersLive.pipe(boundedShutdown("the job workers")) : Layer.empty)
)

// The server listens once everything below is built (BaseLive: database, migrations, queues,
// engine); on shutdown the HTTP server (draining its connections) and the workers stop first.
const MainLive = Layer.mergeAll(
  HttpLive.pipe(HttpServer.withLogAddress, Layer.provide(NodeServerLive)),
  WorkersIfEnabled,
  MetricsServerLive
).pipe(Layer.provide(BaseLive))

loadDotEnv()
launch(MainLive, "the API server")
