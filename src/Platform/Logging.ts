import { HttpServerRequest } from "@effect/platform"
import { Cause, Context, Effect, type Fiber, FiberRef, FiberRefs, HashMap, Inspectable, Layer, List, Logger, LogLevel } from "effect"
import { isProduction } from "./Config.ts"

/**
 * Log lines are gathered and written to stdout at most every FLUSH_MS (and at exit, SIGTERM's
 * included): under load one write carries many lines, instead of a console call and a
 * write per line.
 */
const FLUSH_MS = 20
const pending: Array<string> = []
const flush = () => {
  if (pending.length === 0) return
  const chunk = pending.join("\n") + "\n"
  pending.length = 0
  process.stdout.write(chunk)
}
process.on("exit", flush)
const writeLine = (line: string) => {
  if (pending.push(line) === 1) setTimeout(flush, FLUSH_MS).unref()
}

type Fields = Record<string, unknown>

/**
 * The id of each request being answered, by its Node request (which the platform's copies of the
 * request share). Looked up when a line is logged, rather than set as a log annotation per request:
 * setting a FiberRef copies all of the fiber's FiberRefs.
 */
const requestIds = new WeakMap<object, string>()

/** From now on, lines logged by fibers serving `request` name `requestId` (with LoggingLive). */
export const nameRequest = (request: HttpServerRequest.HttpServerRequest, requestId: string) => {
  requestIds.set(request.source as object, requestId)
}

/** The id `nameRequest` gave `request` (the one its response's X-Request-Id carries), if any. */
export const requestIdOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => requestIds.get(request.source as object)

const requestIdIn = (context: FiberRefs.FiberRefs) => {
  const request = Context.getOrElse(
    FiberRefs.getOrDefault(context, FiberRef.currentContext),
    HttpServerRequest.HttpServerRequest,
    () => undefined
  )
  return request === undefined ? undefined : requestIdOf(request)
}

/** A log entry as a flat record: message, level, time, request id, annotations, spans and cause. */
const fieldsOf = ({ annotations, cause, context, date, logLevel, message, spans }: Logger.Logger.Options<unknown>) => {
  const fields: Fields = {
    timestamp: date.toISOString(),
    level: logLevel.label,
    message: Array.isArray(message) && message.length === 1 ? message[0] : message
  }
  const requestId = requestIdIn(context)
  if (requestId !== undefined) fields.requestId = requestId
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

/** What the line of an answered request says, besides its time and level. */
export interface RequestLine {
  readonly requestId: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
}

/**
 * How the edge logs an answered request (message "request", at Info) from the request's fiber:
 * through Effect's logger unless LoggingLive says otherwise.
 */
export class RequestLog extends Context.Reference<RequestLog>()("RequestLog", {
  defaultValue: () => (_fiber: Fiber.RuntimeFiber<unknown, unknown>, line: RequestLine): Effect.Effect<void> =>
    Effect.annotateLogs(Effect.logInfo("request"), { ...line })
}) {}

/**
 * With LoggingLive the request line is written straight from its fields: Effect's logger would
 * first gather the fiber's annotations, spans and loggers and build an entry, which cost more than
 * a trivial request's handler. It is the line the logger would write (there are no annotations at
 * the edge), except that it adds no event to a tracing span.
 */
const requestLineAs = (text: (line: RequestLine) => string) => (fiber: Fiber.RuntimeFiber<unknown, unknown>, line: RequestLine) => {
  if (LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Info)) return Effect.void
  writeLine(text(line))
  return Effect.void
}

// The time as ISO text, made once per millisecond: under load many lines share it.
let lastMs = -1
let lastIso = ""
const isoNow = () => {
  const now = Date.now()
  if (now !== lastMs) lastIso = new Date(lastMs = now).toISOString()
  return lastIso
}

/** The production request line, assembled as text: cheaper than `json` of its fields. */
const jsonRequestLine = ({ durationMs, method, path, requestId, status }: RequestLine) =>
  `{"timestamp":"${isoNow()}","level":"INFO","message":"request","requestId":${JSON.stringify(requestId)},"method":${
    JSON.stringify(method)
  },"path":${JSON.stringify(path)},"status":${status},"durationMs":${durationMs}}`

const logfmtRequestLine = ({ durationMs, method, path, requestId, status }: RequestLine) =>
  logfmt({ timestamp: isoNow(), level: "INFO", message: "request", requestId, method, path, status, durationMs })

/** JSON lines in production (for log shippers), readable `key=value` lines otherwise. */
export const LoggingLive = Layer.unwrapEffect(
  Effect.map(isProduction, (production) => {
    // Built by hand rather than with Logger.json/logFmt: a line costs a fraction as much.
    const format = production ? json : logfmt
    return Layer.merge(
      Logger.replace(Logger.defaultLogger, Logger.make((options) => writeLine(format(fieldsOf(options))))),
      Layer.succeed(RequestLog, requestLineAs(production ? jsonRequestLine : logfmtRequestLine))
    )
  })
)
