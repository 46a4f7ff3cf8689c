import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { requireRole } from "../Domain/Policy.ts"
import { Viewer } from "../Edge/Authentication.ts"
import { TicketTypes } from "./TicketTypes.ts"

export const TicketTypesHttp = HttpApiBuilder.group(Api, "ticketTypes", (handlers) =>
  Effect.gen(function*() {
    const types = yield* TicketTypes
    const organizer = requireRole("ORGANIZER")
    return handlers
      .handle("list", ({ path }) => Effect.flatMap(Viewer, (viewer) => types.list(viewer, path.id)))
      .handle("create", ({ path, payload }) => Effect.flatMap(organizer, (user) => types.create(user, path.id, payload)))
      .handle("update", ({ path, payload }) => Effect.flatMap(organizer, (user) => types.update(user, path.id, path.typeId, payload)))
      .handle("remove", ({ path }) => Effect.flatMap(organizer, (user) => types.remove(user, path.id, path.typeId)))
  }))
