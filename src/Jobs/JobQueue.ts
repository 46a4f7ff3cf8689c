/**
 * The seam the booking and event flows write jobs to. Live, a job is an outbox row written in the
 * caller's transaction (delivered later by the relay and the workers); in tests, a list in memory.
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { Job } from "./Job.ts"
import { Outbox } from "./Outbox.ts"

export class JobQueue extends Context.Tag("JobQueue")<JobQueue, {
  /** Called inside the transaction of the change the job reports: the job commits with it, or not at all. */
  readonly enqueue: (job: Job) => Effect.Effect<void>
}>() {
  static readonly layer = Layer.effect(JobQueue, Effect.map(Outbox, (outbox) => ({ enqueue: outbox.append })))

  /** Records jobs in memory; tests read them through `EnqueuedJobs`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<Job>>([]), (jobs) =>
      Context.make(JobQueue, { enqueue: (job) => Ref.update(jobs, (all) => [...all, job]) }).pipe(
        Context.add(EnqueuedJobs, jobs)
      ))
  )
}

export class EnqueuedJobs extends Context.Tag("EnqueuedJobs")<EnqueuedJobs, Ref.Ref<ReadonlyArray<Job>>>() {}
