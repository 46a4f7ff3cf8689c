import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { pageRequest } from "../Domain/Paging.ts"
import { requireRole } from "../Domain/Policy.ts"
import { pageBody } from "../Edge/PageHeaders.ts"
import { Webhooks } from "./Webhooks.ts"

export const WebhooksHttp = HttpApiBuilder.group(Api, "webhooks", (handlers) =>
  Effect.gen(function*() {
    const webhooks = yield* Webhooks
    const organizer = Effect.map(requireRole("ORGANIZER"), (user) => user.id)
    return handlers
      .handle("create", ({ payload }) => Effect.flatMap(organizer, (id) => webhooks.create(id, payload)))
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const page = pageRequest(urlParams)
          const found = yield* webhooks.list(yield* organizer, page)
          return yield* pageBody(request, page, found)
        }))
      .handle("get", ({ path }) => Effect.flatMap(organizer, (id) => webhooks.get(id, path.id)))
      .handle("update", ({ path, payload }) => Effect.flatMap(organizer, (id) => webhooks.update(id, path.id, payload)))
      .handle("delete", ({ path }) => Effect.flatMap(organizer, (id) => webhooks.remove(id, path.id)))
      .handle("rotateSecret", ({ path }) => Effect.flatMap(organizer, (id) => webhooks.rotateSecret(id, path.id)))
      .handle("test", ({ path }) => Effect.flatMap(organizer, (id) => webhooks.test(id, path.id)))
      .handle("deliveries", ({ path, urlParams }) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const page = pageRequest(urlParams)
          const found = yield* webhooks.deliveries(yield* organizer, path.id, page)
          return yield* pageBody(request, page, found)
        }))
      .handle("retry", ({ path }) => Effect.flatMap(organizer, (id) => webhooks.retry(id, path.id, path.deliveryId)))
  }))
