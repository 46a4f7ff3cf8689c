import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { requireRole } from "../Domain/Policy.ts"
import { Holds } from "./Holds.ts"

export const HoldsHttp = HttpApiBuilder.group(Api, "holds", (handlers) =>
  Effect.gen(function*() {
    const holds = yield* Holds
    return handlers
      .handle("place", ({ payload }) => Effect.flatMap(requireRole("CUSTOMER"), (customer) => holds.place(customer.id, payload)))
      .handle("mine", () => Effect.flatMap(CurrentUser, (user) => holds.listMine(user.id)))
      .handle("confirm", ({ path }) => Effect.flatMap(CurrentUser, (user) => holds.confirm(user.id, path.id)))
      .handle("release", ({ path }) => Effect.flatMap(CurrentUser, (user) => holds.release(user.id, path.id)))
  }))
