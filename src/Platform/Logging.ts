import { Cause, Effect, HashMap, Inspectable, Layer, List, Logger } from "effect"
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

/** A log entry as a flat record: message, level, time, annotations, spans and cause. */
const fieldsOf = ({ annotations, cause, date, logLevel, message, spans }: Logger.Logger.Options<unknown>) => {
  const fields: Record<string, unknown> = {
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
const toJson = (fields: Record<string, unknown>) => {
  try {
    return JSON.stringify(fields)
  } catch {
    return Inspectable.stringifyCircular(fields)
  }
}

// Built by hand rather than with Logger.json/logFmt: a request's line costs a fraction as much.
const jsonLines = Logger.make((options) => writeLine(toJson(fieldsOf(options))))
const logfmtLines = Logger.make((options) =>
  writeLine(
    Object.entries(fieldsOf(options))
      .map(([key, value]) => {
        const text = typeof value === "string" ? value : Inspectable.stringifyCircular(value)
        return `${key}=${/[\s="]/.test(text) ? JSON.stringify(text) : text}`
      })
      .join(" ")
  )
)

/** JSON lines in production (for log shippers), readable `key=value` lines otherwise. */
export const LoggingLive = Layer.unwrapEffect(
  Effect.map(isProduction, (production) => Logger.replace(Logger.defaultLogger, production ? jsonLines : logfmtLines))
)
