/**
 * How the job pieces fit together. Every process runs the outbox relay; the workers run in the
 * API process unless RUN_WORKERS=false, and in `npm run worker` processes.
 */
import { Layer } from "effect"
import { HoldSweepLive } from "../Inventory/Sweep.ts"
import { Deliveries } from "./Deliveries.ts"
import { JobQueue } from "./JobQueue.ts"
import { Mailer } from "./Mailer.ts"
import { Outbox } from "./Outbox.ts"
import { JobProcessor } from "./Processors.ts"
import { QueueBackend } from "./QueueBackend.ts"
import { QueueHealth } from "./QueueHealth.ts"
import { RelayLive } from "./Relay.ts"
import { WorkersLive } from "./Workers.ts"

/** The outbox and the queues, with the relay between them. Needs the database and AppConfig. */
export const JobsLive = Layer.mergeAll(JobQueue.layer, QueueHealth.layer, RelayLive).pipe(
  Layer.provideMerge(Layer.mergeAll(Outbox.layer, QueueBackend.layer))
)

/**
 * The workers and what they use, and the hold sweep. Needs JobsLive, the repositories, the
 * database and the Inventory engine (the process's one, which the API uses too).
 */
export const JobWorkersLive = Layer.mergeAll(WorkersLive.pipe(Layer.provide(JobProcessor.layer)), HoldSweepLive).pipe(
  Layer.provide(Layer.mergeAll(Deliveries.layer, Mailer.layer))
)
