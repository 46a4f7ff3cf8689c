/** The real HTTP application on a test server, over in-memory or PostgreSQL persistence. */
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { SignJWT } from "jose"
import * as Client from "../../src/Client.ts"
import type { Role } from "../../src/Domain/Role.ts"
import { HttpLive } from "../../src/Http.ts"
import { CatalogueChanges } from "../../src/Inventory/CatalogueChanges.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { QueueHealth, type QueueHealthReport } from "../../src/Jobs/QueueHealth.ts"
import { PersistenceMemory, PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig, type AppSettings } from "../../src/Platform/Config.ts"
import { TestDatabaseLive } from "./database.ts"

/** What the queue-health view answers in the tiers that run no queue backend. */
export const stubQueueHealth: QueueHealthReport = {
  backend: { kind: "redis", reachable: true },
  queues: [{ name: "email-queue", waiting: 1, active: 0, delayed: 0, failed: 0, completed: 2 }],
  outbox: { pending: 0, oldestPendingSeconds: null }
}
const QueueHealthStub = Layer.succeed(QueueHealth, { report: Effect.succeed(stubQueueHealth) })

/** The HTTP app over `persistence` (repositories and rate-limit store) on a test server. */
export const serverOver = <ROut, E, R>(
  persistence: Layer.Layer<ROut | Layer.Layer.Success<typeof PersistenceSql>, E, R>,
  settings: Partial<AppSettings>
) =>
  HttpLive.pipe(
    Layer.provideMerge(Inventory.layer),
    Layer.provideMerge(CatalogueChanges.layer),
    Layer.provideMerge(persistence),
    Layer.provide(QueueHealthStub),
    Layer.provideMerge(JobQueue.layerMemory),
    Layer.provideMerge(AppConfig.layerTest(settings)),
    Layer.provideMerge(NodeHttpServer.layerTest),
    // Request logs would drown the test report; warnings and errors still show.
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

/** Server over in-memory repositories; tests also get HttpClient, AppConfig, EnqueuedJobs and the MemoryStore. */
export const MemoryServer = (settings: Partial<AppSettings> = {}) => serverOver(PersistenceMemory, settings)

/** Server over a fresh PostgreSQL database; tests also get SqlClient. */
export const PostgresServer = (settings: Partial<AppSettings> = {}) =>
  serverOver(PersistenceSql, settings).pipe(Layer.provideMerge(TestDatabaseLive))

/** The typed client (src/Client.ts) on the test server, optionally signed in with `token`. */
export const client = (token?: string) => Client.make({ token })

let counter = 0
/** A unique email for this test run. */
export const uniqueEmail = (prefix = "user") => `${prefix}-${process.pid}-${++counter}-${Date.now()}@example.com`

/** Registers a user with `role` and signs in: the token and the user. */
export const signUp = (role: Role, email = uniqueEmail(role.toLowerCase())) =>
  Effect.gen(function*() {
    const api = yield* client()
    const password = "correct horse battery"
    yield* api.auth.register({ payload: { email, password: Redacted.make(password), role } })
    const session = yield* api.auth.login({ payload: { email, password: Redacted.make(password) } })
    return { token: session.token, user: session.user, password }
  })

/** A token signed with the server's own key for a user id that does not exist (as after a database reset). */
export const tokenOfMissingUser = (role: Role, userId = 2_000_000_000) =>
  Effect.gen(function*() {
    const { jwt } = yield* AppConfig
    const now = Math.floor(Date.now() / 1000)
    return yield* Effect.promise(() =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(String(userId))
        .setIssuer(jwt.issuer)
        .setAudience(jwt.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(new TextEncoder().encode(Redacted.value(jwt.secret)))
    )
  })

/** An event starting `daysAhead` days from now, created by the organizer holding `token`. */
export const createEvent = (
  token: string,
  overrides: Partial<{
    title: string
    description: string
    location: string
    totalTickets: number
    daysAhead: number
    status: "DRAFT" | "PUBLISHED"
  }> = {}
) =>
  Effect.gen(function*() {
    const api = yield* client(token)
    return yield* api.events.create({
      payload: {
        title: overrides.title ?? "Tech Conf",
        description: overrides.description ?? "Annual meetup",
        date: new Date(Date.now() + (overrides.daysAhead ?? 30) * 86_400_000),
        location: overrides.location ?? "Convention Center",
        totalTickets: overrides.totalTickets ?? 100,
        ...(overrides.status === undefined ? {} : { status: overrides.status })
      }
    })
  })

/** A raw request, for what the typed client cannot send (bad JSON, unknown fields, odd headers...). */
export const request = (
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH",
  path: string,
  options: {
    readonly json?: unknown
    readonly body?: string
    /** The body's content type (default application/json); null sends none. */
    readonly contentType?: string | null
    readonly token?: string
    readonly headers?: Record<string, string>
  } = {}
) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    let req = HttpClientRequest.make(method)(path).pipe(HttpClientRequest.setHeaders(options.headers ?? {}))
    if (options.token !== undefined) req = HttpClientRequest.bearerToken(req, options.token)
    if (options.json !== undefined) req = yield* HttpClientRequest.bodyJson(req, options.json)
    if (options.body !== undefined) {
      const bytes = Buffer.from(options.body)
      const contentType = options.contentType === undefined ? "application/json" : options.contentType ?? undefined
      req = HttpClientRequest.setBody(req, HttpBody.raw(bytes, { contentType, contentLength: bytes.length }))
    }
    const response = yield* http.execute(req)
    const text = yield* response.text
    const json = (response.headers["content-type"] ?? "").includes("application/json")
    return {
      status: response.status,
      headers: response.headers,
      // Parsed when JSON; otherwise (CSV) the text as it came.
      body: text === "" ? undefined : json ? (JSON.parse(text) as any) : text,
      /** The body as sent. */
      text
    }
  }).pipe(Effect.scoped, Effect.orDie)
