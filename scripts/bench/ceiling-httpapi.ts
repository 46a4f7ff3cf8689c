/**
 * Baseline for `npm run bench`: a one-endpoint HttpApi server on our @effect packages, with no
 * database and no middleware: the roof for any endpoint of ours. PORT from argv.
 */
import { HttpApi, HttpApiBuilder, HttpApiEndpoint, HttpApiGroup, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"

class Ceiling extends HttpApi.make("ceiling").add(
  HttpApiGroup.make("ping").add(HttpApiEndpoint.get("ping", "/ping").addSuccess(Schema.Struct({ ok: Schema.Boolean })))
) {}

const PingLive = HttpApiBuilder.group(Ceiling, "ping", (handlers) => handlers.handle("ping", () => Effect.succeed({ ok: true })))

// Request spans off, as our server has them with no tracer configured.
const ServerLive = HttpApiBuilder.serve().pipe(
  HttpMiddleware.withTracerDisabledWhen(() => true),
  Layer.provide(HttpApiBuilder.api(Ceiling).pipe(Layer.provide(PingLive))),
  HttpServer.withLogAddress,
  Layer.provide(NodeHttpServer.layer(createServer, { port: Number(process.argv[2]), host: "127.0.0.1" })),
  Layer.tap(() => Effect.sync(() => process.send?.("ready")))
)

Layer.launch(ServerLive).pipe(NodeRuntime.runMain)
