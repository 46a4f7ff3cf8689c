import { HttpApp, type HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Exit, Fiber, FiberId, FiberRef, FiberRefs, HashSet, Option } from "effect"
import { AppConfig } from "../Config.ts"
import { RequestTimeout } from "../Domain/Errors.ts"
import { errorResponseOf } from "./ErrorResponse.ts"

const deadlineFiberId = FiberId.runtime(-503, 0)

/**
 * Answers 503 RequestTimeout when the app has not answered within the deadline, interrupting its
 * work (so a request stuck on a lock or a dead dependency cannot hold its connection forever).
 *
 * The work runs in one child fiber watched by a plain timer: `Effect.timeoutTo` races two forked
 * fibers and a sleep, which cost about as much as a whole trivial request.
 */
export const requestDeadline = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(AppConfig, ({ server: { deadlineMs } }) =>
    Effect.flatMap(Effect.forkDaemon(app), (work) => {
      const timer = setTimeout(() => work.unsafeInterruptAsFork(deadlineFiberId), deadlineMs)
      return Fiber.await(work).pipe(
        Effect.onInterrupt(() => Fiber.interrupt(work)), // the client went away: so does the work
        Effect.ensuring(Effect.sync(() => clearTimeout(timer))),
        // The pre-response handlers the work added (CORS, rate-limit headers) apply to the answer. Only
        // that one FiberRef is copied back: joining all of them (Fiber.inheritAll) costs a diff per request.
        Effect.zipLeft(Effect.suspend(() => {
          const handlers = FiberRefs.getOrDefault(work.getFiberRefs(), HttpApp.currentPreResponseHandlers)
          return Option.isNone(handlers) ? Effect.void : FiberRef.set(HttpApp.currentPreResponseHandlers, handlers)
        })),
        Effect.flatMap((exit) =>
          Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) && HashSet.has(Cause.interruptors(exit.cause), deadlineFiberId)
            ? Effect.succeed(
              errorResponseOf(RequestTimeout, new RequestTimeout({ message: `The request was not answered within ${deadlineMs} ms` }))
            )
            : exit
        )
      )
    }))
