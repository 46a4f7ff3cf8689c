/** Launches the API server: `npm start`. */
import { HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "./Config.ts"
import { HttpLive } from "./Http.ts"
import { JobQueue } from "./Jobs/JobQueue.ts"
import { PersistenceLive } from "./Persistence.ts"
import { loadDotEnv } from "./Platform/DotEnv.ts"
import { LoggingLive } from "./Platform/Logging.ts"

const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ port }) => NodeHttpServer.layer(createServer, { port }))
)

const MainLive = HttpLive.pipe(
  HttpServer.withLogAddress,
  Layer.provide(NodeServerLive),
  Layer.provide(PersistenceLive),
  Layer.provide(JobQueue.layerLog),
  Layer.provide(AppConfig.layer),
  Layer.provide(LoggingLive)
)

loadDotEnv()
Layer.launch(MainLive).pipe(NodeRuntime.runMain({ disablePrettyLogger: true }))
