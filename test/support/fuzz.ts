/**
 * Property-based fuzzing of the HTTP API: requests generated from the API's own schemas
 * (`Arbitrary.make`), then made hostile (wrong types, control characters, deep nesting, odd
 * content types, huge numbers, odd path ids, vanished accounts). Every answer must be below 500,
 * every error `{ message, status, code }` with `status` equal to the HTTP status, and a refused
 * request must change nothing.
 */
import { HttpServer } from "@effect/platform"
import { expect } from "@effect/vitest"
import { Arbitrary, Effect, FastCheck as fc, Runtime, Schema } from "effect"
import * as Http from "node:http"
import { Login, Register } from "../../src/Accounts/User.ts"
import { BookTickets, ChangeTickets } from "../../src/Domain/Booking.ts"
import { CreateEvent, ListEventsParams, UpdateEvent } from "../../src/Domain/Event.ts"
import { PlaceHold } from "../../src/Domain/Hold.ts"
import { JoinWaitlist } from "../../src/Domain/WaitlistEntry.ts"
import { createEvent, signUp, tokenOfMissingUser } from "./server.ts"

export type Caller = "none" | "garbage" | "organizer" | "otherOrganizer" | "customer" | "ghostOrganizer" | "ghostCustomer"

/** A generated request; `eventId` placeholders are resolved against the events that exist when it runs. */
export interface FuzzRequest {
  readonly method: string
  readonly path: string
  readonly caller: Caller
  readonly contentType: string | null
  readonly body: string | undefined
}

/** Stands for the id of an event that exists at the time of the request (the n-th, modulo their count). */
const EXISTING = "@@existing:"
/** Stands for JSON nested this deep (built as text: JSON.stringify would overflow). */
const DEEP = "@@deep:"

// Any UTF-16 code unit, lone surrogates included (`unit: "binary"` costs seconds of setup for its shrinker).
const anyChar = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code))

const existingId = fc.nat(1000).map((n) => `${EXISTING}${n}@@`)

// Values that have broken servers: wrong types, control characters, broken UTF-16, edge numbers, huge and deep values.
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    -0,
    0.5,
    1.5,
    1e21,
    1e308,
    -1e308,
    2 ** 31,
    2 ** 31 - 1,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "a\u0000b@example.com",
    "\u0007",
    "\u001b[31m",
    "\u007f",
    "\u0085",
    "\ud800",
    "a\udc00b",
    "\u202e",
    "\ufeff",
    "\u2028",
    "1e0",
    "0x1",
    "+1",
    "01",
    "NaN",
    "Infinity",
    "-Infinity",
    "null",
    "__proto__",
    "2031-02-30T10:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "+010000-01-01T00:00:00Z",
    "2030-12-01T24:00:00Z",
    "1999-12-31T23:59:59Z",
    "2030-12-01T10:00:00+24:00",
    "2030-12-01",
    "CUSTOMER ",
    "organizer",
    [],
    {},
    [1],
    { a: 1 },
    "x".repeat(300),
    "€".repeat(25),
    "x".repeat(6000)
  ),
  fc.string({ unit: anyChar, maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 5 }).map((s) => `a${s}b`),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => Number(n)),
  fc.integer({ min: 2, max: 5000 }).map((depth) => `${DEEP}${depth}@@`),
  existingId,
  fc.anything({ maxDepth: 3 })
)

/** Encoded, valid values of `schema`, from its Arbitrary. */
const validOf = <A, I>(schema: Schema.Schema<A, I, never>) =>
  Arbitrary.make(schema).map((value) => Schema.encodeSync(schema)(value) as Record<string, unknown>)

