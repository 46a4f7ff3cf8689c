/**
 * `npm run example` (examples/booking-flow.ts, through src/Client.ts) against a real listening
 * server: it registers, signs in, publishes, books, is refused, lists, and can be run again.
 */
import { describe, expect, layer } from "@effect/vitest"
import { HttpServer } from "@effect/platform"
import { Effect } from "effect"
import { cleanUp, exited, npm } from "../support/process.ts"
import { MemoryServer } from "../support/server.ts"

const example = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.acquireUseRelease(
    Effect.sync(() => npm(["run", "--silent", "example", ...(args.length > 0 ? ["--", ...args] : [])], env)),
    (run) => Effect.promise(() => exited(run.process, 60_000)).pipe(Effect.map((code) => ({ code, output: run.output() }))),
    (run) => Effect.sync(() => cleanUp(run))
  )

const serverUrl = Effect.map(HttpServer.HttpServer, ({ address }) => {
  if (address._tag !== "TcpAddress") throw new Error("the test server listens on TCP")
  return `http://127.0.0.1:${address.port}`
})

layer(MemoryServer(), { excludeTestServices: true, timeout: 120_000 })((it) => {
  describe("npm run example", () => {
    it.effect("runs the whole flow through the typed client, twice in a row (URL as argument, then API_URL)", () =>
      Effect.gen(function*() {
        const url = yield* serverUrl
        for (const run of [example([url]), example([], { API_URL: url })]) {
          const { code, output } = yield* run
          expect(code, output).toBe(0)
          expect(output).toContain(`API at ${url}`)
          expect(output).toMatch(/organizer organizer-\w+@example\.com signed in/)
          expect(output).toMatch(/published event \d+ "Example Conf \w+"/)
          expect(output).toMatch(/ours is listed with 10 tickets available/)
          expect(output).toMatch(/booked 2 tickets \(booking \d+\); 8 left/)
          expect(output).toContain("asking for more was refused (NotEnoughTickets, 8 available)")
          expect(output).toMatch(/my bookings: 2 × "Example Conf \w+"/)
        }
      }), 120_000)

    it.effect("says plainly when no server answers, and fails", () =>
      Effect.gen(function*() {
        const { code, output } = yield* example(["http://127.0.0.1:1"])
        expect(code).toBe(1)
        expect(output).toContain("cannot reach the API at http://127.0.0.1:1 (is the server running? npm start)")
      }), 60_000)
  })
})
