/** Hostile requests (issue 8): each is a 4xx in the standard shape, answered at once, changing nothing. */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createEvent, MemoryServer, request, signUp, tokenOfMissingUser, uniqueEmail } from "../support/server.ts"

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString()

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code })
  expect(typeof response.body.message).toBe("string")
}

/** A hung request fails the test instead of the suite's timeout. */
const promptly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error("no answer within 5 s") }), Effect.orDie)

/** Nested arrays `depth` deep: `[[[...]]]`. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("content types (items 2, 3, 7)", () => {
    const login = JSON.stringify({ email: "a@example.com", password: "whatever" })
    const refused: ReadonlyArray<[string, string | null, string]> = [
      ["multipart without boundary", "multipart/form-data", "{}"],
      ["multipart with a boundary", "multipart/form-data; boundary=x", "{}"],
      ["multipart, empty body", "multipart/form-data", ""],
      ["multipart, empty body, boundary", "multipart/form-data; boundary=x", ""],
      [
        "a real multipart form",
        "multipart/form-data; boundary=x",
        "--x\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@example.com\r\n--x--\r\n"
      ],
      ["urlencoded", "application/x-www-form-urlencoded", "email=a%40example.com&password=whatever"],
      ["text/plain carrying JSON", "text/plain", login],
      ["text/plain naming json in a parameter", "text/plain; charset=application/json", login],
      ["a json-like subtype", "application/jsonx", login],
      ["no content type", null, login]
    ]
    for (const [name, contentType, body] of refused) {
      it.effect(`${name} → 415 UnsupportedMediaType, answered at once`, () =>
        Effect.gen(function*() {
          for (const path of ["/api/auth/login", "/api/auth/register"]) {
            const response = yield* promptly(request("POST", path, { body, contentType }))
            expectError(response, 415, "UnsupportedMediaType")
            expect(JSON.stringify(response.body)).not.toMatch(/\/tmp|\\temp|multipart/i)
          }
        }))
    }

    it.effect("every endpoint that takes a body refuses non-JSON; JSON with parameters or in capitals is fine", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const eventJson = JSON.stringify({ title: "T", date: future(3), location: "L", totalTickets: 5 })
        const calls: ReadonlyArray<["POST" | "PUT", string, string, string]> = [
          ["POST", "/api/events", organizer.token, eventJson],
          ["PUT", `/api/events/${event.id}`, organizer.token, JSON.stringify({ title: "New" })],
          ["POST", "/api/bookings", customer.token, JSON.stringify({ eventId: event.id, ticketsCount: 1 })]
        ]
        for (const [method, path, token, body] of calls) {
          for (const contentType of ["multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain"]) {
            expectError(yield* promptly(request(method, path, { token, body, contentType })), 415, "UnsupportedMediaType")
          }
        }
        const after = yield* request("GET", "/api/events")
        expect(after.body.find((e: any) => e.id === event.id)).toMatchObject({
          title: event.title,
          availableTickets: event.availableTickets
        })

        const email = uniqueEmail()
        const registered = yield* request("POST", "/api/auth/register", {
          body: JSON.stringify({ email, password: "securePass123", role: "CUSTOMER" }),
          contentType: "Application/JSON; charset=utf-8"
        })
        expect(registered.status).toBe(201)
      }))

    it.effect("the 415 is in the OpenAPI document's shared errors", () =>
      Effect.gen(function*() {
        const { body: spec } = yield* request("GET", "/api/openapi.json")
        expect(spec.paths["/api/auth/login"].post.responses["415"]).toBeDefined()
        expect(spec.components.schemas.UnsupportedMediaType.required).toEqual(expect.arrayContaining(["message", "status", "code"]))
      }))
  })

  describe("deep nesting (item 4)", () => {
    it.effect("JSON nested 3,000 deep (or 50,000) in a field is a 400 naming the field", () =>
      Effect.gen(function*() {
        for (const depth of [3_000, 50_000]) {
          const body = `{"email":${nested(depth)},"password":"x"}`
          const response = yield* promptly(request("POST", "/api/auth/login", { body }))
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain("email")
          expect(response.body.message.length).toBeLessThan(1000)
        }
        const deepObject = `{"title":${"{\"a\":".repeat(3000)}1${"}".repeat(3000)}}`
        const organizer = yield* signUp("ORGANIZER")
        const response = yield* promptly(request("POST", "/api/events", { token: organizer.token, body: deepObject }))
        expectError(response, 400, "ValidationError")
      }))

    it.effect("an unknown field nested deep is a 400 too", () =>
      Effect.gen(function*() {
        const body = `{"email":"a@example.com","password":"x","extra":${nested(3_000)}}`
        const response = yield* promptly(request("POST", "/api/auth/login", { body }))
        expectError(response, 400, "ValidationError")
        expect(response.body.message).toContain("extra")
      }))
  })

  describe("control characters (item 5)", () => {
    it.effect("a NUL or other control character in any text is a 400 naming the field; nothing is stored", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const valid = { title: "Valid", description: "Two\nlines\tand a tab", date: future(5), location: "Here", totalTickets: 10 }
        expect((yield* request("POST", "/api/events", { token: organizer.token, json: valid })).status).toBe(201)

        const bad = ["a\u0000b", "a\u0007b", "a\u001bb", "a\u007fb", "a\ud800b"]
        for (const text of bad) {
          for (const field of ["title", "description", "location"]) {
            const created = yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, [field]: text } })
            expectError(created, 400, "ValidationError")
            expect(created.body.message).toContain(field)
            const updated = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { [field]: text } })
            expectError(updated, 400, "ValidationError")
            expect(updated.body.message).toContain(field)
          }
          // Line breaks are for descriptions only.
        }
        for (const field of ["title", "location"]) {
          const response = yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, [field]: "a\nb" } })
          expectError(response, 400, "ValidationError")
        }
        for (const path of ["/api/auth/register", "/api/auth/login"]) {
          const response = yield* request("POST", path, {
            json: { email: "a\u0000b@example.com", password: "securePass123", role: "CUSTOMER" }
          })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain("email")
        }
        const listed = yield* request("GET", "/api/events")
        expect(listed.body.filter((e: any) => e.organizerId === organizer.user.id).map((e: any) => e.title).sort()).toEqual(
          [event.title, "Valid"].sort()
        )
      }))
  })

  describe("a valid token for a user that no longer exists (item 6)", () => {
    it.effect("publishing an event answers 401 Unauthorized and stores nothing", () =>
      Effect.gen(function*() {
        const token = yield* tokenOfMissingUser("ORGANIZER")
        const response = yield* request("POST", "/api/events", {
          token,
          json: { title: "Ghost", date: future(5), location: "Nowhere", totalTickets: 10 }
        })
        expectError(response, 401, "Unauthorized")
        const listed = yield* request("GET", "/api/events")
        expect(listed.body.filter((e: any) => e.title === "Ghost")).toEqual([])
      }))
  })

  describe("validation gaps (item 8)", () => {
    it.effect("a path id must be canonical decimal: no hex, exponent, sign, leading zero or space", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const n = event.id
        const spellings = [
          `0x${n.toString(16)}`,
          `${n}e0`,
          `+${n}`,
          `0${n}`,
          `%20%20${n}`,
          `${n}%20`,
          `${n}.0`,
          `%2B${n}`,
          `0b${n.toString(2)}`
        ]
        for (const id of [...spellings, "0", "-0", "1_0"]) {
          for (const method of ["PUT", "DELETE"] as const) {
            const response = yield* request(method, `/api/events/${id}`, {
              token: organizer.token,
              json: method === "PUT" ? { title: "Hijacked" } : undefined
            })
            expect({ id, method, status: response.status }).toEqual({ id, method, status: 400 })
          }
        }
        const listed = yield* request("GET", "/api/events")
        expect(listed.body.find((e: any) => e.id === n)).toMatchObject({ title: event.title, status: "PUBLISHED" })
      }))

    it.effect("limit and offset are canonical decimal too", () =>
      Effect.gen(function*() {
        for (const query of ["limit=0x1", "limit=1e1", "limit=+1", "limit=01", "offset=%201", "offset=1.0"]) {
          expectError(yield* request("GET", `/api/events?${query}`), 400, "ValidationError")
        }
        expect((yield* request("GET", "/api/events?limit=10&offset=0")).status).toBe(200)
      }))

    it.effect("impossible calendar dates and dates outside 2000–9999 are 400; valid offsets convert to UTC", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const base = { title: "Dates", location: "Here", totalTickets: 10 }
        for (
          const date of [
            "2031-02-30T10:00:00Z",
            "2031-02-29T10:00:00Z",
            "2032-04-31T10:00:00Z",
            "2031-13-01T10:00:00Z",
            "2031-00-10T10:00:00Z",
            "2031-01-00T10:00:00Z",
            "2031-01-01T24:00:00Z",
            "2031-01-01T10:60:00Z",
            "2031-01-01T10:00:60Z",
            "2031-01-01T10:00:00+24:00",
            "2031-01-01T10:00:00+05:60",
            "9999-12-31T23:59:59-23:59",
            "10000-01-01T00:00:00Z",
            "+010000-01-01T00:00:00Z"
          ]
        ) {
          const response = yield* request("POST", "/api/events", { token: organizer.token, json: { ...base, date } })
          expect({ date, status: response.status }).toEqual({ date, status: 400 })
          expect(response.body.message).toContain("date")
        }
        const leap = yield* request("POST", "/api/events", { token: organizer.token, json: { ...base, date: "2032-02-29T10:00:00+02:00" } })
        expect(leap.status).toBe(201)
        expect(leap.body.date).toBe("2032-02-29T08:00:00.000Z")
        const last = yield* request("POST", "/api/events", { token: organizer.token, json: { ...base, date: "9999-12-31T23:59:59Z" } })
        expect(last.status).toBe(201)
        expect(last.body.date).toBe("9999-12-31T23:59:59.000Z")
        const update = yield* request("PUT", `/api/events/${leap.body.id}`, {
          token: organizer.token,
          json: { date: "2031-02-30T10:00:00Z" }
        })
        expectError(update, 400, "ValidationError")
      }))
  })
})
