/**
 * The BullMQ workers of `email-queue`, `notification-queue`, `holds-queue` and `webhook-queue`, as one scoped layer: each job is
 * decoded by the JobCatalogue and handed to the JobProcessor; closing the layer closes the workers.
 */
import { type Job as BullJob, UnrecoverableError } from "bullmq"
import { Cause, Effect, Exit, Layer, Option, ParseResult, Runtime } from "effect"
import { linkTo, withSpan } from "../Telemetry/Tracing.ts"
import { JobCatalogue } from "./JobCatalogue.ts"
import { JobCannotRun, JobProcessor } from "./JobProcessor.ts"
import { QueueBackend } from "./QueueBackend.ts"

export const WorkersLive = Layer.scopedDiscard(
  Effect.gen(function*() {
    const backend = yield* QueueBackend
    const processor = yield* JobProcessor
    const { decode: decodeJob } = yield* JobCatalogue
    const run = Runtime.runPromiseExit(yield* Effect.runtime<never>())

    const perform = (bullJob: BullJob) =>
      decodeJob(bullJob.data).pipe(
        Effect.mapError((error) =>
          new JobCannotRun({ message: `Malformed ${bullJob.name} job: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
        ),
        Effect.flatMap((job) => processor.process(bullJob.id!, job)),
        Effect.tap(() => Effect.logInfo("job done")),
        Effect.tapErrorCause((cause) => Effect.logWarning("job failed", cause)),
        Effect.annotateLogs({ queue: bullJob.queueName, job: bullJob.name, jobId: bullJob.id, attempt: bullJob.attemptsMade + 1 }),
        // A trace of its own, linked to the span of the request that committed the job.
        withSpan(`job ${bullJob.name}`, () => ({
          kind: "consumer",
          root: true,
          links: linkTo(bullJob.data?.traceparent),
          attributes: {
            "job.name": bullJob.name,
            "job.id": bullJob.id,
            "job.queue": bullJob.queueName,
            "job.attempt": bullJob.attemptsMade + 1
          }
        }))
      )

    // BullMQ retries a job whose handler rejects, unless the error is an UnrecoverableError.
    const handler = async (bullJob: BullJob) => {
      const exit = await run(perform(bullJob))
      if (Exit.isSuccess(exit)) return
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && failure.value._tag === "JobCannotRun") throw new UnrecoverableError(failure.value.message)
      throw new Error(Option.match(failure, { onSome: (error) => error.message, onNone: () => "unexpected failure (see the log)" }))
    }

    yield* backend.work("email-queue", handler, 5)
    yield* backend.work("notification-queue", handler, 2)
    yield* backend.work("holds-queue", handler, 5)
    // A webhook attempt mostly waits on its receiver (up to its timeout): more of them at once.
    yield* backend.work("webhook-queue", handler, 10)
  })
)
