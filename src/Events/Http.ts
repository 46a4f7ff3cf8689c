import { HttpApiBuilder, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { Viewer } from "../Domain/Authentication.ts"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import type { EventNotFound, Forbidden } from "../Domain/Errors.ts"
import type { EventId } from "../Domain/Ids.ts"
import { requireRole } from "../Domain/Policy.ts"
import { csvStream, prefersCsv } from "../Platform/Csv.ts"
import { pageBody, type PageRequest, pageRequest } from "../Platform/Paging.ts"
import { Events } from "./Events.ts"
import { ATTENDEE_COLUMNS, type Attendee } from "./Sales.ts"

type Organizer = CurrentUser["Type"]

export const EventsHttp = HttpApiBuilder.group(Api, "events", (handlers) =>
  Effect.gen(function*() {
    const events = yield* Events
    const organizer = requireRole("ORGANIZER")

    const attendeesCsv = (user: Organizer, id: EventId) =>
      Effect.map(events.allAttendees(user, id), (rows) =>
        HttpServerResponse.stream(csvStream(ATTENDEE_COLUMNS, rows, (row) => ATTENDEE_COLUMNS.map((column) => row[column])), {
          contentType: "text/csv; charset=utf-8",
          headers: { "content-disposition": `attachment; filename="event-${id}-attendees.csv"` }
        }))
    const attendeesPage = (user: Organizer, id: EventId, request: HttpServerRequest.HttpServerRequest, page: PageRequest) =>
      Effect.flatMap(events.attendees(user, id, page), (found) => pageBody(request, page, found))

    return handlers
      .handle("list", ({ request, urlParams }) => {
        const page = pageRequest(urlParams)
        return Effect.flatMap(events.list(urlParams, page), (found) => pageBody(request, page, found))
      })
      .handle("create", ({ payload }) => Effect.flatMap(organizer, (user) => events.create(user, payload)))
      .handle("mine", ({ request, urlParams }) => {
        const page = pageRequest(urlParams)
        return organizer.pipe(
          Effect.flatMap((user) => events.mine(user, page)),
          Effect.flatMap((found) => pageBody(request, page, found))
        )
      })
      .handle("get", ({ path }) => Effect.flatMap(Viewer, (viewer) => events.get(viewer, path.id)))
      .handle("update", ({ path, payload }) => Effect.flatMap(organizer, (user) => events.update(user, path.id, payload)))
      .handle("cancel", ({ path }) => Effect.flatMap(organizer, (user) => events.cancel(user, path.id)))
      .handle("publish", ({ path }) => Effect.flatMap(organizer, (user) => events.publish(user, path.id)))
      .handle("attendees", ({ path, request, urlParams }) =>
        Effect.flatMap(
          organizer,
          (user): Effect.Effect<HttpServerResponse.HttpServerResponse | ReadonlyArray<Attendee>, EventNotFound | Forbidden> =>
            (urlParams.format ?? (prefersCsv(request.headers.accept) ? "csv" : "json")) === "csv"
              ? attendeesCsv(user, path.id)
              : attendeesPage(user, path.id, request, pageRequest(urlParams))
        ))
      .handle("stats", ({ path }) => Effect.flatMap(organizer, (user) => events.stats(user, path.id)))
  }))
