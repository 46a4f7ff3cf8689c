import { Context, Effect, Layer, Option } from "effect"
import { type Booking, itemsAsked } from "../Domain/Booking.ts"
import { HoldNotFound } from "../Domain/Errors.ts"
import type { Hold, PlaceHold } from "../Domain/Hold.ts"
import type { HoldId, IdempotencyId, UserId } from "../Domain/Ids.ts"
import { type EngineFailure, type Failures, Inventory } from "../Inventory/Inventory.ts"
import { countOf } from "../Inventory/Operation.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { HoldsRepo } from "./HoldsRepo.ts"

/**
 * Holding tickets for a while (HOLD_TTL_SECONDS), then confirming or releasing them. Every change
 * goes through the event's engine (Inventory/); expiry too (Jobs: HoldExpiry, and Inventory/Sweep.ts).
 *
 * `idempotencyId`: the request's Idempotency-Key (Idempotency/Idempotency.ts), recorded on the hold it
 * places or the booking its confirmation makes: a repeat is answered with that, never done twice.
 */
export class Holds extends Context.Tag("Holds")<Holds, {
  /** Callers have checked the CUSTOMER role. */
  readonly place: (
    userId: UserId,
    request: PlaceHold,
    idempotencyId?: IdempotencyId
  ) => Effect.Effect<Hold, Failures["Hold"] | EngineFailure>
  /** The caller's open hold becomes a booking. */
  readonly confirm: (
    userId: UserId,
    holdId: HoldId,
    idempotencyId?: IdempotencyId
  ) => Effect.Effect<Booking, Failures["Confirm"] | EngineFailure>
  /** The caller's open hold ends; its tickets go back on sale. */
  readonly release: (userId: UserId, holdId: HoldId) => Effect.Effect<void, Failures["Release"] | EngineFailure>
  readonly listMine: (userId: UserId) => Effect.Effect<ReadonlyArray<Hold>>
}>() {
  static readonly layer = Layer.effect(
    Holds,
    Effect.gen(function*() {
      const inventory = yield* Inventory
      const repo = yield* HoldsRepo

      /** The event a hold of the caller's belongs to (the engine checks again, under the lock). */
      const eventOf = (userId: UserId, holdId: HoldId) =>
        repo.findById(holdId).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(HoldNotFound.of(holdId)),
            onSome: (hold) => hold.userId === userId ? Effect.succeed(hold.eventId) : Effect.fail(HoldNotFound.of(holdId))
          }))
        )

      return {
        place: (userId, request, idempotencyId) =>
          inventory.submit(request.eventId, { _tag: "Hold", userId, items: itemsAsked(request), idempotencyId }),
        confirm: (userId, holdId, idempotencyId) =>
          Effect.flatMap(
            eventOf(userId, holdId),
            (eventId) => inventory.submit(eventId, { _tag: "Confirm", userId, holdId, idempotencyId })
          ),
        release: (userId, holdId) =>
          Effect.flatMap(eventOf(userId, holdId), (eventId) => inventory.submit(eventId, { _tag: "Release", userId, holdId })),
        listMine: (userId) => repo.listOpenByUser(userId)
      }
    })
  ).pipe(traced(Holds, {
    place: (userId, request) => ({
      "user.id": userId,
      "event.id": request.eventId,
      "hold.tickets": countOf(itemsAsked(request))
    }),
    confirm: (userId, holdId) => ({ "user.id": userId, "hold.id": holdId }),
    release: (userId, holdId) => ({ "user.id": userId, "hold.id": holdId }),
    listMine: (userId) => ({ "user.id": userId })
  }))
}
