/**
 * How the job machinery fits together. Every process runs the outbox relay; the workers run in the
 * API process unless RUN_WORKERS=false, and in `npm run worker` processes (see src/Background.ts).
 */
import { Layer } from "effect"
import { JobQueue } from "./JobQueue.ts"
import { Outbox } from "./Outbox.ts"
import { QueueBackend } from "./QueueBackend.ts"
import { QueueHealth } from "./QueueHealth.ts"
import { RelayLive } from "./Relay.ts"

/** The outbox and the queues, with the relay between them. Needs the database, AppConfig and the JobCatalogue. */
export const JobsLive = Layer.mergeAll(JobQueue.layer, QueueHealth.layer, RelayLive).pipe(
  Layer.provideMerge(Layer.mergeAll(Outbox.layer, QueueBackend.layer))
)
