import { Context, Effect, Layer } from "effect"
import { itemsAsked } from "../Domain/Booking.ts"
import type { EventId, UserId } from "../Domain/Ids.ts"
import type { JoinWaitlist, WaitlistEntry } from "../Domain/WaitlistEntry.ts"
import { type EngineFailure, type Failures, Inventory } from "../Inventory/Inventory.ts"
import { countOf } from "../Inventory/Operation.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { WaitlistRepo } from "./WaitlistRepo.ts"

/**
 * The waiting list of a sold-out event. Joining, leaving and the offers made when tickets come
 * back all go through the event's engine (Inventory/); the offer rule is in Inventory/Offers.ts.
 */
export class Waitlist extends Context.Tag("Waitlist")<Waitlist, {
  /** Callers have checked the CUSTOMER role. */
  readonly join: (userId: UserId, eventId: EventId, request: JoinWaitlist) => Effect.Effect<WaitlistEntry, Failures["Join"] | EngineFailure>
  /** Leaves the line; an open offer is released with it. */
  readonly leave: (userId: UserId, eventId: EventId) => Effect.Effect<void, Failures["Leave"] | EngineFailure>
  readonly listMine: (userId: UserId) => Effect.Effect<ReadonlyArray<WaitlistEntry>>
}>() {
  static readonly layer = Layer.effect(
    Waitlist,
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const repo = yield* WaitlistRepo
      return {
        join: (userId, eventId, request) => inventory.submit(eventId, { _tag: "Join", userId, items: itemsAsked(request) }),
        leave: (userId, eventId) => inventory.submit(eventId, { _tag: "Leave", userId }),
        listMine: (userId) => repo.listOpenByUser(userId)
      }
    })
  ).pipe(traced(Waitlist, {
    join: (userId, eventId, request) => ({
      "user.id": userId,
      "event.id": eventId,
      "waitlist.tickets": countOf(itemsAsked(request))
    }),
    leave: (userId, eventId) => ({ "user.id": userId, "event.id": eventId }),
    listMine: (userId) => ({ "user.id": userId })
  }))
}
