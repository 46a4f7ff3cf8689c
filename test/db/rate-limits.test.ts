/**
 * The rate-limit counters on PostgreSQL and on Redis: the store's contract on Redis (on PostgreSQL it
 * runs with the other stores' in repository-contract.test.ts), and two app instances sharing one
 * store (limits hold across instances, concurrent attempts included). With Redis unreachable,
 * sign-in still works (limits are skipped, not enforced by failing).
 */
import type { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Layer, Schedule } from "effect"
import { PersistenceSql } from "../../src/Persistence.ts"
import type { SettingsMap } from "../../src/Platform/Config.ts"
import { RateLimitStore } from "../../src/RateLimits/RateLimitStore.ts"
import { TestDatabaseLive } from "../support/database.ts"
import { fastJobs, queuesOnRedis, redisPrefix, redisUrl } from "../support/jobs.ts"
import { rateLimitStoreContract } from "../support/rateLimitStore.ts"
import { request, serverOver, uniqueEmail } from "../support/server.ts"
import { startTcpProxy } from "../support/tcpProxy.ts"

const limits: SettingsMap = {
  AUTH_RATE_LIMIT_ACCOUNT: 3,
  AUTH_RATE_LIMIT_ACCOUNT_WINDOW_SECONDS: 60,
  AUTH_RATE_LIMIT_ADDRESS: 5,
  AUTH_RATE_LIMIT_ADDRESS_WINDOW_SECONDS: 60,
  TRUST_PROXY: 1
}

const login = (email: string, from: string) =>
  request("POST", "/api/auth/login", { json: { email, password: "a wrong password" }, headers: { "x-forwarded-for": from } })

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

const instanceOver = (database: Context.Context<SqlClient.SqlClient>, settings: SettingsMap) =>
  Layer.build(serverOver(PersistenceSql, settings).pipe(Layer.provide(Layer.succeedContext(database))))

describe("rate limits on PostgreSQL", () => {
  it.live("two app instances on one database share the limits", () =>
    Effect.gen(function*() {
      const database = yield* Layer.build(TestDatabaseLive)
      const a = yield* instanceOver(database, limits)
      const b = yield* instanceOver(database, limits)
      yield* sharedAcrossInstances(a, b)
    }).pipe(Effect.scoped), 60_000)
})

describe.skipIf(redisUrl === "")("rate limits on Redis", () => {
  // The store's contract, as in memory and on PostgreSQL (repository-contract.test.ts).
  layer(Layer.unwrapScoped(Effect.map(redisPrefix, (prefix) => RateLimitStore.layerRedis(redisUrl, prefix))), {
    excludeTestServices: true
  })((it) => rateLimitStoreContract(it))

  it.live("two app instances (each with its own database) on one Redis share the limits", () =>
    Effect.gen(function*() {
      const prefix = yield* redisPrefix
      const settings = { ...limits, ...fastJobs, ...queuesOnRedis(prefix) }
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
          ...limits,
          ...fastJobs,
          ...queuesOnRedis(prefix, `redis://127.0.0.1:${proxy.port}`)
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
