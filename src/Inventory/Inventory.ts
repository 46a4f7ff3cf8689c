/**
 * The per-event engine every change of an event's tickets goes through: bookings, cancellations,
 * holds and their expiry, the waiting list. Operations on one event are group-committed: those
 * that arrive while the event's transaction is in flight wait in its line and are decided together
 * by the next one (Platform/GroupCommit.ts), in arrival order, with the outcome applying them one
 * by one would give (Operations.ts). One transaction may take the lines of several events (their
 * rows locked in id order), so bookings spread over many events are batched too.
 */
import { Array as Arr, Cause, Chunk, Context, Effect, Either, Exit, Layer, type Tracer } from "effect"
import * as Announcements from "../Announcements/Announcements.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import type { Origin } from "../Audit/Origin.ts"
import type { Booking, TicketsOfType } from "../Domain/Booking.ts"
import {
  type AlreadyOnWaitlist,
  type BookingAlreadyCancelled,
  BookingFailed,
  type BookingNotFound,
  type CustomerLimitReached,
  type EventAlreadyStarted,
  type EventNotFound,
  type HoldAlreadyConfirmed,
  type HoldExpired,
  type HoldNotFound,
  type NotEnoughTickets,
  type NotOnWaitlist,
  Overloaded,
  type SalesClosed,
  type TicketCheckedIn,
  type TicketsAvailable,
  type TicketTypeNotFound,
  type Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import type { Event } from "../Domain/Event.ts"
import type { Hold } from "../Domain/Hold.ts"
import type { BookingId, EventId, HoldId, TicketTypeId, UserId, WaitlistEntryId } from "../Domain/Ids.ts"
import type { BookingRow, ItemRow } from "../Domain/TicketRows.ts"
import type { WaitlistEntry } from "../Domain/WaitlistEntry.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { AppConfig } from "../Platform/Config.ts"
import * as GroupCommit from "../Platform/GroupCommit.ts"
import { CommitOutcomeUnknown, Transactions } from "../Storage/Transactions.ts"
import { recordBookingBatch, recordInventoryBatch, recordTicketChanges } from "../Telemetry/Metrics.ts"
import * as Tracing from "../Telemetry/Tracing.ts"
import { auditEntriesOf } from "./AuditTrail.ts"
import { CatalogueChanges } from "./CatalogueChanges.ts"
import type { BookingsConfirmed, InventoryJob } from "./InventoryJobTypes.ts"
import { InventoryRepo, isStaleMemory } from "./InventoryRepo.ts"
import { countOf, type Operation, type OperationTag } from "./Operation.ts"
import type { Decision, Notice, Refusal, Rules, SettledPlan } from "./Plan.ts"

/** What each operation answers. */
export interface Results {
  readonly Book: Booking
  readonly Cancel: Booking
  readonly Reduce: Booking
  readonly Hold: Hold
  readonly Confirm: Booking
  readonly Release: void
  readonly Join: WaitlistEntry
  readonly Leave: void
  readonly Expire: "expired" | "ended" | "not-due"
  readonly Refresh: void
}

type Taking =
  | EventNotFound
  | EventAlreadyStarted
  | SalesClosed
  | CustomerLimitReached
  | Unauthorized
  | ValidationError
  | TicketTypeNotFound

/** Why each operation may be refused (see `decide`). */
export interface Failures {
  readonly Book: Taking | NotEnoughTickets
  readonly Cancel: BookingNotFound | BookingAlreadyCancelled | EventAlreadyStarted | TicketCheckedIn
  readonly Reduce: BookingNotFound | BookingAlreadyCancelled | EventAlreadyStarted | ValidationError | TicketCheckedIn
  readonly Hold: Taking | NotEnoughTickets
  readonly Confirm: HoldNotFound | HoldExpired | HoldAlreadyConfirmed | EventNotFound | EventAlreadyStarted
  readonly Release: HoldNotFound | HoldExpired | HoldAlreadyConfirmed
  readonly Join: Taking | AlreadyOnWaitlist | TicketsAvailable
  readonly Leave: NotOnWaitlist
  readonly Expire: never
  readonly Refresh: never
}

/** The engine's own failures: the event's line is full, or its transaction failed. */
export type EngineFailure = Overloaded | BookingFailed

export type Outcome<T extends OperationTag> = Effect.Effect<Results[T], Failures[T] | EngineFailure>

/** One event's part of a batch: its plan, and each operation's answer. */
interface Decided {
  readonly plan: SettledPlan
  readonly outcomes: ReadonlyArray<Either.Either<unknown, Refusal>>
}

/**
 * An operation in its event's line, with the span of the request that submitted it (tracing on)
 * and its origin (who asked, from where: the audit trail's).
 */
interface LineItem {
  readonly operation: Operation
  readonly span: Tracer.AnySpan | undefined
  readonly origin: Origin
}

export class Inventory extends Context.Tag("Inventory")<Inventory, {
  /** Queues `operation` in its event's line; answers with its own outcome once its batch committed. */
  readonly submit: <O extends Operation>(eventId: EventId, operation: O) => Outcome<O["_tag"]>
  /**
   * Decides `operations` at once inside the caller's transaction, which must already hold the
   * event's row (an organizer's change of totalTickets): answers the tickets left afterwards.
   */
  readonly applyWithin: (eventId: EventId, operations: ReadonlyArray<Operation>) => Effect.Effect<{ readonly availableTickets: number }>
}>() {
  static readonly layer = Layer.scoped(
    Inventory,
    Effect.gen(function*() {
      const { booking: settings, holds, maxTicketsPerBooking, maxTicketsPerCustomerPerEvent } = yield* AppConfig
      const repo = yield* InventoryRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      const catalogueChanged = yield* CatalogueChanges.signal
      const audit = yield* AuditLog
      const rules: Rules = { holdTtlMs: holds.ttlSeconds * 1000, maxTicketsPerCustomer: maxTicketsPerCustomerPerEvent }

      /**
       * Several events' operations, in the current transaction: each event's answers, and the jobs
       * that report their changes. Each job carries the span of the request whose operation led
       * to it: its span links to that request. `remembered`: the batch may be decided on what the
       * repository remembers of its events, in a transaction of its own (`commitLines` decides it
       * again if that changed).
       */
      const apply = (
        batch: ReadonlyArray<{ readonly eventId: EventId; readonly items: ReadonlyArray<LineItem> }>,
        remembered: boolean
      ) =>
        Effect.gen(function*() {
          const applied = yield* repo.applyEach(
            batch.map(({ eventId, items }) => ({ eventId, operations: items.map((item) => item.operation) })),
            rules,
            { remembered }
          )
          // Every booking the transaction made is confirmed by one job, linked to the first one's request.
          const reported: Array<readonly [InventoryJob | Announcements.Announcement, Tracer.AnySpan | undefined]> = []
          const confirmed: Array<BookingsConfirmed["bookings"][number]> = []
          let confirmedSpan: Tracer.AnySpan | undefined
          applied.forEach(({ plan }, i) => {
            const { eventId, items } = batch[i]!
            // Organizers' webhooks hear of each change (the outbox writes them only for a listening endpoint).
            for (const hold of plan.holds.updates) {
              if (hold.status === "EXPIRED") reported.push([Announcements.holdExpired(eventId, hold), undefined])
            }
            for (const notice of plan.notices) {
              const span = notice.cause === undefined ? undefined : items[notice.cause]!.span
              const announcement = announcementOf(eventId, notice)
              if (announcement !== undefined) reported.push([announcement, span])
              if (notice._tag !== "BookingConfirmed") {
                for (const job of jobsOf(eventId, notice)) reported.push([job, span])
                continue
              }
              const { id, ticketsCount, userId } = notice.booking
              if (confirmed.length === 0) confirmedSpan = span
              confirmed.push({ bookingId: id as BookingId, userId: userId as UserId, eventId, ticketsCount })
            }
          })
          if (Arr.isNonEmptyArray(confirmed)) reported.unshift([{ _tag: "BookingsConfirmed", bookings: confirmed }, confirmedSpan])
          yield* jobs.enqueueEach(reported.map(([job]) => job), reported.map(([, span]) => span))
          // The batch's audit entries: one statement, sent with the COMMIT as the jobs are.
          yield* audit.writeEach(
            applied.flatMap(({ plan }, i) => auditEntriesOf(batch[i]!.eventId, plan.writes, batch[i]!.items.map((item) => item.origin)))
          )
          return applied.map(({ event, plan, typeNames }, i): Decided => ({
            plan,
            outcomes: plan.outcomes.map(Either.map((decision) => resultOf(batch[i]!.eventId, event, typeNames, decision)))
          }))
        })

      /** Several events' lines in one transaction: their changes and jobs commit together, or nothing does. */
      const decideLines = (lines: ReadonlyArray<GroupCommit.Line<EventId, LineItem>>) =>
        transactions.run(apply(lines.map(({ items, key }) => ({ eventId: key, items })), true))

      /**
       * After a batch committed: its figures per event (bookings made, not answers: a repeated
       * Idempotency-Key is answered with the booking it made before), and the public listing told
       * when the tickets left changed.
       */
      const committed = (lines: ReadonlyArray<GroupCommit.Line<EventId, LineItem>>, decided: ReadonlyArray<Decided>) =>
        Effect.all([
          Effect.forEach(decided, ({ plan }, i) => {
            const made = plan.bookings.inserts
            return Effect.zipRight(
              recordBookingBatch(lines[i]!.items.length, made.length, made.reduce((n, row) => n + row.ticketsCount, 0)),
              recordTicketChanges({
                cancelled: plan.bookings.updates.filter((row) => row.status === "CANCELLED").length,
                holdsPlaced: plan.holds.inserts.length,
                holdsExpired: plan.holds.updates.filter((row) => row.status === "EXPIRED").length
              })
            )
          }, { discard: true }),
          decided.some(({ plan }) => plan.availabilityChanged) ? catalogueChanged : Effect.void
        ], { discard: true })

      type Outcomes = ReadonlyArray<ReadonlyArray<Either.Either<unknown, Refusal | EngineFailure>>>

      // A batch that rolled back is tried once more, each event on its own (one event's trouble
      // must not fail the others); then each of its operations fails, typed. A COMMIT that got no
      // answer is not retried: PostgreSQL may have applied it, and a retry could apply it twice.
      // A batch decided on a remembered state that no longer held wrote nothing, and has forgotten
      // it: it is decided again, on what it reads (InventoryRepo.ts), as a matter of course.
      const commitLines = (
        lines: ReadonlyArray<GroupCommit.Line<EventId, LineItem>>,
        attempt: number,
        remembered = true
      ): Effect.Effect<Outcomes> =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(decideLines(lines))
          if (Exit.isSuccess(exit)) {
            yield* committed(lines, exit.value)
            return exit.value.map(({ outcomes }) => outcomes)
          }
          if (remembered && Chunk.some(Cause.defects(exit.cause), isStaleMemory)) {
            yield* Effect.logDebug("inventory batch decided on a state that changed: decided again")
            yield* recordInventoryBatch("stale")
            return yield* commitLines(lines, attempt, false)
          }
          const committing = Chunk.some(Cause.defects(exit.cause), (defect) => defect instanceof CommitOutcomeUnknown)
          yield* Effect.logError("inventory batch failed", exit.cause).pipe(
            Effect.annotateLogs({
              eventIds: lines.map(({ key }) => key).join(","),
              operations: lines.reduce((n, { items }) => n + items.length, 0),
              attempt,
              atCommit: committing
            })
          )
          if (committing || attempt === 2) {
            return lines.map(({ items }) => items.map(({ operation }) => Either.left(failed(operation, committing))))
          }
          return yield* Effect.forEach(lines, (line) => Effect.map(commitLines([line], 2), (outcomes) => outcomes[0]!))
        })

      const commit = (lines: ReadonlyArray<GroupCommit.Line<EventId, LineItem>>) =>
        commitLines(lines, 1).pipe(
          // The batch runs apart from its requests (in the events' lines): it links to each of them.
          Tracing.withSpan("Inventory.commitBatch", () => ({
            attributes: {
              "inventory.events": lines.length,
              "inventory.batch_size": lines.reduce((n, { items }) => n + items.length, 0)
            },
            links: lines.flatMap(({ items }) =>
              items.flatMap(({ span }) => span === undefined ? [] : [{ _tag: "SpanLink" as const, span, attributes: {} }])
            )
          }))
        )

      const line = yield* GroupCommit.make<EventId, LineItem, unknown, Refusal | EngineFailure>({
        maxBatch: settings.maxBatch,
        maxWaiting: settings.maxWaiting,
        maxCommits: settings.maxCommits,
        commit,
        overloaded: () => Overloaded.instance
      })

      const perRequest = { Book: "booking", Hold: "hold", Join: "waiting-list entry" } as const
      const tooMany = (operation: Operation) =>
        (operation._tag === "Book" || operation._tag === "Hold" || operation._tag === "Join") &&
          countOf(operation.items) > maxTicketsPerBooking
          ? new ValidationError({
            message: `${operation.items.length > 1 ? "items" : "ticketsCount"}: must be at most ${maxTicketsPerBooking} per ${
              perRequest[operation._tag]
            }`
          })
          : undefined

      return {
        // The line answers each operation with the result its tag calls for (resultOf, decide).
        submit: <O extends Operation>(eventId: EventId, operation: O) => {
          const invalid = tooMany(operation)
          return (invalid === undefined
            ? Effect.flatMap(
              Tracing.currentSpan,
              (span) => Effect.flatMap(audit.origin, (origin) => line.submit(eventId, { operation, span, origin }))
            )
            : Effect.fail(invalid)) as Outcome<O["_tag"]>
        },
        // The caller's transaction commits (or not) later, and tells the listing (Events.update).
        applyWithin: (eventId, operations) =>
          Effect.flatMap(
            Tracing.currentSpan,
            (span) =>
              Effect.flatMap(audit.origin, (origin) =>
                apply([{ eventId, items: operations.map((operation) => ({ operation, span, origin })) }], false))
          )
            .pipe(
              Effect.map(([{ plan }]) => ({ availableTickets: plan!.availableTickets }))
            )
      }
    })
  )
}

