/**
 * The rate-limit counters on PostgreSQL and on Redis: the store itself, and two app instances
 * sharing one store (limits hold across instances, concurrent attempts included). With Redis
 * unreachable, sign-in still works (limits are skipped, not enforced by failing).
 */
import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Layer, Option, Redacted, Schedule } from "effect"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig, type AppSettings, type RateLimitSettings } from "../../src/Platform/Config.ts"
import { RateLimitStore } from "../../src/RateLimits/RateLimitStore.ts"
import { TestDatabaseLive } from "../support/database.ts"
import { fastJobs, redisPrefix, redisUrl } from "../support/jobs.ts"
import { request, serverOver, uniqueEmail } from "../support/server.ts"
import { startTcpProxy } from "../support/tcpProxy.ts"

const limits: RateLimitSettings = {
  ...AppConfig.make().rateLimits,
  accountFailures: 3,
  accountWindowSeconds: 60,
  addressAttempts: 5,
  addressWindowSeconds: 60,
  trustProxy: 1
}

const login = (email: string, from: string) =>
  request("POST", "/api/auth/login", { json: { email, password: "a wrong password" }, headers: { "x-forwarded-for": from } })

/** Checks the store's counting: hits in a window, release, and a new window after the last ended. */
const storeContract = Effect.gen(function*() {
  const store = yield* RateLimitStore
  const key = `contract:${uniqueEmail()}`
  const hits = []
  for (let i = 0; i < 3; i++) hits.push(yield* store.hit(key, 60_000))
  expect(hits.map((w) => w.hits)).toEqual([1, 2, 3])
  expect(hits.every((w) => w.resetMs > 0 && w.resetMs <= 60_000)).toBe(true)
  // The window is fixed: later hits do not push its end.
  expect(hits[2]!.resetMs).toBeLessThanOrEqual(hits[0]!.resetMs)

  yield* store.release(key)
  expect((yield* store.hit(key, 60_000)).hits).toBe(3)
  const other = `contract:${uniqueEmail()}`
  yield* store.release(other) // nothing to take back: no window, no negative count
  expect((yield* store.hit(other, 60_000)).hits).toBe(1)

  const short = `contract:${uniqueEmail()}`
  yield* store.hit(short, 300)
  yield* store.hit(short, 300)
  yield* Effect.sleep("700 millis") // well past its end
  const fresh = yield* store.hit(short, 300)
  expect(fresh.hits).toBe(1)
  yield* store.release(short)
  yield* Effect.sleep("700 millis")
  expect((yield* store.hit(short, 60_000)).hits).toBe(1)
})

type Instance = Effect.Effect.Success<ReturnType<typeof instanceOver>>

/** Limits hold across two instances `a` and `b` sharing one store. */
const sharedAcrossInstances = (a: Instance, b: Instance) =>
  Effect.gen(function*() {
    const on = (instance: Instance) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, instance)

    // Per account: 3 failures through a, then b refuses.
    const email = uniqueEmail("shared")
    for (let i = 0; i < 3; i++) expect((yield* on(a)(login(email, `198.51.100.${i + 1}`))).status).toBe(401)
    const refused = yield* on(b)(login(email, "198.51.100.9"))
    expect(refused.status).toBe(429)
    expect(refused.body).toMatchObject({ status: 429, code: "TooManyRequests" })
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0)

    // Per address: 5 attempts split over both, then either refuses.
    const address = "203.0.113.50"
    for (let i = 0; i < 5; i++) expect((yield* on(i % 2 === 0 ? a : b)(login(uniqueEmail("spray"), address))).status).toBe(401)
    expect((yield* on(a)(login(uniqueEmail("spray"), address))).status).toBe(429)
    expect((yield* on(b)(login(uniqueEmail("spray"), address))).status).toBe(429)

    // Concurrent guesses on one account through both instances: exactly 3 get to try.
    const target = uniqueEmail("burst")
    const statuses = yield* Effect.all(
      Array.from({ length: 12 }, (_, i) => on(i % 2 === 0 ? a : b)(login(target, `192.0.2.${i + 1}`)).pipe(Effect.map((r) => r.status))),
      { concurrency: "unbounded" }
    )
    expect(statuses.filter((s) => s === 401)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(9)
  })

