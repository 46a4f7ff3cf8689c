import { Context, Effect, Layer, Option } from "effect"
import { changedFields } from "../Audit/AuditEntry.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import type { CurrentUser } from "../Domain/CurrentUser.ts"
import {
  EventNotFound,
  type Forbidden,
  type TicketsAlreadySold,
  type TicketTypeInUse,
  type TicketTypeIsDefault,
  type TicketTypeNameTaken,
  type TicketTypeNotFound,
  type ValidationError
} from "../Domain/Errors.ts"
import type { EventId, TicketTypeId } from "../Domain/Ids.ts"
import { requireOwner } from "../Domain/Policy.ts"
import type { CreateTicketType, TicketType, UpdateTicketType } from "../Domain/TicketType.ts"
import { Events } from "../Events/Events.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { TicketTypesRepo } from "./TicketTypesRepo.ts"

type User = CurrentUser["Type"]

/**
 * An event's ticket types: seen by whoever may see the event (GET /events/:id's rule: another
 * organizer's draft is no event at all), changed by its organizer while it is not cancelled, each
 * change in the audit trail in its own transaction. Callers have checked the ORGANIZER role for
 * changes.
 */
export class TicketTypes extends Context.Tag("TicketTypes")<TicketTypes, {
  readonly list: (viewer: Option.Option<User>, eventId: EventId) => Effect.Effect<ReadonlyArray<TicketType>, EventNotFound>
  readonly create: (
    organizer: User,
    eventId: EventId,
    input: CreateTicketType
  ) => Effect.Effect<TicketType, EventNotFound | Forbidden | TicketTypeNameTaken | ValidationError>
  readonly update: (
    organizer: User,
    eventId: EventId,
    id: TicketTypeId,
    changes: UpdateTicketType
  ) => Effect.Effect<
    TicketType,
    EventNotFound | Forbidden | TicketTypeNotFound | TicketTypeNameTaken | TicketsAlreadySold | ValidationError
  >
  readonly remove: (
    organizer: User,
    eventId: EventId,
    id: TicketTypeId
  ) => Effect.Effect<void, EventNotFound | Forbidden | TicketTypeNotFound | TicketTypeInUse | TicketTypeIsDefault>
}>() {
  static readonly layer = Layer.effect(
    TicketTypes,
    Effect.gen(function*() {
      const events = yield* Events
      const repo = yield* TicketTypesRepo
      const transactions = yield* Transactions
      const audit = yield* AuditLog

      /** A type's change in the audit trail: what a buyer sees of it (price, quota, sales window). */
      const auditedFields = ["name", "priceCents", "quota", "salesStart", "salesEnd", "maxPerBooking"] as const
      const audited = (
        verb: "created" | "updated" | "deleted",
        eventId: EventId,
        before: TicketType | undefined,
        after: TicketType | undefined
      ) =>
        audit.record({
          action: `ticket_type.${verb}`,
          subject: { type: "ticket_type", id: (after ?? before)!.id },
          eventId,
          changes: after === undefined
            ? Object.fromEntries(auditedFields.map((field) => [field, { before: before![field], after: null }]))
            : changedFields(before, after, auditedFields)
        })

      /** The organizer's own event, not cancelled: another's draft is not found, another's event forbidden. */
      const changeable = (organizer: User, eventId: EventId) =>
        events.get(Option.some(organizer), eventId).pipe(
          Effect.filterOrFail((event) => event.status !== "CANCELLED", () => EventNotFound.of(eventId)),
          Effect.tap((event) => requireOwner(organizer.id, event.organizerId, "events"))
        )

      const logged = (message: string, eventId: EventId, id: TicketTypeId) =>
        Effect.logInfo(message).pipe(Effect.annotateLogs({ eventId, ticketTypeId: id }))

      return {
        list: (viewer, eventId) => events.get(viewer, eventId).pipe(Effect.zipRight(repo.listByEvent(eventId))),

        create: (organizer, eventId, input) =>
          changeable(organizer, eventId).pipe(
            Effect.zipRight(transactions.run(
              repo.create(eventId, {
                name: input.name,
                priceCents: input.priceCents,
                quota: input.quota ?? null,
                salesStart: input.salesStart ?? null,
                salesEnd: input.salesEnd ?? null,
                maxPerBooking: input.maxPerBooking ?? null
              }).pipe(Effect.tap((type) => audited("created", eventId, undefined, type)))
            )),
            Effect.tap((type) => logged("ticket type created", eventId, type.id))
          ),

        update: (organizer, eventId, id, changes) =>
          changeable(organizer, eventId).pipe(
            Effect.zipRight(transactions.run(
              Effect.tap(repo.update(eventId, id, changes), ({ after, before }) => audited("updated", eventId, before, after))
            )),
            Effect.map(({ after }) => after),
            Effect.tap(() => logged("ticket type changed", eventId, id))
          ),

        remove: (organizer, eventId, id) =>
          changeable(organizer, eventId).pipe(
            Effect.zipRight(transactions.run(
              Effect.flatMap(repo.remove(eventId, id), (removed) => audited("deleted", eventId, removed, undefined))
            )),
            Effect.tap(() => logged("ticket type deleted", eventId, id))
          )
      }
    })
  ).pipe(traced(TicketTypes, {
    list: (_, eventId) => ({ "event.id": eventId }),
    create: (_, eventId) => ({ "event.id": eventId }),
    update: (_, eventId, id) => ({ "event.id": eventId, "ticket_type.id": id }),
    remove: (_, eventId, id) => ({ "event.id": eventId, "ticket_type.id": id })
  }))
}
