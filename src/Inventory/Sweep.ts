/**
 * The safety net under hold expiry. Each hold's expiry is a delayed job (Jobs: HoldExpiry); if that
 * job is lost (a queue flushed, a backend restored from an old copy), this sweep, every
 * HOLD_SWEEP_SECONDS, sends the events that have a due hold through their engine, which expires
 * them and offers their tickets to the waiting list. Several processes may sweep at once: a batch
 * expires only what is still open and due, under the event's row lock.
 */
import { Duration, Effect, Either, Layer, Schedule } from "effect"
import { AppConfig } from "../Platform/Config.ts"
import { Inventory } from "./Inventory.ts"
import { InventoryRepo } from "./InventoryRepo.ts"

/** Events refreshed per pass; more wait for the next one. */
const EVENTS_PER_PASS = 500

export const HoldSweepLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const { holds } = yield* AppConfig
    const repo = yield* InventoryRepo
    const inventory = yield* Inventory

    const pass = repo.eventsWithDueHolds(EVENTS_PER_PASS).pipe(
      Effect.flatMap((events) =>
        Effect.forEach(events, (eventId) => Effect.either(inventory.submit(eventId, { _tag: "Refresh" })), { concurrency: 4 }).pipe(
          Effect.tap((outcomes) =>
            events.length === 0 ? Effect.void : Effect.logInfo("hold sweep: expired due holds").pipe(
              Effect.annotateLogs({ events: events.length, failed: outcomes.filter(Either.isLeft).length })
            )
          )
        )
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("hold sweep failed; trying again next time", cause))
    )
    yield* pass.pipe(
      Effect.repeat(Schedule.spaced(Duration.seconds(holds.sweepIntervalSeconds))),
      Effect.forkScoped
    )
  })
)