/** A payload: valid, a valid one with one field changed, added or dropped, or something else entirely. */
const payloadOf = <A, I>(schema: Schema.Schema<A, I, never>, fields: ReadonlyArray<string>) => {
  const valid = validOf(schema)
  const field = fc.oneof(
    fc.constantFrom(...fields),
    fc.constantFrom("extra", "__proto__", "constructor", "", "id", "organizerId", "availableTickets")
  )
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 5,
      arbitrary: fc.tuple(valid, field, hostileValue).map(([body, key, value]) => ({ ...body, [key]: value }))
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.constantFrom(...fields)).map(([body, key]) => {
        const { [key]: _, ...rest } = body
        return rest
      })
    },
    {
      weight: 1,
      arbitrary: fc.tuple(
        valid,
        fc.constantFrom(...fields),
        fc.string({ unit: fc.constantFrom("\u0000", "\u0001", "\n", "\t", "\ud800", "\u009f"), minLength: 1, maxLength: 3 })
      )
        .map(([body, key, bad]) => {
          const value = body[key]
          return { ...body, [key]: typeof value === "string" ? `${value.slice(0, 1)}${bad}${value.slice(1)}` : bad }
        })
    },
    { weight: 1, arbitrary: hostileValue }
  )
}

/** JSON text of a body, with placeholders for deep nesting; sometimes broken or empty. */
const bodyText = (payload: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 12, arbitrary: payload.map((value) => JSON.stringify(value) ?? "null") },
    {
      weight: 1,
      arbitrary: payload.chain((value) => {
        const text = JSON.stringify(value) ?? "null"
        return fc.nat(text.length).map((cut) => text.slice(0, cut))
      })
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("", " ", "{", "[", "{\"a\":}", "\u0000", "{}{}", "nul", "\"\\ud800\"", "{\"email\":\"\\u0000\"}")
    },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 50_000 }).map((depth) => `${DEEP}${depth}@@`) }
  )

const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant<string | null>("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom<string | null>(
      null,
      "multipart/form-data",
      "multipart/form-data; boundary=x",
      "application/x-www-form-urlencoded",
      "text/plain",
      "text/plain; charset=application/json",
      "application/json; charset=utf-16",
      "APPLICATION/JSON; charset=UTF-8",
      "application/json-patch+json",
      "application/jsonx",
      "application/json, text/plain",
      "*/*"
    )
  }
)

const pathId = fc.oneof(
  { weight: 4, arbitrary: existingId },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "0x1",
      "1e0",
      "+1",
      "01",
      "%20%201",
      "1%20",
      "-1",
      "0",
      "-0",
      "1.0",
      "abc",
      "99999999999",
      "2147483648",
      "2147483647",
      "%00",
      "1%00",
      "%ff",
      "%2e%2e",
      "1;2",
      "%E2%80%AE1",
      "１",
      "1_0",
      "%2B1",
      "0b1",
      "Infinity",
      "NaN"
    )
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 - 1 }).map(String) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 }).map(encodeURIComponent) }
)

const rowId = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 200 }).map(String) }, { weight: 1, arbitrary: pathId })

const eventFields = ["title", "description", "date", "location", "totalTickets", "salesStart", "salesEnd"] as const

const caller = fc.constantFrom<Caller>("none", "garbage", "organizer", "otherOrganizer", "customer", "ghostOrganizer", "ghostCustomer")

const query = fc.oneof(
  validOf(ListEventsParams).map((params) => new URLSearchParams(params as Record<string, string>).toString()),
  fc.dictionary(
    fc.constantFrom("limit", "offset", "includePast", "foo", "limit[]", "q", "from", "to", "location", "available", "sort", "format"),
    fc.oneof(
      fc.string({ unit: anyChar, maxLength: 8 }),
      fc.constantFrom(
        "1e1",
        "0x10",
        "+5",
        "01",
        " 5",
        "-1",
        "true",
        "TRUE",
        "1",
        "501",
        "101",
        "100",
        "%",
        "_",
        "\\",
        "-date",
        "title",
        "csv",
        "2030-12-01",
        "2031-02-30",
        "1999-12-31",
        "2030-12-01T10:00:00Z",
        "2030-12-01T10:00:00",
        "x".repeat(201)
      )
    ),
    { maxKeys: 4 }
  ).map((params) => new URLSearchParams(params).toString())
)

