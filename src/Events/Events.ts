import { Array, Clock, Context, Effect, Layer, Option } from "effect"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import { EventNotFound, type Forbidden, type TicketsAlreadySold, type Unauthorized, ValidationError } from "../Domain/Errors.ts"
import type { EventId } from "../Domain/Ids.ts"
import { requireOwner } from "../Domain/Policy.ts"
import { Inventory } from "../Inventory/Inventory.ts"
import type { EventSnapshot, FieldChange } from "../Jobs/Job.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Transactions } from "../Platform/Transactions.ts"
import type { CreateEvent, Event, ListEventsParams, UpdateEvent } from "./Event.ts"
import { EventsRepo } from "./EventsRepo.ts"

type Organizer = CurrentUser["Type"]

const EDITABLE = ["title", "description", "date", "location", "totalTickets"] as const

/** Publishing and managing events. Callers have checked the ORGANIZER role; ownership is checked here. */
export class Events extends Context.Tag("Events")<Events, {
  /** Unauthorized when the organizer's account no longer exists. */
  readonly create: (organizer: Organizer, input: CreateEvent) => Effect.Effect<Event, ValidationError | Unauthorized>
  readonly list: (params: ListEventsParams) => Effect.Effect<ReadonlyArray<Event>>
  readonly update: (
    organizer: Organizer,
    id: EventId,
    changes: UpdateEvent
  ) => Effect.Effect<Event, ValidationError | EventNotFound | Forbidden | TicketsAlreadySold>
  readonly cancel: (organizer: Organizer, id: EventId) => Effect.Effect<void, EventNotFound | Forbidden>
}>() {
  static readonly layer = Layer.effect(
    Events,
    Effect.gen(function*() {
      const repo = yield* EventsRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      const inventory = yield* Inventory

      const ownedEvent = (organizer: Organizer, id: EventId) =>
        repo.findById(id).pipe(
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(EventNotFound.of(id)), onSome: Effect.succeed })),
          Effect.tap((event) => requireOwner(organizer.id, event.organizerId, "events"))
        )

      return {
        create: (organizer, input) =>
          requireFuture(input.date).pipe(
            Effect.zipRight(requireSalesWindow(input.date, input.salesStart ?? null, input.salesEnd ?? null)),
            Effect.zipRight(repo.create({ ...input, organizerId: organizer.id })),
            Effect.tap((event) => Effect.logInfo("event created").pipe(Effect.annotateLogs({ eventId: event.id })))
          ),

        list: ({ includePast = false, limit, offset }) => repo.list({ includePast, limit, offset }),

        update: (organizer, id, changes) =>
          Effect.gen(function*() {
            if (changes.date !== undefined) yield* requireFuture(changes.date)
            const before = yield* ownedEvent(organizer, id)
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
                if (Array.isNonEmptyArray(changed)) {
                  yield* jobs.enqueue({ _tag: "EventUpdated", eventId: id, event: snapshotOf(after), changes: changed })
                }
                return after
              })
            )
          }),

        cancel: (organizer, id) =>
          ownedEvent(organizer, id).pipe(
            Effect.flatMap((event) =>
              transactions.run(
                repo.cancel(id).pipe(Effect.zipRight(jobs.enqueue({ _tag: "EventCancelled", eventId: id, event: snapshotOf(event) })))
              )
            ),
            Effect.tap(() => Effect.logInfo("event cancelled").pipe(Effect.annotateLogs({ eventId: id })))
          )
      }
    })
  )
}

const requireFuture = (date: Date): Effect.Effect<void, ValidationError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    date.getTime() > now ? Effect.void : Effect.fail(new ValidationError({ message: "date: must be in the future" })))

/** The sales window, if bounded, must open before the event and close after it opens. */
const requireSalesWindow = (date: Date, start: Date | null, end: Date | null): Effect.Effect<void, ValidationError> =>
  start !== null && end !== null && start.getTime() >= end.getTime()
    ? Effect.fail(new ValidationError({ message: "salesEnd: must be after salesStart" }))
    : start !== null && start.getTime() >= date.getTime()
    ? Effect.fail(new ValidationError({ message: "salesStart: must be before the event's date" }))
    : Effect.void

const snapshotOf = ({ date, location, title }: Event): EventSnapshot => ({ title, date, location })

const sameValue = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b
