/**
 * Webhook endpoints on PostgreSQL: an organizer's limit of endpoints holds when creates arrive at
 * the same moment (the in-memory tier, test/http/webhooks.test.ts, covers the rest of the API).
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { lockWaiters, otherConnection } from "../support/locks.ts"
import { PostgresServer, request, signUp } from "../support/server.ts"

const make = (token: string) =>
  request("POST", "/api/webhooks", { token, json: { url: "https://receiver.example.com/hooks", events: ["booking.created"] } })

describe("webhook endpoints under concurrency (PostgreSQL)", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.scoped("6 creates at the same moment with 18 endpoints made: exactly 2 more, 4 × 409 TooManyWebhooks", () =>
      Effect.gen(function*() {
        const { token } = yield* signUp("ORGANIZER")
        for (let i = 0; i < 18; i++) expect((yield* make(token)).status).toBe(201)
        // The table is locked elsewhere until all 6 creates wait: then they go at once.
        const [locker, watcher] = [yield* otherConnection, yield* otherConnection]
        yield* Effect.promise(() => locker.query("BEGIN"))
        yield* Effect.promise(() => locker.query("LOCK TABLE webhook_endpoints IN SHARE MODE"))
        const creates = yield* Effect.fork(Effect.all(Array.from({ length: 6 }, () => make(token)), { concurrency: "unbounded" }))
        yield* lockWaiters(watcher, 6)
        yield* Effect.promise(() => locker.query("COMMIT"))
        const answers = yield* Fiber.join(creates)

        expect(answers.filter((answer) => answer.status === 201)).toHaveLength(2)
        const refused = answers.filter((answer) => answer.status !== 201)
        expect(refused.map((answer) => [answer.status, answer.body.code])).toEqual(Array(4).fill([409, "TooManyWebhooks"]))
        const list = yield* request("GET", "/api/webhooks", { token })
        expect(list.headers["x-total-count"]).toBe("20")
      }))
  })
})
