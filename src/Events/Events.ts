import { Array, Clock, Context, Effect, Layer, Option } from "effect"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import { EventNotFound, type Forbidden, type TicketsAlreadySold, type Unauthorized, ValidationError } from "../Domain/Errors.ts"
import type { EventId } from "../Domain/Ids.ts"
import { requireOwner } from "../Domain/Policy.ts"
import type { EventSnapshot, FieldChange } from "../Jobs/Job.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Transactions } from "../Platform/Transactions.ts"
import type { CreateEvent, Event, ListEventsParams, UpdateEvent } from "./Event.ts"
import { EventsRepo } from "./EventsRepo.ts"
import { traced } from "../Telemetry/Tracing.ts"

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

      const ownedEvent = (organizer: Organizer, id: EventId) =>
        repo.findById(id).pipe(
          Effect.flatMap(Option.match({ onNone: () => Effect.fail(EventNotFound.of(id)), onSome: Effect.succeed })),
          Effect.tap((event) => requireOwner(organizer.id, event.organizerId, "events"))
        )

      return {
        create: (organizer, input) =>
          requireFuture(input.date).pipe(
            Effect.zipRight(repo.create({ ...input, organizerId: organizer.id })),
            Effect.tap((event) => Effect.logInfo("event created").pipe(Effect.annotateLogs({ eventId: event.id })))
          ),

        list: ({ includePast = false, limit, offset }) => repo.list({ includePast, limit, offset }),

        update: (organizer, id, changes) =>
          Effect.gen(function*() {
            if (changes.date !== undefined) yield* requireFuture(changes.date)
            const before = yield* ownedEvent(organizer, id)
            return yield* transactions.run(
              Effect.gen(function*() {
                const after = yield* repo.update(id, changes)
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
  ).pipe(traced(Events, {
    list: ({ includePast, limit, offset }) => ({ "events.include_past": includePast ?? false, "events.limit": limit, "events.offset": offset }),
    update: (_, id) => ({ "event.id": id }),
    cancel: (_, id) => ({ "event.id": id })
  }))
}

const requireFuture = (date: Date): Effect.Effect<void, ValidationError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    date.getTime() > now ? Effect.void : Effect.fail(new ValidationError({ message: "date: must be in the future" })))

const snapshotOf = ({ date, location, title }: Event): EventSnapshot => ({ title, date, location })

const sameValue = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b
