/**
 * The docs page at GET /docs: the page `HttpApiScalar.layer` serves, built on its first request
 * instead of at start-up. Scalar's script is 3.3 MB of text; built into the page it held ~13 MB of
 * the server's memory (the script as a string, the page as bytes) from start-up on, in a server
 * whose docs nobody may ever open (issue 21, memory). The module is imported dynamically, so the
 * bundle evaluates it only then.
 */
import { HttpApi, HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"

const PATH = "/docs"

/** Scalar's page for `api`: a router of its own that answers GET /docs. */
const buildPage = (api: HttpApi.Api["Type"]) =>
  Effect.gen(function*() {
    const { layer } = yield* Effect.promise(() => import("@effect/platform/HttpApiScalar"))
    return yield* HttpApiBuilder.Router.router.pipe(
      Effect.provide(
        layer({ path: PATH }).pipe(Layer.provideMerge(HttpApiBuilder.Router.Live), Layer.provide(Layer.succeed(HttpApi.Api, api)))
      )
    )
  })

export const DocsPageLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const page = yield* Effect.cached(buildPage(yield* HttpApi.Api))
    yield* router.get(PATH, Effect.flatten(page))
  })
)
