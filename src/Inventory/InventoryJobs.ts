/** The Inventory feature's part of the job contract (Jobs/JobProcessor.ts): hold expiries. */
import { Context, Effect, Layer } from "effect"
import { type JobHandlers, JobNotReady } from "../Jobs/JobProcessor.ts"
import { Inventory } from "./Inventory.ts"
import type { HoldExpiry } from "./InventoryJobTypes.ts"

export class InventoryJobs extends Context.Tag("InventoryJobs")<InventoryJobs, JobHandlers<HoldExpiry>>() {
  static readonly layer = Layer.effect(
    InventoryJobs,
    Effect.map(Inventory, (inventory) => ({
      // The hold's time is up: its event's engine expires it (with any other due hold) in its line.
      HoldExpiry: (_jobId, job) =>
        inventory.submit(job.eventId, { _tag: "Expire", holdId: job.holdId }).pipe(
          Effect.catchAll((error) => Effect.fail(new JobNotReady({ message: error.message }))),
          Effect.flatMap((result) =>
            result === "not-due" ? Effect.fail(new JobNotReady({ message: `Hold ${job.holdId} is not due yet` })) : Effect.void
          )
        )
    }))
  )
}