const withBody = (method: string, path: fc.Arbitrary<string>, payload: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzRequest> =>
  fc.record({ method: fc.constant(method), path, caller, contentType, body: bodyText(payload) })

const withoutBody = (method: string, path: fc.Arbitrary<string>): fc.Arbitrary<FuzzRequest> =>
  fc.record({ method: fc.constant(method), path, caller, contentType: fc.constant(null), body: fc.constant(undefined) })

/** Requests across every endpoint, plus unknown routes and wrong methods. */
export const fuzzRequests = (): fc.Arbitrary<FuzzRequest> =>
  fc.oneof(
    withBody("POST", fc.constant("/api/auth/register"), payloadOf(Register, ["email", "password", "role"])),
    withBody("POST", fc.constant("/api/auth/login"), payloadOf(Login, ["email", "password"])),
    withoutBody("GET", query.map((q) => `/api/events?${q}`)),
    withBody("POST", fc.constant("/api/events"), payloadOf(CreateEvent, [...eventFields])),
    withBody("PUT", pathId.map((id) => `/api/events/${id}`), payloadOf(UpdateEvent, [...eventFields])),
    withoutBody("DELETE", pathId.map((id) => `/api/events/${id}`)),
    withBody("POST", fc.constant("/api/bookings"), payloadOf(BookTickets, ["eventId", "ticketsCount"])),
    withoutBody("GET", query.map((q) => `/api/bookings/my-bookings?${q}`)),
    // Bookings and holds by a small id (the fuzz makes some), or an odd one.
    withoutBody("DELETE", rowId.map((id) => `/api/bookings/${id}`)),
    withBody("PATCH", rowId.map((id) => `/api/bookings/${id}`), payloadOf(ChangeTickets, ["ticketsCount"])),
    withBody("POST", fc.constant("/api/holds"), payloadOf(PlaceHold, ["eventId", "ticketsCount"])),
    withoutBody("GET", fc.constantFrom("/api/holds/mine", "/api/waitlist/mine")),
    withoutBody("POST", rowId.map((id) => `/api/holds/${id}/confirm`)),
    withoutBody("DELETE", rowId.map((id) => `/api/holds/${id}`)),
    withBody("POST", pathId.map((id) => `/api/events/${id}/waitlist`), payloadOf(JoinWaitlist, ["ticketsCount"])),
    withoutBody("DELETE", pathId.map((id) => `/api/events/${id}/waitlist`)),
    withoutBody("GET", fc.constant("/api/auth/me")),
    withoutBody("GET", query.map((q) => `/api/events/mine?${q}`)),
    withoutBody("GET", pathId.map((id) => `/api/events/${id}`)),
    withoutBody("POST", pathId.map((id) => `/api/events/${id}/publish`)),
    withoutBody("GET", fc.tuple(pathId, query).map(([id, q]) => `/api/events/${id}/attendees?${q}`)),
    withoutBody("GET", pathId.map((id) => `/api/events/${id}/stats`)),
    withoutBody("GET", fc.constantFrom("/api/health", "/api/health/ready", "/api/admin/queues")),
    withBody(
      "POST",
      fc.constantFrom("/api/nope", "/api/events/1", "/api/health", "/API/AUTH/LOGIN", "//api//auth//login/", "/api/auth/login/"),
      payloadOf(Login, ["email", "password"])
    ),
    withoutBody("PATCH", pathId.map((id) => `/api/events/${id}`))
  )

/**
 * Who the fuzz acts as: two organizers, a customer, tokens of accounts that no longer exist and a
 * garbage one; `events` events of the first organizer are created for them to act on.
 */
export const fuzzCast = (events: number) =>
  Effect.gen(function*() {
    const organizer = yield* signUp("ORGANIZER")
    const otherOrganizer = yield* signUp("ORGANIZER")
    const customer = yield* signUp("CUSTOMER")
    for (let i = 0; i < events; i++) {
      yield* createEvent(organizer.token, { totalTickets: 1 + (i % 4) * 5, daysAhead: 1 + i, status: i % 5 === 0 ? "DRAFT" : "PUBLISHED" })
    }
    return {
      garbage: "not.a.jwt",
      organizer: organizer.token,
      otherOrganizer: otherOrganizer.token,
      customer: customer.token,
      ghostOrganizer: yield* tokenOfMissingUser("ORGANIZER"),
      ghostCustomer: yield* tokenOfMissingUser("CUSTOMER")
    } satisfies FuzzContext["tokens"]
  })

export interface FuzzContext {
  readonly tokens: Record<Exclude<Caller, "none">, string>
  /** Ids of the events that exist now (resolves EXISTING placeholders). */
  readonly eventIds: Effect.Effect<ReadonlyArray<number>>
  /** Everything a request could change; equal values before and after mean nothing changed. */
  readonly snapshot: Effect.Effect<unknown>
}

const resolve = (text: string, ids: ReadonlyArray<number>) =>
  text
    .replace(/"?@@existing:(\d+)@@"?/g, (_, n) => String(ids.length === 0 ? 1 : ids[Number(n) % ids.length]))
    .replace(/"?@@deep:(\d+)@@"?/g, (_, depth) => "[".repeat(Number(depth)) + "]".repeat(Number(depth)))

interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly text: string
}

