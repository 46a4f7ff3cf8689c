/** The seed's contract over HTTP, on in-memory repositories: success paths, error shapes, RBAC. */
import { HttpClient } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Redacted, Ref } from "effect"
import { SignJWT, UnsecuredJWT } from "jose"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { confirmedBookings } from "../support/confirmations.ts"
import { client, createEvent, MemoryServer, request, signUp, uniqueEmail } from "../support/server.ts"

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString()

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code })
  expect(typeof response.body.message).toBe("string")
  expect(response.body.message.length).toBeGreaterThan(0)
}

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("auth", () => {
    it.effect("register answers 201 with the user and no secret; email is trimmed and lower-cased", () =>
      Effect.gen(function*() {
        const email = uniqueEmail("Mixed")
        const response = yield* request("POST", "/api/auth/register", {
          json: { email: `  ${email.toUpperCase()} `, password: "securePass123", role: "CUSTOMER" }
        })
        expect(response.status).toBe(201)
        expect(response.body).toEqual({
          message: "User registered successfully",
          user: { id: expect.any(Number), email: email.toLowerCase(), role: "CUSTOMER" }
        })
        expect(JSON.stringify(response.body)).not.toMatch(/securePass123|\$2[aby]\$/)
      }))

    it.effect("an email taken in any case is a 409", () =>
      Effect.gen(function*() {
        const email = uniqueEmail()
        const first = yield* request("POST", "/api/auth/register", { json: { email, password: "securePass123", role: "CUSTOMER" } })
        expect(first.status).toBe(201)
        const again = yield* request("POST", "/api/auth/register", {
          json: { email: email.toUpperCase(), password: "otherPass123", role: "ORGANIZER" }
        })
        expectError(again, 409, "EmailTaken")
      }))

    const invalidRegistrations: ReadonlyArray<[string, unknown, string]> = [
      ["a bad email", { email: "not-an-email", password: "securePass123", role: "CUSTOMER" }, "email"],
      ["a 7-byte password", { email: "a@b.io", password: "1234567", role: "CUSTOMER" }, "password"],
      ["a 73-byte password", { email: "a@b.io", password: "x".repeat(73), role: "CUSTOMER" }, "password"],
      ["25 three-byte characters (75 bytes)", { email: "a@b.io", password: "€".repeat(25), role: "CUSTOMER" }, "password"],
      ["an unknown role", { email: "a@b.io", password: "securePass123", role: "ADMIN" }, "role"],
      ["a missing password", { email: "a@b.io", role: "CUSTOMER" }, "password"],
      ["an unknown field", { email: "a@b.io", password: "securePass123", role: "CUSTOMER", isAdmin: true }, "isAdmin"],
      ["a number for email", { email: 42, password: "securePass123", role: "CUSTOMER" }, "email"]
    ]
    it.effect("register refuses bad input with a 400 naming the field", () =>
      Effect.gen(function*() {
        for (const [, json, field] of invalidRegistrations) {
          const response = yield* request("POST", "/api/auth/register", { json })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain(field)
        }
      }))

    it.effect("login answers with a token; wrong password and unknown email look the same", () =>
      Effect.gen(function*() {
        const customer = yield* signUp("CUSTOMER")
        const ok = yield* request("POST", "/api/auth/login", {
          json: { email: customer.user.email.toUpperCase(), password: customer.password }
        })
        expect(ok.status).toBe(200)
        expect(ok.body).toEqual({ token: expect.any(String), expiresAt: expect.any(String), user: customer.user })
        const wrongPassword = yield* request("POST", "/api/auth/login", {
          json: { email: customer.user.email, password: "wrong password" }
        })
        const unknownEmail = yield* request("POST", "/api/auth/login", { json: { email: uniqueEmail(), password: "wrong password" } })
        expectError(wrongPassword, 401, "InvalidCredentials")
        expect(unknownEmail).toMatchObject({ status: wrongPassword.status, body: wrongPassword.body })
      }))
  })

  describe("events", () => {
    it.effect("an organizer creates an event: 201 with the whole Event, strings trimmed", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const date = future(10)
        const response = yield* request("POST", "/api/events", {
          token: organizer.token,
          json: { title: "  Tech Conf  ", date, location: " Hall A ", totalTickets: 100 }
        })
        expect(response.status).toBe(201)
        expect(response.body).toEqual({
          id: expect.any(Number),
          title: "Tech Conf",
          description: "",
          date,
          location: "Hall A",
          totalTickets: 100,
          availableTickets: 100,
          organizerId: organizer.user.id,
          status: "PUBLISHED",
          salesStart: null,
          salesEnd: null,
          currency: "EUR",
          createdAt: expect.any(String),
          updatedAt: expect.any(String)
        })
      }))

    const invalidEvents: ReadonlyArray<[Record<string, unknown>, string]> = [
      [{ title: "" }, "title"],
      [{ title: "x".repeat(201) }, "title"],
      [{ description: "x".repeat(5001) }, "description"],
      [{ location: "   " }, "location"],
      [{ date: "2030-12-01" }, "date"],
      [{ date: "2030-12-01T10:00:00" }, "date"],
      [{ date: "2020-12-01T10:00:00Z" }, "date"],
      [{ totalTickets: 0 }, "totalTickets"],
      [{ totalTickets: 1_000_001 }, "totalTickets"],
      [{ totalTickets: 1.5 }, "totalTickets"],
      [{ totalTickets: "10" }, "totalTickets"],
      [{ availableTickets: 5 }, "availableTickets"]
    ]
    it.effect("create refuses each invalid field with a 400 naming it, and creates nothing", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const valid = { title: "Valid", date: future(5), location: "Here", totalTickets: 10 }
        for (const [change, field] of invalidEvents) {
          const response = yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, ...change } })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain(field)
        }
        const listed = yield* request("GET", "/api/events")
        expect(listed.body.filter((e: any) => e.organizerId === organizer.user.id)).toEqual([])
      }))

    it.effect("the listing is public, soonest first, and pages with limit/offset", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const late = yield* createEvent(organizer.token, { title: "late", daysAhead: 300 })
        const early = yield* createEvent(organizer.token, { title: "early", daysAhead: 200 })
        const listed = yield* request("GET", "/api/events")
        expect(listed.status).toBe(200)
        const ids = listed.body.map((e: any) => e.id)
        expect(ids.indexOf(early.id)).toBeLessThan(ids.indexOf(late.id))
        const dates = listed.body.map((e: any) => Date.parse(e.date))
        expect([...dates].sort((a, b) => a - b)).toEqual(dates)
        const page = yield* request("GET", "/api/events?limit=1&offset=1")
        expect(page.body).toEqual([listed.body[1]])
        expectError(yield* request("GET", "/api/events?limit=0"), 400, "ValidationError")
      }))

    it.effect("update is partial; totalTickets moves availableTickets; below sold is a 409", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        yield* (yield* client(customer.token)).bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 4 } })

        const moved = yield* request("PUT", `/api/events/${event.id}`, {
          token: organizer.token,
          json: { totalTickets: 20, location: "Hall B" }
        })
        expect(moved.status).toBe(200)
        expect(moved.body).toMatchObject({ totalTickets: 20, availableTickets: 16, location: "Hall B", title: event.title })

        const belowSold = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { totalTickets: 3 } })
        expectError(belowSold, 409, "TicketsAlreadySold")
        expect(belowSold.body.sold).toBe(4)

        for (
          const json of [{}, { availableTickets: 100 }, { organizerId: 1 }, { id: 1 }, { titel: "typo" }, { date: "2020-01-01T00:00:00Z" }]
        ) {
          expectError(yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json }), 400, "ValidationError")
        }
        expectError(yield* request("PUT", "/api/events/abc", { token: organizer.token, json: { title: "x" } }), 400, "ValidationError")
        expectError(
          yield* request("PUT", "/api/events/99999999999", { token: organizer.token, json: { title: "x" } }),
          400,
          "ValidationError"
        )
        expectError(yield* request("PUT", "/api/events/2147483647", { token: organizer.token, json: { title: "x" } }), 404, "EventNotFound")

        const unchanged = yield* request("GET", "/api/events")
        expect(unchanged.body.find((e: any) => e.id === event.id)).toMatchObject({ totalTickets: 20, availableTickets: 16 })
      }))

    it.effect("an update enqueues one EventUpdated listing exactly the changed fields", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token, { title: "Before" })
        yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "After", location: event.location } })
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "EventUpdated" && job.eventId === event.id)
        expect(jobs).toEqual([{
          _tag: "EventUpdated",
          eventId: event.id,
          event: { title: "After", date: event.date, location: event.location },
          changes: [{ field: "title", before: "Before", after: "After" }]
        }])
      }))

    it.effect("delete cancels: 204, gone from listings, no longer updatable or bookable, kept in bookings", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        yield* (yield* client(customer.token)).bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } })

        const deleted = yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })
        expect(deleted.status).toBe(204)
        expect(deleted.body).toBeUndefined()

        const listed = yield* request("GET", "/api/events?includePast=true")
        expect(listed.body.map((e: any) => e.id)).not.toContain(event.id)
        expectError(
          yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: "x" } }),
          404,
          "EventNotFound"
        )
        expectError(yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token }), 404, "EventNotFound")
        expectError(
          yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 } }),
          404,
          "EventNotFound"
        )
        const mine = yield* request("GET", "/api/bookings/my-bookings", { token: customer.token })
        expect(mine.body.find((b: any) => b.eventId === event.id).event.status).toBe("CANCELLED")
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "EventCancelled" && job.eventId === event.id)
        expect(jobs).toHaveLength(1)
      }))
  })

  describe("bookings", () => {
    it.effect("a booking answers 201 with its event and enqueues exactly one confirmation", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 5 })
        const response = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 2 } })
        expect(response.status).toBe(201)
        expect(response.body).toMatchObject({
          id: expect.any(Number),
          userId: customer.user.id,
          eventId: event.id,
          ticketsCount: 2,
          createdAt: expect.any(String),
          event: { id: event.id, title: event.title, availableTickets: 3, status: "PUBLISHED" }
        })
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "BookingsConfirmed")
        expect(confirmedBookings(jobs, event.id)).toEqual([{
          bookingId: response.body.id,
          userId: customer.user.id,
          eventId: event.id,
          ticketsCount: 2
        }])
      }))

    it.effect("refusals: not enough (says how many are left), sold out, unknown event, bad counts; no job for any", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 3 })
        const book = (json: unknown) => request("POST", "/api/bookings", { token: customer.token, json })

        const tooMany = yield* book({ eventId: event.id, ticketsCount: 4 })
        expectError(tooMany, 409, "NotEnoughTickets")
        expect(tooMany.body).toMatchObject({ available: 3, message: expect.stringContaining("3 tickets left") })
        expect((yield* book({ eventId: event.id, ticketsCount: 3 })).status).toBe(201)
        const soldOut = yield* book({ eventId: event.id, ticketsCount: 1 })
        expectError(soldOut, 409, "NotEnoughTickets")
        expect(soldOut.body).toMatchObject({ available: 0, message: expect.stringContaining("sold out") })

        expectError(yield* book({ eventId: 2147483647, ticketsCount: 1 }), 404, "EventNotFound")
        for (const ticketsCount of [0, -1, 1.5, 11, "2"]) {
          const response = yield* book({ eventId: event.id, ticketsCount })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain("ticketsCount")
        }
        expectError(yield* book({ eventId: event.id, ticketsCount: 1, seat: "A1" }), 400, "ValidationError")

        expect(confirmedBookings(yield* Ref.get(yield* EnqueuedJobs), event.id)).toHaveLength(1)
      }))

    it.effect("my-bookings lists only the caller's bookings, newest first", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const bob = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const annApi = yield* client(ann.token)
        const first = yield* annApi.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } })
        const second = yield* annApi.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 2 } })
        yield* (yield* client(bob.token)).bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } })

        const mine = yield* annApi.bookings.mine({ urlParams: {} })
        expect(mine.map((b) => b.id)).toEqual([second.id, first.id])
        expect(mine.every((b) => b.userId === ann.user.id && b.event.id === event.id)).toBe(true)
        expect(yield* (yield* client(organizer.token)).bookings.mine({ urlParams: {} })).toEqual([])
      }))
  })

  describe("access control", () => {
    type Caller =
      | "none"
      | "garbage"
      | "basic"
      | "expired"
      | "wrongKey"
      | "algNone"
      | "wrongIssuer"
      | "customer"
      | "otherOrganizer"
      | "owner"

    it.effect("every protected endpoint: bad tokens 401, wrong role or not the owner 403, the right caller succeeds", () =>
      Effect.gen(function*() {
        const { jwt } = yield* AppConfig
        const owner = yield* signUp("ORGANIZER")
        const otherOrganizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const now = Math.floor(Date.now() / 1000)
        const sign = (key: string, claims: { iss?: string; exp?: number } = {}) =>
          Effect.promise(() =>
            new SignJWT({ role: "ORGANIZER" })
              .setProtectedHeader({ alg: "HS256" })
              .setSubject(String(owner.user.id))
              .setIssuer(claims.iss ?? jwt.issuer)
              .setAudience(jwt.audience)
              .setIssuedAt(now - 7200)
              .setExpirationTime(claims.exp ?? now + 3600)
              .sign(new TextEncoder().encode(key))
          )
        const secret = Redacted.value(jwt.secret)
        const headers: Record<Caller, Record<string, string>> = {
          none: {},
          garbage: { authorization: "Bearer not.a.jwt" },
          basic: { authorization: "Basic b3JnOnB3" },
          expired: { authorization: `Bearer ${yield* sign(secret, { exp: now - 60 })}` },
          wrongKey: { authorization: `Bearer ${yield* sign("another-secret-of-at-least-32-characters")}` },
          algNone: {
            authorization: `Bearer ${
              new UnsecuredJWT({ role: "ORGANIZER" }).setSubject(String(owner.user.id)).setIssuer(jwt.issuer)
                .setAudience(jwt.audience).setIssuedAt().setExpirationTime("1h").encode()
            }`
          },
          wrongIssuer: { authorization: `Bearer ${yield* sign(secret, { iss: "someone-else" })}` },
          customer: { authorization: `Bearer ${customer.token}` },
          otherOrganizer: { authorization: `Bearer ${otherOrganizer.token}` },
          owner: { authorization: `Bearer ${owner.token}` }
        }
        const badTokens: ReadonlyArray<Caller> = ["none", "garbage", "basic", "expired", "wrongKey", "algNone", "wrongIssuer"]

        const eventBody = { title: "RBAC", date: future(9), location: "Here", totalTickets: 10 }
        const endpoints: ReadonlyArray<{
          name: string
          call: (caller: Caller, eventId: number) => ReturnType<typeof request>
          expected: Partial<Record<Caller, number>>
        }> = [
          {
            name: "create event",
            call: (c) => request("POST", "/api/events", { headers: headers[c], json: eventBody }),
            expected: { customer: 403, otherOrganizer: 201, owner: 201 }
          },
          {
            name: "update event",
            call: (c, id) => request("PUT", `/api/events/${id}`, { headers: headers[c], json: { title: "New" } }),
            expected: { customer: 403, otherOrganizer: 403, owner: 200 }
          },
          {
            name: "book",
            call: (c, id) => request("POST", "/api/bookings", { headers: headers[c], json: { eventId: id, ticketsCount: 1 } }),
            expected: { customer: 201, otherOrganizer: 403, owner: 403 }
          },
          {
            name: "my bookings",
            call: (c) => request("GET", "/api/bookings/my-bookings", { headers: headers[c] }),
            expected: { customer: 200, otherOrganizer: 200, owner: 200 }
          },
          {
            name: "delete event",
            call: (c, id) => request("DELETE", `/api/events/${id}`, { headers: headers[c] }),
            expected: { customer: 403, otherOrganizer: 403, owner: 204 }
          }
        ]

        for (const endpoint of endpoints) {
          const event = yield* createEvent(owner.token)
          for (const caller of [...badTokens, "customer", "otherOrganizer", "owner"] as const) {
            const response = yield* endpoint.call(caller, event.id)
            const expected = endpoint.expected[caller] ?? 401
            expect({ endpoint: endpoint.name, caller, status: response.status }).toEqual({
              endpoint: endpoint.name,
              caller,
              status: expected
            })
            if (expected === 401) expect(response.body.code).toBe("Unauthorized")
            if (expected === 403) expect(response.body.code).toBe("Forbidden")
          }
        }
      }))
  })

  describe("errors that are not the domain's", () => {
    it.effect("unknown routes, wrong methods, bad JSON and oversized bodies keep the error shape", () =>
      Effect.gen(function*() {
        expectError(yield* request("GET", "/api/nope"), 404, "RouteNotFound")
        expectError(yield* request("GET", "/nope"), 404, "RouteNotFound")
        const wrongMethod = yield* request("PATCH", "/api/events/1", { json: {} })
        expectError(wrongMethod, 405, "MethodNotAllowed")
        expect(wrongMethod.headers["allow"]).toBe("GET, PUT, DELETE")
        expectError(yield* request("POST", "/api/auth/login", { body: "{\"email\": \"a@b.io\"," }), 400, "InvalidJson")

        const email = uniqueEmail()
        const oversized = yield* request("POST", "/api/auth/register", {
          json: { email, password: "securePass123", role: "CUSTOMER", padding: "x".repeat(200 * 1024) }
        })
        expectError(oversized, 413, "PayloadTooLarge")
        // Nothing was created: the same email registers fine afterwards.
        expect((yield* request("POST", "/api/auth/register", { json: { email, password: "securePass123", role: "CUSTOMER" } })).status)
          .toBe(201)
      }))

    it.effect("every error body has exactly message, status and code (plus documented details)", () =>
      Effect.gen(function*() {
        const responses = [
          yield* request("GET", "/api/nope"),
          yield* request("POST", "/api/auth/login", { body: "{" }),
          yield* request("POST", "/api/auth/login", { json: { email: "x" } }),
          yield* request("GET", "/api/bookings/my-bookings")
        ]
        for (const response of responses) expect(Object.keys(response.body).sort()).toEqual(["code", "message", "status"])
      }))

    it.effect("security headers on success and error responses; a request id is echoed", () =>
      Effect.gen(function*() {
        for (const response of [yield* request("GET", "/api/health"), yield* request("GET", "/api/nope")]) {
          expect(response.headers["content-security-policy"]).toContain("default-src 'self'")
          expect(response.headers["strict-transport-security"]).toMatch(/max-age=\d+/)
          expect(response.headers["x-content-type-options"]).toBe("nosniff")
          expect(response.headers["x-frame-options"]).toBe("SAMEORIGIN")
          expect(response.headers["referrer-policy"]).toBe("no-referrer")
          expect(response.headers["cross-origin-opener-policy"]).toBe("same-origin")
          expect(response.headers["cross-origin-resource-policy"]).toBe("same-origin")
          expect(response.headers["x-powered-by"]).toBeUndefined()
          expect(response.headers["access-control-allow-origin"]).toBeUndefined()
          expect(response.headers["x-request-id"]).toMatch(/^[\w-]+$/)
        }
        const traced = yield* request("GET", "/api/health", { headers: { "x-request-id": "trace-123" } })
        expect(traced.headers["x-request-id"]).toBe("trace-123")
      }))
  })

  describe("health and documentation", () => {
    it.effect("liveness and readiness", () =>
      Effect.gen(function*() {
        const api = yield* client()
        expect(yield* api.health.live()).toEqual({ status: "ok" })
        expect(yield* api.health.ready()).toEqual({ status: "ready" })
      }))

    it.effect("the OpenAPI 3.1 document covers every endpoint with a summary, errors and bearer security", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        expect(spec.openapi).toBe("3.1.0")
        const operations: ReadonlyArray<[string, string, boolean]> = [
          ["/api/auth/register", "post", false],
          ["/api/auth/login", "post", false],
          ["/api/events", "get", false],
          ["/api/events", "post", true],
          ["/api/events/{id}", "put", true],
          ["/api/events/{id}", "delete", true],
          ["/api/bookings", "post", true],
          ["/api/bookings/my-bookings", "get", true],
          ["/api/auth/me", "get", true],
          ["/api/events/mine", "get", true],
          // Public, but a bearer token may be sent (and must then be valid).
          ["/api/events/{id}", "get", true],
          ["/api/events/{id}/publish", "post", true],
          ["/api/events/{id}/attendees", "get", true],
          ["/api/events/{id}/stats", "get", true],
          ["/api/events/{id}/audit", "get", true],
          ["/api/admin/audit", "get", true]
        ]
        for (const [path, method, secured] of operations) {
          const operation = spec.paths[path]?.[method]
          expect(operation?.summary, `${method} ${path}`).toBeTruthy()
          expect(operation.responses["400"]).toBeDefined()
          expect(operation.security?.length > 0).toBe(secured)
          if (secured) expect(operation.responses["401"]).toBeDefined()
        }
        expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" })
        expect(spec.components.schemas.NotEnoughTickets.required).toEqual(
          expect.arrayContaining(["message", "status", "code", "available"])
        )
        expect(JSON.stringify(spec)).not.toContain("HttpApiDecodeError")
      }))

    it.effect("the OpenAPI document lists every parameter with its type, bounds and a description; paged lists their headers", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        const parametersOf = (path: string, method: string): Record<string, any> =>
          Object.fromEntries(spec.paths[path][method].parameters.map((p: any) => [p.name, p]))
        for (const [path, operations] of Object.entries<Record<string, any>>(spec.paths)) {
          for (const [method, operation] of Object.entries<any>(operations)) {
            for (const parameter of operation.parameters ?? []) {
              const where = `${method} ${path} ${parameter.name}`
              expect(typeof parameter.schema?.type, where).toBe("string")
              expect(parameter.description, where).toBeTruthy()
              if (parameter.schema.type === "string" && parameter.schema.enum === undefined && parameter.schema.anyOf === undefined) {
                expect(parameter.schema.maxLength, where).toBeGreaterThan(0)
              }
              if (parameter.schema.type === "integer") {
                expect(parameter.schema, where).toMatchObject({ minimum: expect.any(Number), maximum: expect.any(Number) })
              }
            }
          }
        }
        const paging = {
          limit: { in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
          offset: { in: "query", required: false, schema: { type: "integer", minimum: 0, maximum: 1_000_000, default: 0 } }
        }
        expect(parametersOf("/api/events", "get")).toMatchObject({
          ...paging,
          q: { schema: { type: "string", maxLength: 200 } },
          location: { schema: { type: "string", maxLength: 200 } },
          from: { schema: { type: "string", anyOf: [{ format: "date" }, { format: "date-time" }] } },
          to: { schema: { type: "string", anyOf: [{ format: "date" }, { format: "date-time" }] } },
          available: { schema: { type: "boolean" } },
          includePast: { schema: { type: "boolean" } },
          sort: { schema: { type: "string", enum: ["date", "-date", "title", "-availableTickets"], default: "date" } }
        })
        expect(parametersOf("/api/events/mine", "get")).toMatchObject(paging)
        expect(parametersOf("/api/bookings/my-bookings", "get")).toMatchObject(paging)
        expect(parametersOf("/api/events/{id}/attendees", "get")).toMatchObject({
          ...paging,
          id: { in: "path", required: true, schema: { type: "integer", minimum: 1, maximum: 2_147_483_647 } },
          format: { schema: { type: "string", enum: ["json", "csv"] } }
        })
        for (const path of ["/api/events", "/api/events/mine", "/api/bookings/my-bookings", "/api/events/{id}/attendees"]) {
          expect(Object.keys(spec.paths[path].get.responses["200"].headers), path).toEqual(["X-Total-Count", "Link"])
        }
        expect(Object.keys(spec.paths["/api/events/{id}/attendees"].get.responses["200"].content)).toEqual(["application/json", "text/csv"])
        expect(spec.paths["/api/events/{id}"].get.security).toEqual([{}, { bearer: [] }])
        expect(spec.components.schemas.EventStatus.enum).toEqual(["DRAFT", "PUBLISHED", "CANCELLED"])
      }))

    it.effect("the docs page is self-contained: the document inline, no remote script", () =>
      Effect.gen(function*() {
        const response = yield* HttpClient.get("/docs")
        const html = yield* response.text
        expect(response.status).toBe(200)
        expect(response.headers["content-type"]).toContain("text/html")
        expect(html).toContain("Event Booking API")
        expect(html).not.toMatch(/<script[^>]+src="https?:/)
        expect(response.headers["content-security-policy"]).toContain("'unsafe-inline'")
      }).pipe(Effect.scoped))

    it.effect("GET / and GET /api point to the docs with a 302; other methods there are not routes", () =>
      Effect.gen(function*() {
        for (const path of ["/", "/api", "/api/"]) {
          const response = yield* request("GET", path)
          expect(response.status, path).toBe(302)
          expect(response.headers.location, path).toBe("/docs")
          expect(response.headers["x-content-type-options"], path).toBe("nosniff")
        }
        expectError(yield* request("POST", "/", { json: {} }), 404, "RouteNotFound")
        expectError(yield* request("DELETE", "/api"), 404, "RouteNotFound")
      }))
  })
})
