/**
 * Rate limits on POST /auth/login and /auth/register over HTTP, on in-memory layers: 429 with
 * Retry-After and the RateLimit headers, per account (failures only) and per client address.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { AppConfig, type RateLimitSettings } from "../../src/Platform/Config.ts"
import { MemoryServer, request, uniqueEmail } from "../support/server.ts"

const PASSWORD = "correct horse battery"

/** Small numbers; behind one trusted proxy, so X-Forwarded-For names the client. */
const limits = (overrides: Partial<RateLimitSettings> = {}): RateLimitSettings => ({
  ...AppConfig.make().rateLimits,
  accountFailures: 3,
  accountWindowSeconds: 60,
  addressAttempts: 8,
  addressWindowSeconds: 120,
  trustProxy: 1,
  ...overrides
})

let addresses = 0
/** A client address of its own for each use (documentation range 198.51.100.0/24, then 203.0.113.0/24). */
const anAddress = () => (++addresses < 255 ? `198.51.100.${addresses}` : `203.0.113.${addresses - 254}`)

const post = (path: "/api/auth/login" | "/api/auth/register", json: unknown, from: string) =>
  request("POST", path, { json, headers: { "x-forwarded-for": from } })
const login = (email: string, password: string, from: string) => post("/api/auth/login", { email, password }, from)
const register = (email: string, from: string) => post("/api/auth/register", { email, password: PASSWORD, role: "CUSTOMER" }, from)

const rateLimitHeaders = (response: { headers: Record<string, string> }) => ({
  limit: response.headers["ratelimit-limit"],
  remaining: response.headers["ratelimit-remaining"],
  reset: Number(response.headers["ratelimit-reset"]),
  retryAfter: response.headers["retry-after"] === undefined ? undefined : Number(response.headers["retry-after"])
})

const expectTooManyRequests = (response: { status: number; body: any; headers: Record<string, string> }, limit: number, window: number) => {
  expect(response.status).toBe(429)
  expect(response.body).toEqual({
    status: 429,
    code: "TooManyRequests",
    message: expect.stringMatching(/^Too many attempts; try again in \d+ seconds$/)
  })
  const headers = rateLimitHeaders(response)
  expect(headers).toMatchObject({ limit: String(limit), remaining: "0" })
  expect(headers.retryAfter).toBeGreaterThanOrEqual(1)
  expect(headers.retryAfter).toBeLessThanOrEqual(window)
  expect(headers.reset).toBe(headers.retryAfter)
}

/** A registered account (from an address of its own). */
const anAccount = Effect.gen(function*() {
  const email = uniqueEmail("limited")
  expect((yield* register(email, anAddress())).status).toBe(201)
  return email
})

