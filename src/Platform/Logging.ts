import { Cause, Effect, FiberRef, HashMap, Inspectable, Layer, List, Logger, LogLevel } from "effect"
import { globalValue } from "effect/GlobalValue"
import { isProduction } from "../Config.ts"

/**
 * Log lines are gathered and written to stdout once per turn of the event loop: under load one
 * write carries many lines, instead of a console call and a write per line.
 */
const pending: Array<string> = []
const flush = () => {
  if (pending.length === 0) return
  const chunk = pending.join("\n") + "\n"
  pending.length = 0
  process.stdout.write(chunk)
}
process.on("exit", flush)
const writeLine = (line: string) => {
  if (pending.push(line) === 1) setImmediate(flush)
}

type Fields = Record<string, unknown>

/** A log entry as a flat record: message, level, time, annotations, spans and cause. */
const fieldsOf = ({ annotations, cause, date, logLevel, message, spans }: Logger.Logger.Options<unknown>) => {
  const fields: Fields = {
    timestamp: date.toISOString(),
    level: logLevel.label,
    message: Array.isArray(message) && message.length === 1 ? message[0] : message
  }
  for (const [key, value] of HashMap.toEntries(annotations)) fields[key] = value
  for (const span of List.toArray(spans)) fields[`span.${span.label}`] = `${date.getTime() - span.startTime}ms`
  if (!Cause.isEmpty(cause)) fields.cause = Cause.pretty(cause, { renderErrorCause: true })
  return fields
}

/** JSON.stringify, falling back to Effect's cycle-safe (and slower) version when it throws. */
const json = (fields: Fields) => {
  try {
    return JSON.stringify(fields)
  } catch {
    return Inspectable.stringifyCircular(fields)
  }
}

const logfmt = (fields: Fields) =>
  Object.entries(fields)
    .map(([key, value]) => {
      const text = typeof value === "string" ? value : Inspectable.stringifyCircular(value)
      return `${key}=${/[\s="]/.test(text) ? JSON.stringify(text) : text}`
    })
    .join(" ")

/**
 * The format of this process's lines once LoggingLive is installed, and so the sign that a request's
 * line may skip Effect's logger (see logRequest); unset (tests), every line goes through the logger.
 */
const currentFormat = globalValue(
  Symbol.for("event-booking/Logging/currentFormat"),
  () => FiberRef.unsafeMake<((fields: Fields) => string) | undefined>(undefined)
)

/** JSON lines in production (for log shippers), readable `key=value` lines otherwise. */
export const LoggingLive = Layer.unwrapEffect(
  Effect.map(isProduction, (production) => {
    // Built by hand rather than with Logger.json/logFmt: a line costs a fraction as much.
    const format = production ? json : logfmt
    return Layer.merge(
      Logger.replace(Logger.defaultLogger, Logger.make((options) => writeLine(format(fieldsOf(options))))),
      Layer.locallyScoped(currentFormat, format)
    )
  })
)

/** What the line of an answered request says, besides its time and level. */
export interface RequestLine {
  readonly requestId: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
}

/**
 * Logs an answered request (message "request", at Info). With LoggingLive
 * the line is formatted straight from its fields: Effect's logger would first gather the fiber's
 * annotations, spans and loggers and build an entry, which cost more than a trivial request's
 * handler. The line is the one the logger would write (the request id being the only annotation at
 * the edge), except that it adds no event to a tracing span. Without LoggingLive it goes through
 * Effect's logger.
 */
export const logRequest = (line: RequestLine): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const format = fiber.getFiberRef(currentFormat)
    const { durationMs, method, path, requestId, status } = line
    if (format === undefined) return Effect.annotateLogs(Effect.logInfo("request"), { requestId, method, path, status, durationMs })
    if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Info)) return Effect.void
    writeLine(
      format({ timestamp: new Date().toISOString(), level: "INFO", message: "request", requestId, method, path, status, durationMs })
    )
    return Effect.void
  })
