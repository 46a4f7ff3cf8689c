/**
 * The seam the booking and event flows write jobs to. Live, a job is an outbox row written in the
 * caller's transaction (delivered later by the relay and the workers); in tests, a list in memory.
 */
import { Context, Effect, Layer, Ref, type Tracer } from "effect"
import type { AnyJob } from "./JobCatalogue.ts"
import { Outbox } from "./Outbox.ts"

export class JobQueue extends Context.Tag("JobQueue")<JobQueue, {
  /**
   * Called inside the transaction of the change the jobs report: they commit with it, or not at all.
   * With tracing on, each job's span will link to the caller's current span.
   */
  readonly enqueue: (...jobs: ReadonlyArray<AnyJob>) => Effect.Effect<void>
  /** The same for jobs that report different requests (a booking batch): job i links to `spans[i]`. */
  readonly enqueueEach: (jobs: ReadonlyArray<AnyJob>, spans: ReadonlyArray<Tracer.AnySpan | undefined>) => Effect.Effect<void>
}>() {
  static readonly layer = Layer.effect(
    JobQueue,
    Effect.map(Outbox, (outbox) => ({
      enqueue: (...jobs) => jobs.length === 0 ? Effect.void : outbox.append(jobs),
      enqueueEach: (jobs, spans) => jobs.length === 0 ? Effect.void : outbox.append(jobs, spans)
    }))
  )

  /** Records jobs in memory; tests read them through `EnqueuedJobs`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<AnyJob>>([]), (jobs) =>
      Context.make(JobQueue, {
        enqueue: (...added) => Ref.update(jobs, (all) => [...all, ...added]),
        enqueueEach: (added) => Ref.update(jobs, (all) => [...all, ...added])
      }).pipe(
        Context.add(EnqueuedJobs, jobs)
      ))
  )
}

export class EnqueuedJobs extends Context.Tag("EnqueuedJobs")<EnqueuedJobs, Ref.Ref<ReadonlyArray<AnyJob>>>() {}
