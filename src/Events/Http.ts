import { HttpApiBuilder, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Schema } from "effect"
import { Api } from "../Api.ts"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import type { EventNotFound, Forbidden } from "../Domain/Errors.ts"
import { EventList, type ListEventsParams } from "../Domain/Event.ts"
import type { EventId } from "../Domain/Ids.ts"
import { type PageRequest, pageRequest } from "../Domain/Paging.ts"
import { requireRole } from "../Domain/Policy.ts"
import { type Attendee, ATTENDEE_COLUMNS, attendeeRecord } from "../Domain/Sales.ts"
import { Viewer } from "../Edge/Authentication.ts"
import { pageBody, pageHeaders } from "../Edge/PageHeaders.ts"
import { CatalogueChanges } from "../Inventory/CatalogueChanges.ts"
import { csvStream, prefersCsv } from "../Platform/Csv.ts"
import * as ReadCache from "../Platform/ReadCache.ts"
import { Events } from "./Events.ts"

type Organizer = CurrentUser["Type"]

const LISTING_CACHE = { timeToLiveMs: 1000, capacity: 1000 }

export const EventsHttp = HttpApiBuilder.group(Api, "events", (handlers) =>
  Effect.gen(function*() {
    const events = yield* Events
    const organizer = requireRole("ORGANIZER")

    // The public listing, encoded, for up to a second or until this process changes the catalogue:
    // during an on-sale rush everyone reloads it, and it is the same for everyone (drafts never show).
    const listings = yield* ReadCache.make<HttpServerResponse.HttpServerResponse, never>(LISTING_CACHE)
    yield* Effect.flatMap(CatalogueChanges, (changes) => changes.onChange(listings.invalidate))
    const encodeListing = Schema.encode(EventList)
    const listing = (url: string, params: ListEventsParams) => {
      const page = pageRequest(params)
      return events.list(params, page).pipe(
        Effect.flatMap((found) =>
          Effect.map(encodeListing(found.items), (items) =>
            HttpServerResponse.text(JSON.stringify(items), {
              contentType: "application/json",
              headers: pageHeaders(url, page, found.total)
            }))
        ),
        Effect.orDie // events it has just read always encode
      )
    }

    const attendeesCsv = (user: Organizer, id: EventId) =>
      Effect.map(events.allAttendees(user, id), (rows) =>
        HttpServerResponse.stream(
          csvStream(ATTENDEE_COLUMNS, rows, attendeeRecord),
          {
            contentType: "text/csv; charset=utf-8",
            headers: { "content-disposition": `attachment; filename="event-${id}-attendees.csv"` }
          }
        ))
    const attendeesPage = (user: Organizer, id: EventId, request: HttpServerRequest.HttpServerRequest, page: PageRequest) =>
      Effect.flatMap(events.attendees(user, id, page), (found) => pageBody(request, page, found))

    return handlers
      .handle("list", ({ request, urlParams }) => listings.get(request.url, listing(request.url, urlParams)))
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
      .handle("audit", ({ path, request, urlParams: { action, from, to, ...paging } }) => {
        const page = pageRequest(paging)
        return organizer.pipe(
          Effect.flatMap((user) => events.audit(user, path.id, { action, from, to }, page)),
          Effect.flatMap((found) => pageBody(request, page, found))
        )
      })
  }))