/** What a failed batch tells each of its operations: a booking's own words, or a change's. */
const failed = (operation: Operation, atCommit: boolean) =>
  operation._tag === "Book" || operation._tag === "Confirm"
    ? atCommit ? BookingFailed.outcomeUnknown : BookingFailed.nothingBooked
    : atCommit
    ? BookingFailed.changeUnknown
    : BookingFailed.nothingChanged

/** A row's items as the API shows them, each with its type's name. */
export const itemsOf = (items: ReadonlyArray<ItemRow>, typeNames: ReadonlyMap<number, string>): ReadonlyArray<TicketsOfType> =>
  items.map(({ count, ticketTypeId }) => ({ ticketTypeId: ticketTypeId as TicketTypeId, name: typeNames.get(ticketTypeId) ?? "", count }))

export const toBooking = (
  eventId: EventId,
  event: Event,
  row: BookingRow,
  availableTickets: number,
  typeNames: ReadonlyMap<number, string>
): Booking => ({
  id: row.id as BookingId,
  userId: row.userId as UserId,
  eventId,
  ticketsCount: row.ticketsCount,
  items: itemsOf(row.items, typeNames),
  status: row.status,
  cancelledAt: row.cancelledAt,
  createdAt: row.createdAt,
  event: { ...event, availableTickets }
})

