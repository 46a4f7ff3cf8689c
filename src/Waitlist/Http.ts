import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { requireRole } from "../Domain/Policy.ts"
import { Waitlist } from "./Waitlist.ts"

export const WaitlistHttp = HttpApiBuilder.group(Api, "waitlist", (handlers) =>
  Effect.gen(function*() {
    const waitlist = yield* Waitlist
    return handlers
      .handle("join", ({ path, payload }) =>
        Effect.flatMap(requireRole("CUSTOMER"), (customer) => waitlist.join(customer.id, path.id, payload)))
      .handle("leave", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) => waitlist.leave(user.id, path.id)))
      .handle("mine", () => Effect.flatMap(CurrentUser, (user) => waitlist.listMine(user.id)))
  }))