const instanceOver = (database: Context.Context<SqlClient.SqlClient>, settings: Partial<AppSettings>) =>
  Layer.build(serverOver(PersistenceSql, settings).pipe(Layer.provide(Layer.succeedContext(database))))

describe("rate limits on PostgreSQL", () => {
  it.live("the store counts hits in a fixed window, takes them back, and starts a new window after the last", () =>
    storeContract.pipe(
      Effect.provide(RateLimitStore.layerSql.pipe(Layer.provide(TestDatabaseLive))),
      Effect.scoped
    ), 30_000)

  it.live("two app instances on one database share the limits", () =>
    Effect.gen(function*() {
      const database = yield* Layer.build(TestDatabaseLive)
      const a = yield* instanceOver(database, { rateLimits: limits })
      const b = yield* instanceOver(database, { rateLimits: limits })
      yield* sharedAcrossInstances(a, b)
    }).pipe(Effect.scoped), 60_000)
})

describe.skipIf(redisUrl === "")("rate limits on Redis", () => {
  it.live("the store counts hits in a fixed window, takes them back, and starts a new window after the last", () =>
    Effect.gen(function*() {
      const prefix = yield* redisPrefix
      yield* storeContract.pipe(Effect.provide(RateLimitStore.layerRedis(redisUrl, prefix)))
    }).pipe(Effect.scoped), 30_000)

  it.live("two app instances (each with its own database) on one Redis share the limits", () =>
    Effect.gen(function*() {
      const prefix = yield* redisPrefix
      const settings = { rateLimits: limits, jobs: fastJobs({ redisUrl: Option.some(Redacted.make(redisUrl)), prefix }) }
      const a = yield* instanceOver(yield* Layer.build(TestDatabaseLive), settings)
      const b = yield* instanceOver(yield* Layer.build(TestDatabaseLive), settings)
      yield* sharedAcrossInstances(a, b)
    }).pipe(Effect.scoped), 60_000)

  it.live(
    "Redis unreachable: sign-in still answers (401, 200) at once, without limits, and limits resume when it is back",
    () =>
      Effect.gen(function*() {
        const target = new URL(redisUrl)
        const proxy = yield* startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
        const prefix = yield* redisPrefix
        const app = yield* instanceOver(yield* Layer.build(TestDatabaseLive), {
          rateLimits: limits,
          jobs: fastJobs({ redisUrl: Option.some(Redacted.make(`redis://127.0.0.1:${proxy.port}`)), prefix })
        })
        const on = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, app)
        const email = uniqueEmail("outage")
        expect(
          (yield* on(request("POST", "/api/auth/register", { json: { email, password: "correct horse battery", role: "CUSTOMER" } })))
            .status
        ).toBe(201)

        yield* proxy.cut
        const statuses = []
        for (let i = 0; i < 5; i++) statuses.push((yield* on(login(email, "198.51.100.77"))).status)
        statuses.push((yield* on(request("POST", "/api/auth/login", { json: { email, password: "correct horse battery" } }))).status)
        expect(statuses).toEqual([401, 401, 401, 401, 401, 200])

        yield* proxy.restore
        // Redis reconnects on its own schedule: try fresh accounts until one is limited again.
        const after = yield* Effect.gen(function*() {
          const next = uniqueEmail("after")
          const statuses = []
          for (let i = 0; i < 4; i++) statuses.push((yield* on(login(next, `198.51.100.${100 + i}`))).status)
          return statuses
        }).pipe(
          Effect.filterOrFail((s) => s[3] === 429, (s) => new Error(`limits not back: ${s}`)),
          Effect.retry({ times: 30, schedule: Schedule.spaced("200 millis") }),
          Effect.orDie
        )
        expect(after).toEqual([401, 401, 401, 429])
      }).pipe(Effect.scoped),
    60_000
  )
})