/** A decision as the API answers it. */
const resultOf = (eventId: EventId, event: Event | undefined, typeNames: ReadonlyMap<number, string>, decision: Decision): unknown => {
  switch (decision._tag) {
    case "Booking":
      return toBooking(eventId, event!, decision.booking, decision.availableAfter, typeNames)
    case "Hold": {
      const { createdAt, expiresAt, id, items, ticketsCount } = decision.hold
      return {
        id: id as HoldId,
        eventId,
        ticketsCount,
        items: itemsOf(items, typeNames),
        expiresAt,
        status: "HELD",
        createdAt
      } satisfies Hold
    }
    case "Entry":
      return {
        id: decision.entry.id as WaitlistEntryId,
        eventId,
        ticketsCount: decision.entry.ticketsCount,
        items: itemsOf(decision.entry.items, typeNames),
        position: decision.position,
        status: "WAITING",
        holdId: null
      } satisfies WaitlistEntry
    case "Expiry":
      return decision.result
    case "Done":
      return undefined
  }
}

/** The webhook event a notice is, if any (a hold placed by a customer is none: an offer is). */
const announcementOf = (eventId: EventId, notice: Notice): Announcements.Announcement | undefined => {
  switch (notice._tag) {
    case "BookingConfirmed":
      return Announcements.bookingCreated(eventId, notice.booking)
    case "BookingCancelled":
      return Announcements.bookingCancelled(eventId, notice.booking, notice.ticketsCancelled)
    case "HoldPlaced":
      return notice.hold.entryId === null ? undefined : Announcements.waitlistOffered(eventId, notice.hold)
  }
}

/** The outbox jobs a notice becomes (confirmations are gathered per transaction, in `apply`). */
const jobsOf = (eventId: EventId, notice: Exclude<Notice, { readonly _tag: "BookingConfirmed" }>): ReadonlyArray<InventoryJob> => {
  switch (notice._tag) {
    case "BookingCancelled": {
      const { id, status, ticketsCount, userId } = notice.booking
      return [{
        _tag: "BookingCancelled",
        bookingId: id as BookingId,
        userId: userId as UserId,
        eventId,
        ticketsCancelled: notice.ticketsCancelled,
        ticketsLeft: status === "CANCELLED" ? 0 : ticketsCount
      }]
    }
    case "HoldPlaced": {
      const { entryId, expiresAt, ticketsCount, userId } = notice.hold
      const holdId = notice.hold.id as HoldId
      const expiry: InventoryJob = { _tag: "HoldExpiry", holdId, eventId, expiresAt }
      return entryId === null
        ? [expiry]
        : [expiry, { _tag: "WaitlistOffer", holdId, userId: userId as UserId, eventId, ticketsCount, expiresAt }]
    }
  }
}
