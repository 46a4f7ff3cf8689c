import type { Stream } from "effect"
import { Array, Clock, Context, Effect, Layer, Option, Schema } from "effect"
import * as Announcements from "../Announcements/Announcements.ts"
import type { AuditEntry, AuditFilter } from "../Audit/AuditEntry.ts"
import { changedFields } from "../Audit/AuditEntry.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import {
  type EventAlreadyStarted,
  type EventNotDraft,
  EventNotFound,
  type Forbidden,
  type TicketsAlreadySold,
  type Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import { type CreateEvent, Event, type ListEventsParams, type UpdateEvent } from "../Domain/Event.ts"
import type { EventId, UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { requireOwner } from "../Domain/Policy.ts"
import type { Attendee, EventStats } from "../Domain/Sales.ts"
import { CatalogueChanges } from "../Inventory/CatalogueChanges.ts"
import { Inventory } from "../Inventory/Inventory.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { type EventJob, type EventSnapshot, FieldChange } from "./EventJobTypes.ts"
import { EventsRepo } from "./EventsRepo.ts"
import { SalesRepo } from "./SalesRepo.ts"

type User = CurrentUser["Type"]

const EDITABLE = ["title", "description", "date", "location", "totalTickets"] as const
/** What the audit trail tells of an event's change: every field an organizer sets. */
const AUDITED = [...EDITABLE, "salesStart", "salesEnd", "status"] as const

/**
 * Publishing, finding and managing events. Callers have checked the ORGANIZER role where one is
 * needed; ownership is checked here. Another organizer's draft does not exist for anyone else: it
 * answers 404 wherever its id is used, never 403, so drafts cannot be discovered by probing ids.
 */
export class Events extends Context.Tag("Events")<Events, {
  /** Unauthorized when the organizer's account no longer exists. */
  readonly create: (organizer: User, input: CreateEvent) => Effect.Effect<Event, ValidationError | Unauthorized>
  /** The catalogue: published events, not cancelled, matching the query. */
  readonly list: (params: ListEventsParams, page: PageRequest) => Effect.Effect<Page<Event>>
  /** Any event but someone else's draft, cancelled ones included. */
  readonly get: (viewer: Option.Option<User>, id: EventId) => Effect.Effect<Event, EventNotFound>
  readonly update: (
    organizer: User,
    id: EventId,
    changes: UpdateEvent
  ) => Effect.Effect<Event, ValidationError | EventNotFound | Forbidden | TicketsAlreadySold>
  readonly cancel: (organizer: User, id: EventId) => Effect.Effect<void, EventNotFound | Forbidden>
  readonly publish: (organizer: User, id: EventId) => Effect.Effect<Event, EventNotFound | Forbidden | EventNotDraft | EventAlreadyStarted>
  /** The organizer's own events, drafts and cancelled ones included. */
  readonly mine: (organizer: User, page: PageRequest) => Effect.Effect<Page<Event>>
  readonly attendees: (organizer: User, id: EventId, page: PageRequest) => Effect.Effect<Page<Attendee>, EventNotFound | Forbidden>
  /** Every attendee, for an export: checked now, read as the stream is pulled. */
  readonly allAttendees: (organizer: User, id: EventId) => Effect.Effect<Stream.Stream<Attendee>, EventNotFound | Forbidden>
  readonly stats: (organizer: User, id: EventId) => Effect.Effect<EventStats, EventNotFound | Forbidden>
  /** The event's audit trail, newest first (its organizer). */
  readonly audit: (
    organizer: User,
    id: EventId,
    filter: Omit<AuditFilter, "eventId">,
    page: PageRequest
  ) => Effect.Effect<Page<AuditEntry>, EventNotFound | Forbidden>
}>() {
  static readonly layer = Layer.effect(
    Events,
    Effect.gen(function*() {
      const catalogueChanged = yield* CatalogueChanges.signal
      const repo = yield* EventsRepo
      const sales = yield* SalesRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      const inventory = yield* Inventory
      const audit = yield* AuditLog
      /** The change of an event, for the trail (an update that changed nothing tells it nothing). */
      const audited = (action: "created" | "updated" | "published" | "cancelled", before: Event | undefined, after: Event) => {
        const changes = changedFields(before, after, AUDITED)
        return action === "updated" && Object.keys(changes).length === 0
          ? Effect.void
          : audit.record({ action: `event.${action}`, subject: { type: "event", id: after.id }, eventId: after.id, changes })
      }

      /** The event as `viewer` may see it: someone else's draft is no event at all. */
      const visibleEvent = (viewer: UserId | undefined, id: EventId) =>
        repo.findById(id).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(EventNotFound.of(id)),
            onSome: (event) =>
              event.status === "DRAFT" && event.organizerId !== viewer ? Effect.fail(EventNotFound.of(id)) : Effect.succeed(event)
          }))
        )

      const ownEvent = (organizer: User, id: EventId) =>
        visibleEvent(organizer.id, id).pipe(Effect.tap((event) => requireOwner(organizer.id, event.organizerId, "events")))

      /** A cancelled event can no longer be changed: as before there were drafts, it is not found. */
      const changeableEvent = (organizer: User, id: EventId) =>
        visibleEvent(organizer.id, id).pipe(
          Effect.filterOrFail((event) => event.status !== "CANCELLED", () => EventNotFound.of(id)),
          Effect.tap((event) => requireOwner(organizer.id, event.organizerId, "events"))
        )

      return {
        create: (organizer, input) =>
          requireFuture(input.date).pipe(
            Effect.zipRight(requireSalesWindow(input.date, input.salesStart ?? null, input.salesEnd ?? null)),
            // The event, its entry in the audit trail and (published as it is made) its event.published
            // announcement commit together.
            Effect.zipRight(transactions.run(
              repo.create({ ...input, organizerId: organizer.id }).pipe(
                Effect.tap((event) => audited("created", undefined, event)),
                Effect.tap((event) =>
                  event.status === "PUBLISHED"
                    ? jobs.enqueue(Announcements.eventChanged(event.id, "event.published", encodeEvent(event)))
                    : Effect.void
                )
              )
            )),
            Effect.tap(() => catalogueChanged),
            Effect.tap((event) => Effect.logInfo("event created").pipe(Effect.annotateLogs({ eventId: event.id, status: event.status })))
          ),

        list: ({ available, from, includePast, location, q, sort = "date", to }, page) =>
          repo.search({
            words: q === undefined ? [] : q.split(/\s+/).filter((word) => word !== ""),
            location: location === "" ? undefined : location,
            from,
            to,
            upcomingOnly: includePast !== true && from === undefined,
            availableOnly: available === true,
            sort
          }, page),

        get: (viewer, id) => visibleEvent(Option.getOrUndefined(viewer)?.id, id),

        update: (organizer, id, changes) =>
          Effect.gen(function*() {
            if (changes.date !== undefined) yield* requireFuture(changes.date)
            const before = yield* changeableEvent(organizer, id)
            yield* requireSalesWindow(
              changes.date ?? before.date,
              changes.salesStart === undefined ? before.salesStart : changes.salesStart,
              changes.salesEnd === undefined ? before.salesEnd : changes.salesEnd
            )
            return yield* transactions.run(
              Effect.gen(function*() {
                const updated = yield* repo.update(id, changes)
                // Tickets added go to the waiting list first, in this transaction (it holds the event's row).
                const after = updated.totalTickets > before.totalTickets
                  ? { ...updated, ...(yield* inventory.applyWithin(id, [{ _tag: "Refresh" }])) }
                  : updated
                const changed = EDITABLE.filter((field) => !sameValue(before[field], after[field]))
                  // Each field keeps its type from Event to FieldChange.
                  .map((field) => ({ field, before: before[field], after: after[field] }) as FieldChange)
                // A draft has no attendees to tell.
                if (Array.isNonEmptyArray(changed) && after.status === "PUBLISHED") {
                  yield* jobs.enqueue(
                    { _tag: "EventUpdated", eventId: id, event: snapshotOf(after), changes: changed } satisfies EventJob,
                    Announcements.eventChanged(id, "event.updated", encodeEvent(after), changed.map((change) => encodeChange(change)))
                  )
                }
                yield* audited("updated", before, updated)
                return after
              })
            ).pipe(Effect.tap(() => catalogueChanged))
          }),

        cancel: (organizer, id) =>
          changeableEvent(organizer, id).pipe(
            Effect.flatMap((event) =>
              transactions.run(
                repo.cancel(id).pipe(
                  Effect.zipRight(audited("cancelled", event, { ...event, status: "CANCELLED" })),
                  Effect.zipRight(
                    event.status === "DRAFT"
                      ? Effect.void
                      : jobs.enqueue(
                        { _tag: "EventCancelled", eventId: id, event: snapshotOf(event) } satisfies EventJob,
                        Announcements.eventChanged(id, "event.cancelled", encodeEvent({ ...event, status: "CANCELLED" }))
                      )
                  )
                )
              )
            ),
            Effect.tap(() => catalogueChanged),
            Effect.tap(() => Effect.logInfo("event cancelled").pipe(Effect.annotateLogs({ eventId: id })))
          ),

        publish: (organizer, id) =>
          ownEvent(organizer, id).pipe(
            Effect.flatMap((before) =>
              transactions.run(
                repo.publish(id).pipe(
                  Effect.tap((after) => audited("published", before, after)),
                  Effect.tap((after) => jobs.enqueue(Announcements.eventChanged(id, "event.published", encodeEvent(after))))
                )
              )
            ),
            Effect.tap(() => catalogueChanged),
            Effect.tap(() => Effect.logInfo("event published").pipe(Effect.annotateLogs({ eventId: id })))
          ),

        mine: (organizer, page) => repo.listByOrganizer(organizer.id, page),

        attendees: (organizer, id, page) => ownEvent(organizer, id).pipe(Effect.zipRight(sales.attendees(id, page))),

        allAttendees: (organizer, id) => ownEvent(organizer, id).pipe(Effect.as(sales.allAttendees(id))),

        stats: (organizer, id) =>
          ownEvent(organizer, id).pipe(
            Effect.zipRight(sales.stats(id)),
            Effect.flatMap(Option.match({ onNone: () => Effect.fail(EventNotFound.of(id)), onSome: Effect.succeed }))
          ),

        audit: (organizer, id, filter, page) => ownEvent(organizer, id).pipe(Effect.zipRight(audit.page({ ...filter, eventId: id }, page)))
      }
    })
  ).pipe(traced(Events, {
    list: (_, { limit, offset }) => ({ "events.limit": limit, "events.offset": offset }),
    get: (_, id) => ({ "event.id": id }),
    publish: (_, id) => ({ "event.id": id }),
    update: (_, id) => ({ "event.id": id }),
    cancel: (_, id) => ({ "event.id": id })
  }))
}

const requireFuture = (date: Date): Effect.Effect<void, ValidationError> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => date.getTime() > now ? Effect.void : Effect.fail(new ValidationError({ message: "date: must be in the future" }))
  )

/** The sales window, if bounded, must open before the event and close after it opens. */
const requireSalesWindow = (date: Date, start: Date | null, end: Date | null): Effect.Effect<void, ValidationError> =>
  start !== null && end !== null && start.getTime() >= end.getTime()
    ? Effect.fail(new ValidationError({ message: "salesEnd: must be after salesStart" }))
    : start !== null && start.getTime() >= date.getTime()
    ? Effect.fail(new ValidationError({ message: "salesStart: must be before the event's date" }))
    : Effect.void

/** An event and its changes as webhooks carry them: as the API shows them (JSON). */
const encodeEvent = Schema.encodeSync(Event) as (event: Event) => Announcements.Announcement["data"]
const encodeChange = Schema.encodeSync(FieldChange)

const snapshotOf = ({ date, location, title }: Event): EventSnapshot => ({ title, date, location })

const sameValue = (a: unknown, b: unknown) => a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b
