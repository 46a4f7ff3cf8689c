import { HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Logger, LogLevel } from "effect"
import { vi } from "vitest"
import { LoggingLive, nameRequest, type RequestLine, RequestLog } from "../../src/Platform/Logging.ts"

/** The lines `effect` writes to stdout under LoggingLive with NODE_ENV=`env`, once they are flushed. */
const linesOf = <E>(env: string, effect: Effect.Effect<void, E>) =>
  Effect.gen(function*() {
    const written: Array<string> = []
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    yield* effect.pipe(
      Effect.provide(LoggingLive),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["NODE_ENV", env]]))),
      // Lines are written by a Node timer (Logging.ts's FLUSH_MS), not by the effect's clock.
      Effect.zipRight(Effect.sleep("100 millis")),
      Effect.ensuring(Effect.sync(() => spy.mockRestore()))
    )
    return written.join("").split("\n").filter((line) => line !== "")
  })

const logRequest = (line: RequestLine) => Effect.flatMap(RequestLog, (log) => Effect.withFiberRuntime((fiber) => log(fiber, line)))

const oddPath = "/api/events/\"quoted\"\\back\u0001\u2028é"
const line: RequestLine = { requestId: "req-1", method: "GET", path: oddPath, status: 200, durationMs: 3 }

describe("log lines", () => {
  it.live("in production a request's line is one JSON object with its fields, whatever its path holds", () =>
    Effect.gen(function*() {
      const [written, ...rest] = yield* linesOf("production", logRequest(line))
      expect(rest).toEqual([])
      const entry = JSON.parse(written!)
      expect(entry).toEqual({ timestamp: expect.any(String), level: "INFO", message: "request", ...line })
      expect(new Date(entry.timestamp).toISOString()).toBe(entry.timestamp)
    }))

  it.live("in development a request's line is key=value pairs, values with spaces, quotes or = quoted", () =>
    Effect.gen(function*() {
      const [written] = yield* linesOf("development", logRequest({ ...line, path: "/api/events?q=a b" }))
      expect(written).toMatch(
        /^timestamp=\S+ level=INFO message=request requestId=req-1 method=GET path="\/api\/events\?q=a b" status=200 durationMs=3$/
      )
    }))

  it.live("lines logged while a request is served name its request id; others do not", () =>
    Effect.gen(function*() {
      const request = HttpServerRequest.fromWeb(new Request("http://localhost/api/events"))
      nameRequest(request, "req-2")
      const written = yield* linesOf(
        "production",
        Effect.zipRight(
          Effect.logWarning("inside").pipe(Effect.provideService(HttpServerRequest.HttpServerRequest, request)),
          Effect.logWarning("outside")
        )
      )
      const entries = written.map((text) => JSON.parse(text))
      expect(entries).toMatchObject([{ message: "inside", requestId: "req-2", level: "WARN" }, { message: "outside" }])
      expect(entries[1]).not.toHaveProperty("requestId")
    }))

  it.live("a request's line is left out below the minimum log level, as any Info line", () =>
    Effect.gen(function*() {
      const written = yield* linesOf("production", logRequest(line).pipe(Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))))
      expect(written).toEqual([])
    }))
})
