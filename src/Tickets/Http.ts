import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { requireRole } from "../Domain/Policy.ts"
import { idempotent } from "../Idempotency/Idempotency.ts"
import { qrPng, qrSvg } from "../Platform/QrCode.ts"
import { QR_CACHE_CONTROL, TicketsApi } from "./Api.ts"
import { Tickets } from "./Tickets.ts"

const imageHeaders = { "cache-control": QR_CACHE_CONTROL }

export const TicketsHttp = HttpApiBuilder.group(Api, "tickets", (handlers) =>
  Effect.gen(function*() {
    const tickets = yield* Tickets
    const organizer = requireRole("ORGANIZER")
    return handlers
      .handle("listForBooking", ({ path }) => Effect.flatMap(CurrentUser, (user) => tickets.listForBooking(user.id, path.id)))
      // Raw responses, to send the cache policy with the image.
      .handle("qrSvg", ({ path }) =>
        CurrentUser.pipe(
          Effect.flatMap((user) => tickets.ticketOfBooking(user.id, path.id, path.code)),
          Effect.flatMap((ticket) => qrSvg(ticket.code)),
          Effect.map((svg) => HttpServerResponse.text(svg, { contentType: "image/svg+xml", headers: imageHeaders }))
        ))
      .handle("qrPng", ({ path }) =>
        CurrentUser.pipe(
          Effect.flatMap((user) => tickets.ticketOfBooking(user.id, path.id, path.code)),
          Effect.flatMap((ticket) => qrPng(ticket.code)),
          Effect.map((png) => HttpServerResponse.uint8Array(png, { contentType: "image/png", headers: imageHeaders }))
        ))
      .handle("checkIn", ({ headers, path, payload }) =>
        Effect.flatMap(organizer, (user) =>
          idempotent(TicketsApi.endpoints.checkIn, { userId: user.id, headers }, (id) =>
            tickets.checkIn(user, path.id, payload.code, id))))
      .handle("undoCheckIn", ({ path }) =>
        Effect.flatMap(organizer, (user) =>
          tickets.undoCheckIn(user, path.id, path.code)))
  }))
