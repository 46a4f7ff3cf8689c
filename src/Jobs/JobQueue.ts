/**
 * Background work, described as typed jobs. This is the seam the booking and event flows write to;
 * the delivery (BullMQ with a transactional outbox) plugs in behind the same interface.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { BookingId, EventId, UserId } from "../Domain/Ids.ts"

export const BookingConfirmed = Schema.TaggedStruct("BookingConfirmed", {
  bookingId: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int
})

export const FieldChange = Schema.Struct({
  field: Schema.String,
  before: Schema.Unknown,
  after: Schema.Unknown
})

export const EventUpdated = Schema.TaggedStruct("EventUpdated", {
  eventId: EventId,
  changes: Schema.Array(FieldChange)
})

export const EventCancelled = Schema.TaggedStruct("EventCancelled", {
  eventId: EventId
})

export const Job = Schema.Union(BookingConfirmed, EventUpdated, EventCancelled)
export type Job = typeof Job.Type

export type QueueName = "email-queue" | "notification-queue"

export const queueOf = (job: Job): QueueName => job._tag === "BookingConfirmed" ? "email-queue" : "notification-queue"

export class JobQueue extends Context.Tag("JobQueue")<JobQueue, {
  /** Called inside the transaction of the change the job reports. */
  readonly enqueue: (job: Job) => Effect.Effect<void>
}>() {
  /** Until the queue backend exists: each job is logged, so the flows are visible when run. */
  static readonly layerLog = Layer.succeed(JobQueue, {
    enqueue: (job) => Effect.logInfo("job enqueued").pipe(Effect.annotateLogs({ queue: queueOf(job), job: job._tag }))
  })

  /** Records jobs in memory; tests read them through `EnqueuedJobs`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<Job>>([]), (jobs) =>
      Context.make(JobQueue, { enqueue: (job) => Ref.update(jobs, (all) => [...all, job]) }).pipe(
        Context.add(EnqueuedJobs, jobs)
      ))
  )
}

export class EnqueuedJobs extends Context.Tag("EnqueuedJobs")<EnqueuedJobs, Ref.Ref<ReadonlyArray<Job>>>() {}
