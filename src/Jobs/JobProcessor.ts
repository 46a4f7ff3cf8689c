/**
 * The contract between the job machinery and the features: the workers (Workers.ts) decode each
 * BullMQ job and call `JobProcessor.process`; what a job does is written by the feature that owns
 * it, as `JobHandlers` for its job types. The application (src/Background.ts) puts the features'
 * handlers together into the one `JobProcessor`, so the machinery knows no feature.
 */
import { Context, type Effect, Schema } from "effect"
import type { AnyJob } from "./JobCatalogue.ts"

/** A job that no retry can help (its booking or user is gone, its payload is malformed): it fails at once. */
export class JobCannotRun extends Schema.TaggedError<JobCannotRun>()("JobCannotRun", { message: Schema.String }) {}

/** A job that cannot run yet (a hold not due by the database's clock, a busy event): BullMQ retries it with backoff. */
export class JobNotReady extends Schema.TaggedError<JobNotReady>()("JobNotReady", { message: Schema.String }) {}

/** How a handler fails: `JobCannotRun` ends the job at once; anything else (`JobNotReady`, a mail error) is retried. */
export interface JobFailure {
  readonly _tag: string
  readonly message: string
}

/** Performs `job`; `jobId` (stable across retries) keys what it delivers. */
export type JobHandler<J extends AnyJob = AnyJob> = (jobId: string, job: J) => Effect.Effect<void, JobFailure>

/** What a feature implements: one handler for each of its job types (`Jobs`, a union of them). */
export type JobHandlers<Jobs extends AnyJob> = { readonly [K in Jobs["_tag"]]: JobHandler<Extract<Jobs, { readonly _tag: K }>> }

export class JobProcessor extends Context.Tag("JobProcessor")<JobProcessor, {
  readonly process: JobHandler
}>() {
  /**
   * The processor of handlers covering every job of `Jobs` (the application's: the type says so, a
   * job nobody handles does not compile). The workers hand it only jobs the catalogue decoded.
   */
  static readonly fromHandlers = <Jobs extends AnyJob>(handlers: JobHandlers<Jobs>) =>
    JobProcessor.of({
      process: (jobId, job) => (handlers[job._tag as Jobs["_tag"]] as unknown as JobHandler)(jobId, job)
    })
}
