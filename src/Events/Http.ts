import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { requireRole } from "../Domain/Policy.ts"
import { Events } from "./Events.ts"

export const EventsHttp = HttpApiBuilder.group(Api, "events", (handlers) =>
  Effect.gen(function*() {
    const events = yield* Events
    const organizer = requireRole("ORGANIZER")
    return handlers
      .handle("list", ({ urlParams }) => events.list(urlParams))
      .handle("create", ({ payload }) => Effect.flatMap(organizer, (user) => events.create(user, payload)))
      .handle("update", ({ path, payload }) => Effect.flatMap(organizer, (user) => events.update(user, path.id, payload)))
      .handle("cancel", ({ path }) => Effect.flatMap(organizer, (user) => events.cancel(user, path.id)))
  }))