layer(MemoryServer({ rateLimits: limits() }), { excludeTestServices: true })("login and register limits", (it) => {
  it.effect("after 3 failed logins on an account, the next one is a 429, even with the right password, from any address", () =>
    Effect.gen(function*() {
      const email = yield* anAccount
      const remaining: Array<string | undefined> = []
      for (let i = 0; i < 3; i++) {
        const response = yield* login(email, "a wrong password", anAddress())
        expect(response.status).toBe(401)
        remaining.push(response.headers["ratelimit-remaining"])
      }
      expect(remaining).toEqual(["2", "1", "0"])
      const refused = yield* login(email, PASSWORD, anAddress())
      expectTooManyRequests(refused, 3, 60)
      expect(refused.headers["ratelimit-policy"]).toBe("8;w=120, 3;w=60")
      // Refusals do not count: the account answers the same way, not later.
      const again = yield* login(email.toUpperCase(), PASSWORD, anAddress())
      expectTooManyRequests(again, 3, 60)
      expect(rateLimitHeaders(again).retryAfter).toBeLessThanOrEqual(rateLimitHeaders(refused).retryAfter!)
    }))

  it.effect("failed logins within the account limit: the right password from another address signs in, and success does not count", () =>
    Effect.gen(function*() {
      const email = yield* anAccount
      const attacker = anAddress()
      for (let i = 0; i < 2; i++) expect((yield* login(email, "a wrong password", attacker)).status).toBe(401)
      const owner = yield* login(email, PASSWORD, anAddress())
      expect(owner.status).toBe(200)
      expect(owner.body.user.email).toBe(email)
      expect(rateLimitHeaders(owner)).toMatchObject({ limit: "3", remaining: "1" })
      // Successes never use up the account's failures.
      for (let i = 0; i < 5; i++) expect((yield* login(email, PASSWORD, anAddress())).status).toBe(200)
      expect((yield* login(email, "a wrong password", attacker)).status).toBe(401)
      expectTooManyRequests(yield* login(email, PASSWORD, anAddress()), 3, 60)
    }))

  it.effect("an unknown email is limited like a real one (the 429 tells nothing about existence)", () =>
    Effect.gen(function*() {
      const email = uniqueEmail("nobody")
      for (let i = 0; i < 3; i++) expect((yield* login(email, "a wrong password", anAddress())).status).toBe(401)
      expectTooManyRequests(yield* login(email, "a wrong password", anAddress()), 3, 60)
    }))

  it.effect("one address: the 9th attempt is a 429 whatever the account; other addresses and accounts go on", () =>
    Effect.gen(function*() {
      const attacker = anAddress()
      const statuses: Array<number> = []
      for (let i = 0; i < 8; i++) statuses.push((yield* login(uniqueEmail("sprayed"), "a wrong password", attacker)).status)
      expect(statuses).toEqual(Array(8).fill(401))
      const refused = yield* login(uniqueEmail("sprayed"), "a wrong password", attacker)
      expectTooManyRequests(refused, 8, 120)
      // The account the attacker would try next is not touched by the refusal.
      const email = yield* anAccount
      expectTooManyRequests(yield* login(email, PASSWORD, attacker), 8, 120)
      expect((yield* login(email, PASSWORD, anAddress())).status).toBe(200)
    }))

  it.effect("register: a taken email counts as a failure; the 4th on it is a 429; one address gets 8 attempts", () =>
    Effect.gen(function*() {
      const email = yield* anAccount
      for (let i = 0; i < 3; i++) expect((yield* register(email, anAddress())).status).toBe(409)
      expectTooManyRequests(yield* register(email, anAddress()), 3, 60)

      const address = anAddress()
      for (let i = 0; i < 8; i++) expect((yield* register(uniqueEmail("new"), address)).status).toBe(201)
      expectTooManyRequests(yield* register(uniqueEmail("new"), address), 8, 120)
      // Each endpoint counts apart: this address can still sign in.
      expect((yield* login(email, PASSWORD, address)).status).toBe(200)
    }))

  it.effect("the OpenAPI document declares the 429 and the headers on both endpoints", () =>
    Effect.gen(function*() {
      const spec = (yield* request("GET", "/api/openapi.json")).body
      for (const path of ["/api/auth/login", "/api/auth/register"]) {
        const responses = spec.paths[path].post.responses
        expect(responses["429"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/TooManyRequests" })
        expect(Object.keys(responses["429"].headers).sort()).toEqual(
          ["RateLimit-Limit", "RateLimit-Policy", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"]
        )
      }
      expect(spec.components.schemas.TooManyRequests.properties.code).toEqual({ type: "string", enum: ["TooManyRequests"] })
    }))
})

layer(MemoryServer({ rateLimits: limits({ trustProxy: 0, addressAttempts: 3 }) }), { excludeTestServices: true })(
  "without TRUST_PROXY",
  (it) => {
    it.effect("X-Forwarded-For is ignored: the socket's address is the client", () =>
      Effect.gen(function*() {
        for (let i = 0; i < 3; i++) expect((yield* login(uniqueEmail("spoof"), "a wrong password", anAddress())).status).toBe(401)
        expectTooManyRequests(yield* login(uniqueEmail("spoof"), "a wrong password", anAddress()), 3, 120)
      }))
  }
)

// The server's fibers run on the TestClock here: windows end when the test moves the clock.
layer(MemoryServer({ rateLimits: limits() }))("when the window ends", (it) => {
  it.effect("an account refusing logins accepts the right password again, and an address its attempts", () =>
    Effect.gen(function*() {
      const email = yield* anAccount
      const attacker = anAddress()
      for (let i = 0; i < 3; i++) expect((yield* login(email, "a wrong password", attacker)).status).toBe(401)
      const refused = yield* login(email, PASSWORD, anAddress())
      expectTooManyRequests(refused, 3, 60)

      yield* TestClock.adjust(`${rateLimitHeaders(refused).retryAfter! - 1} seconds`)
      expect((yield* login(email, PASSWORD, anAddress())).status).toBe(429)
      yield* TestClock.adjust("1 second")
      expect((yield* login(email, PASSWORD, anAddress())).status).toBe(200)

      for (let i = 0; i < 5; i++) expect((yield* login(uniqueEmail("x"), "a wrong password", attacker)).status).toBe(401)
      expect((yield* login(uniqueEmail("x"), "a wrong password", attacker)).status).toBe(429)
      yield* TestClock.adjust("120 seconds")
      expect((yield* login(uniqueEmail("x"), "a wrong password", attacker)).status).toBe(401)
    }))
})
