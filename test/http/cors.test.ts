/** CORS is off unless CORS_ORIGINS lists origins; then those origins, and only those, get access. */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { MemoryServer, request } from "../support/server.ts"

layer(MemoryServer({ CORS_ORIGINS: "https://app.example" }), { excludeTestServices: true })((it) => {
  describe("with CORS_ORIGINS set", () => {
    it.effect("a listed origin is allowed, preflight included; another origin is never echoed", () =>
      Effect.gen(function*() {
        const allowed = yield* request("GET", "/api/events", { headers: { origin: "https://app.example" } })
        expect(allowed.status).toBe(200)
        expect(allowed.headers["access-control-allow-origin"]).toBe("https://app.example")

        const preflight = yield* request("OPTIONS" as "GET", "/api/bookings", {
          headers: {
            origin: "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"
          }
        })
        expect(preflight.status).toBe(204)
        expect(preflight.headers["access-control-allow-origin"]).toBe("https://app.example")

        // Another origin is never echoed back (nor "*"), so browsers refuse it.
        const other = yield* request("GET", "/api/events", { headers: { origin: "https://evil.example" } })
        expect(other.headers["access-control-allow-origin"]).not.toBe("https://evil.example")
        expect(other.headers["access-control-allow-origin"]).not.toBe("*")
      }))
  })
})