/**
 * Sends a request with plain node:http on a kept-alive connection: the fuzz measures the server,
 * so the client stays as thin as possible, and a refused body that was never read must not
 * confuse the next request on the same connection.
 */
const sender = (port: number) => {
  const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
  const send = (method: string, path: string, headers: Record<string, string>, body: Buffer | undefined) =>
    new Promise<Answer>((resolve, reject) => {
      const request = Http.request({ host: "127.0.0.1", port, method, path, headers, agent, timeout: 5_000 }, (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on(
          "end",
          () =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: response.headers["content-type"],
              text: Buffer.concat(chunks).toString()
            })
        )
        response.on("error", reject)
      })
      request.on("timeout", () => request.destroy(new Error(`no answer within 5 s: ${method} ${path}`)))
      request.on("error", reject)
      request.end(body)
    })
  return { send, close: () => agent.destroy() }
}

/** Sends one generated request and checks what the client sees. */
const check = (send: ReturnType<typeof sender>["send"], context: FuzzContext, generated: FuzzRequest) =>
  Effect.gen(function*() {
    const ids = yield* context.eventIds
    // As a browser would send it: non-ASCII percent-encoded.
    const path = resolve(generated.path, ids).replace(/[^\x21-\x7e]/gu, encodeURIComponent)
    const headers: Record<string, string> = {}
    if (generated.caller !== "none") headers.authorization = `Bearer ${context.tokens[generated.caller]}`
    const body = generated.body === undefined ? undefined : Buffer.from(resolve(generated.body, ids))
    if (body !== undefined) {
      headers["content-length"] = String(body.length)
      if (generated.contentType !== null) headers["content-type"] = generated.contentType
    }
    const before = yield* context.snapshot
    const response = yield* Effect.promise(() => send(generated.method, path, headers, body))
    const label = `${generated.method} ${path} (${generated.contentType}) ${(generated.body ?? "").slice(0, 200)} → ${response.status} ${
      response.text.slice(0, 300)
    }`
    expect(response.status, label).toBeLessThan(500)
    if (response.status >= 400) {
      expect(response.contentType, label).toContain("application/json")
      const body = JSON.parse(response.text)
      expect(body, label).toMatchObject({ status: response.status, code: expect.any(String), message: expect.any(String) })
      expect(
        Object.keys(body).filter((key) => !["message", "status", "code", "available", "sold", "limit", "remaining"].includes(key)),
        label
      ).toEqual([])
      expect(yield* context.snapshot, `data changed after a refused request: ${label}`).toEqual(before)
    }
  })

/** Runs `numRuns` generated requests one after another (fast-check shrinks a failure to a small one). */
export const fuzz = (context: FuzzContext, requests: fc.Arbitrary<FuzzRequest>, numRuns: number) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const { send } = yield* Effect.acquireRelease(Effect.sync(() => sender(port)), ({ close }) => Effect.sync(close))
    const run = Runtime.runPromise(yield* Effect.runtime<never>())
    yield* Effect.promise(() =>
      fc.assert(fc.asyncProperty(requests, (request) => run(check(send, context, request))), { numRuns, endOnFailure: false })
    )
  }).pipe(Effect.scoped)
