/**
 * The seam the booking and event flows write jobs to. Live, a job is an outbox row written in the
 * caller's transaction (delivered later by the relay and the workers); in tests, a list in memory.
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { Job } from "./Job.ts"
import { Outbox } from "./Outbox.ts"

export class JobQueue extends Context.Tag("JobQueue")<JobQueue, {
  /** Called inside the transaction of the change the jobs report: they commit with it, or not at all. */
  readonly enqueue: (...jobs: ReadonlyArray<Job>) => Effect.Effect<void>
}>() {
  static readonly layer = Layer.effect(
    JobQueue,
    Effect.map(Outbox, (outbox) => ({ enqueue: (...jobs) => jobs.length === 0 ? Effect.void : outbox.append(jobs) }))
  )

  /** Records jobs in memory; tests read them through `EnqueuedJobs`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<Job>>([]), (jobs) =>
      Context.make(JobQueue, { enqueue: (...added) => Ref.update(jobs, (all) => [...all, ...added]) }).pipe(
        Context.add(EnqueuedJobs, jobs)
      ))
  )
}

export class EnqueuedJobs extends Context.Tag("EnqueuedJobs")<EnqueuedJobs, Ref.Ref<ReadonlyArray<Job>>>() {}
