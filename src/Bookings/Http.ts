import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { requireRole } from "../Domain/Policy.ts"
import { Bookings } from "./Bookings.ts"

export const BookingsHttp = HttpApiBuilder.group(Api, "bookings", (handlers) =>
  Effect.gen(function*() {
    const bookings = yield* Bookings
    return handlers
      .handle("book", ({ payload }) =>
        Effect.flatMap(requireRole("CUSTOMER"), (customer) => bookings.book(customer.id, payload)))
      .handle("mine", () => Effect.flatMap(CurrentUser, (user) => bookings.listMine(user.id)))
      .handle("cancel", ({ path }) => Effect.flatMap(CurrentUser, (user) => bookings.cancel(user.id, path.id)))
      .handle("changeTickets", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (user) => bookings.changeTickets(user.id, path.id, payload)))
  }))
