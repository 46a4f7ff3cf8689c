import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { requireRole } from "../Domain/Policy.ts"
import { idempotent } from "../Idempotency/Idempotency.ts"
import { HoldsApi } from "./Api.ts"
import { Holds } from "./Holds.ts"

export const HoldsHttp = HttpApiBuilder.group(Api, "holds", (handlers) =>
  Effect.gen(function*() {
    const holds = yield* Holds
    return handlers
      .handle("place", ({ headers, payload }) =>
        Effect.flatMap(requireRole("CUSTOMER"), (customer) =>
          idempotent(HoldsApi.endpoints.place, { userId: customer.id, headers }, (id) =>
            holds.place(customer.id, payload, id))))
      .handle("mine", () =>
        Effect.flatMap(CurrentUser, (user) =>
          holds.listMine(user.id)))
      .handle("confirm", ({ headers, path }) =>
        Effect.flatMap(CurrentUser, (user) =>
          idempotent(HoldsApi.endpoints.confirm, { userId: user.id, headers }, (id) =>
            holds.confirm(user.id, path.id, id))))
      .handle("release", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) =>
          holds.release(user.id, path.id)))
  }))
