import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { pageRequest } from "../Domain/Paging.ts"
import { requireRole } from "../Domain/Policy.ts"
import { pageBody } from "../Edge/PageHeaders.ts"
import { idempotent } from "../Idempotency/Idempotency.ts"
import { BookingsApi } from "./Api.ts"
import { Bookings } from "./Bookings.ts"

export const BookingsHttp = HttpApiBuilder.group(Api, "bookings", (handlers) =>
  Effect.gen(function*() {
    const bookings = yield* Bookings
    return handlers
      .handle("book", ({ headers, payload }) =>
        Effect.flatMap(requireRole("CUSTOMER"), (customer) =>
          idempotent(BookingsApi.endpoints.book, { userId: customer.id, headers }, (id) =>
            bookings.book(customer.id, payload, id))))
      .handle("mine", ({ request, urlParams }) => {
        const page = pageRequest(urlParams)
        return CurrentUser.pipe(
          Effect.flatMap((user) =>
            bookings.listMine(user.id, page)
          ),
          Effect.flatMap((found) => pageBody(request, page, found))
        )
      })
      .handle("cancel", ({ headers, path }) =>
        Effect.flatMap(CurrentUser, (user) =>
          idempotent(BookingsApi.endpoints.cancel, { userId: user.id, headers }, (id) =>
            bookings.cancel(user.id, path.id, id))))
      .handle("changeTickets", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          bookings.changeTickets(user.id, path.id, payload)))
  }))
