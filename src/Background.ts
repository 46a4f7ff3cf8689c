/**
 * The background work of the application: the features' job handlers put together into the one
 * JobProcessor the workers call, the workers, and the hold sweep. Here, not in Jobs/, because it
 * knows the features; Jobs/ is machinery only.
 */
import { Effect, Layer } from "effect"
import { InventoryJobs } from "./Inventory/InventoryJobs.ts"
import { HoldSweepLive } from "./Inventory/Sweep.ts"
import type { Job } from "./Jobs.ts"
import { JobProcessor } from "./Jobs/JobProcessor.ts"
import { WorkersLive } from "./Jobs/Workers.ts"
import { Deliveries } from "./Notifications/Deliveries.ts"
import { Mailer } from "./Notifications/Mailer.ts"
import { NotificationJobs } from "./Notifications/NotificationJobs.ts"
import { traced } from "./Telemetry/Tracing.ts"
import { WebhookJobs } from "./Webhooks/WebhookJobs.ts"
import { WebhookSender } from "./Webhooks/WebhookSender.ts"

/**
 * Every job type to the feature that owns it. Needs the repositories, the Inventory engine, the
 * delivery log, a mailer and a webhook sender (tests give in-memory ones).
 */
export const JobProcessorLive = Layer.effect(
  JobProcessor,
  Effect.map(
    Effect.all([NotificationJobs, InventoryJobs, WebhookJobs]),
    ([notifications, inventory, webhooks]) => JobProcessor.fromHandlers<Job>({ ...notifications, ...inventory, ...webhooks })
  )
).pipe(
  traced(JobProcessor, {
    // The workers hand the processor only the catalogue's jobs (src/Jobs.ts).
    process: (jobId, anyJob) => {
      const job = anyJob as Job
      return {
        "job.id": jobId,
        "job.name": job._tag,
        ...("eventId" in job
          ? { "event.id": job.eventId }
          : "bookings" in job
          ? { "job.bookings": job.bookings.length }
          : "deliveryId" in job
          ? { "webhook.delivery_id": job.deliveryId }
          : { "webhook.id": job.endpointId })
      }
    }
  }),
  Layer.provide(Layer.mergeAll(NotificationJobs.layer, InventoryJobs.layer, WebhookJobs.layer))
)

/**
 * The workers and what they use, and the hold sweep. Needs JobsLive, the repositories, the
 * database and the Inventory engine (the process's one, which the API uses too).
 */
export const JobWorkersLive = Layer.mergeAll(WorkersLive.pipe(Layer.provide(JobProcessorLive)), HoldSweepLive).pipe(
  Layer.provide(Layer.mergeAll(Deliveries.layer, Mailer.layer, WebhookSender.layer))
)
