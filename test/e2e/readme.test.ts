/**
 * The README's two walkthroughs against a real listening server, each twice in a row: the curl
 * flow of "Try it" as printed there, and `npm run example` (examples/booking-flow.ts, through
 * src/Client.ts).
 */
import { HttpServer } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { cleanUp, exited, npm, ROOT } from "../support/process.ts"
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

/** The shell block under "### Try it", as a reader would paste it. */
const curlFlow = () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("### Try it"))
  const start = section.indexOf("```bash\n") + "```bash\n".length
  return section.slice(start, section.indexOf("```", start))
}

const bash = (script: string) =>
  Effect.async<{ code: number; output: string }>((resume) => {
    const child = execFile("bash", ["-c", script], { timeout: 60_000 }, (error, stdout, stderr) =>
      resume(Effect.succeed({ code: error === null ? 0 : Number(error.code ?? 1), output: stdout + stderr })))
    return Effect.sync(() =>
      child.kill()
    )
  })

layer(MemoryServer(), { excludeTestServices: true, timeout: 120_000 })((it) => {
  describe("the README's curl flow", () => {
    it.effect("works as printed, and again when pasted a second time (no hard-coded ids)", () =>
      Effect.gen(function*() {
        const url = yield* serverUrl
        const script = curlFlow()
        expect(script).toContain("B=http://localhost:4000/api")
        const run = () => bash(`set -eu\n${script.replaceAll("http://localhost:4000", url)}`)

        const first = yield* run()
        expect(first.code, first.output).toBe(0)
        expect(first.output.match(/"User registered successfully"/g)).toHaveLength(2)

        const second = yield* run()
        expect(second.code, second.output).toBe(0)
        expect(second.output.match(/"code":"EmailTaken"/g)).toHaveLength(2)

        const bookedEvents = [first, second].map(({ output }) => {
          const booked = output.split("\n").find((line) => line.includes("\"ticketsCount\":2") && line.startsWith("{\"id\""))
          expect(booked, output).toBeDefined()
          return JSON.parse(booked!).eventId as number
        })
        expect(bookedEvents[1]).not.toBe(bookedEvents[0])
        for (const { output } of [first, second]) {
          expect(output).toContain("\"location\":\"Hall B\"")
          expect(output).toMatch(/HTTP\/1\.1 204/)
          expect(output).not.toMatch(/"status":(401|403|404|400)/)
        }
        // The second run's list holds both runs' bookings.
        expect(second.output).toMatch(/\[\{"id":\d+.*\},\{"id":\d+.*\}\]/)
      }), 120_000)
  })

  describe("npm run example", () => {
    it.effect(
      "runs the whole flow through the typed client (two ticket types, a check-in), twice in a row (URL as argument, then API_URL)",
      () =>
        Effect.gen(function*() {
          const url = yield* serverUrl
          for (const run of [example([url]), example([], { API_URL: url })]) {
            const { code, output } = yield* run
            expect(code, output).toBe(0)
            expect(output).toContain(`API at ${url}`)
            expect(output).toMatch(/organizer organizer-\w+@example\.com signed in/)
            expect(output).toMatch(/published event \d+ "Example Conf \w+"/)
            expect(output).toMatch(/ours is listed with 5 tickets available/)
            expect(output).toContain("ticket types: General admission 0 EUR (5 left), VIP 99 EUR (2 left)")
            expect(output).toMatch(/booked 2 tickets, 1 General admission \+ 1 VIP \(booking \d+\); 3 left/)
            expect(output).toContain("asking for more was refused (NotEnoughTickets, 3 available)")
            expect(output).toMatch(/my bookings: 2 × "Example Conf \w+"/)
            const ticketCode = "[0-9A-Z]{5}(?:-[0-9A-Z]{5}){3}"
            expect(output).toMatch(new RegExp(`my tickets: ${ticketCode} \\(General admission, VALID\\), ${ticketCode} \\(VIP, VALID\\)`))
            const [, checkedIn] = output.match(
              new RegExp(`checked in (${ticketCode}) \\(General admission\\) for customer-\\w+@example\\.com at `)
            )!
            expect(output).toContain(`scanned again: refused (AlreadyCheckedIn): Ticket ${checkedIn} was already checked in at `)
          }
        }),
      120_000
    )

    it.effect("says plainly when no server answers, and fails", () =>
      Effect.gen(function*() {
        const { code, output } = yield* example(["http://127.0.0.1:1"])
        expect(code).toBe(1)
        expect(output).toContain("cannot reach the API at http://127.0.0.1:1 (is the server running? npm start)")
      }), 60_000)
  })
})
