/**
 * Finding and running events over HTTP (issue 10): detail, search, paging, drafts, the organizer's
 * views and /auth/me. One suite, run on the in-memory repositories (test/http) and on PostgreSQL
 * (test/db), so both answer alike.
 */
import { describe, expect, type Vitest } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { randomBytes } from "node:crypto"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { client, createEvent, request, signUp, tokenOfMissingUser, uniqueEmail } from "./server.ts"

/** What the suite needs to do that the API refuses: dates in the past. */
export interface Backdoor {
  readonly setEventDate: (eventId: number, date: Date) => Effect.Effect<void, never, any>
  readonly setBookingTime: (bookingId: number, at: Date) => Effect.Effect<void, never, any>
}

const DAY = 86_400_000

/** A word no other test uses: scopes a search to one test's events. */
const tag = () => `t${randomBytes(5).toString("hex")}`

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
}

/** The Link header as rel → its target's query. */
const linksOf = (header: string | undefined): Record<string, Record<string, string>> =>
  Object.fromEntries(
    (header ?? "").split(", ").filter((part) => part !== "").map((part) => {
      const [, target, rel] = /^<([^>]*)>; rel="(\w+)"$/.exec(part)!
      const url = new URL(target!, "http://localhost")
      expect(url.pathname.startsWith("/api/")).toBe(true)
      return [rel!, Object.fromEntries(url.searchParams)]
    })
  )

const ids = (body: ReadonlyArray<{ readonly id: number }>) => body.map((item) => item.id)

/** A day as `from`/`to` take it: YYYY-MM-DD in UTC. */
const dayOf = (date: Date) => date.toISOString().slice(0, 10)

const book = (token: string, eventId: number, ticketsCount: number) =>
  request("POST", "/api/bookings", { token, json: { eventId, ticketsCount } })

export const discoverySuite = (it: Vitest.MethodsNonLive<any, true>, backdoor: Backdoor) => {
  describe("event detail", () => {
    it.effect("is public: the whole Event; a cancelled one answers 200 CANCELLED; unknown 404; a bad id 400", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const found = yield* request("GET", `/api/events/${event.id}`)
        expect(found.status).toBe(200)
        expect(found.body).toEqual({
          ...event,
          date: event.date.toISOString(),
          createdAt: event.createdAt.toISOString(),
          updatedAt: event.updatedAt.toISOString(),
          status: "PUBLISHED"
        })

        yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })
        const cancelled = yield* request("GET", `/api/events/${event.id}`)
        expect(cancelled.status).toBe(200)
        expect(cancelled.body).toMatchObject({ id: event.id, status: "CANCELLED" })

        expectError(yield* request("GET", "/api/events/2147483647"), 404, "EventNotFound")
        for (const id of ["abc", "0", "01", "2147483648"]) expectError(yield* request("GET", `/api/events/${id}`), 400, "ValidationError")
      }))

    it.effect("a draft is found only by its organizer; a token that is sent must be valid", () =>
      Effect.gen(function*() {
        const owner = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const draft = yield* createEvent(owner.token, { status: "DRAFT" })
        expect(draft.status).toBe("DRAFT")
        const path = `/api/events/${draft.id}`
        expectError(yield* request("GET", path), 404, "EventNotFound")
        expectError(yield* request("GET", path, { token: customer.token }), 404, "EventNotFound")
        expectError(yield* request("GET", path, { token: other.token }), 404, "EventNotFound")
        expect(yield* request("GET", path, { token: owner.token })).toMatchObject({ status: 200, body: { id: draft.id, status: "DRAFT" } })
        expectError(yield* request("GET", path, { headers: { authorization: "Bearer not.a.jwt" } }), 401, "Unauthorized")
        expectError(yield* request("GET", path, { headers: { authorization: "Basic b3JnOnB3" } }), 401, "Unauthorized")
      }))
  })

  describe("search", () => {
    it.effect("q: every word, ignoring case, anywhere in a word of the title, description or location", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const jazz = yield* createEvent(organizer.token, { title: `${t} Jazz Night`, location: "Blue Note Hall", daysAhead: 10 })
        const rock = yield* createEvent(organizer.token, { title: `${t} Rock`, description: "With JAZZ guests", daysAhead: 11 })
        const poetry = yield* createEvent(organizer.token, { title: `${t} Poetry`, location: "Jazzland Arena", daysAhead: 12 })
        const opera = yield* createEvent(organizer.token, { title: `${t} Opera`, daysAhead: 13 })
        const search = (q: string) => Effect.map(request("GET", `/api/events?q=${encodeURIComponent(q)}`), (r) => ids(r.body))

        expect(yield* search(`${t} jazz`)).toEqual([jazz.id, rock.id, poetry.id])
        expect(yield* search(`${t.toUpperCase()} JAZ night`)).toEqual([jazz.id])
        expect(yield* search(`${t} opera jazz`)).toEqual([])
        expect(yield* search(`  ${t}   `)).toEqual([jazz.id, rock.id, poetry.id, opera.id])
        // A word is not matched across the title and the location.
        expect(yield* search(`${t}blue`)).toEqual([])
      }))

    it.effect("the listing shows this server's changes at once: a new event, a booking, an edit, a cancellation", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const listed = Effect.map(request("GET", `/api/events?q=${t}`), (r) => r.body.map((e: any) => [e.title, e.availableTickets]))
        expect(yield* listed).toEqual([])
        const event = yield* createEvent(organizer.token, { title: `${t} Gala`, totalTickets: 10 })
        expect(yield* listed).toEqual([[`${t} Gala`, 10]])
        expect((yield* book(customer.token, event.id, 3)).status).toBe(201)
        expect(yield* listed).toEqual([[`${t} Gala`, 7]])
        const edit = yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { title: `${t} Gala Night` } })
        expect(edit.status).toBe(200)
        expect(yield* listed).toEqual([[`${t} Gala Night`, 7]])
        expect((yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })).status).toBe(204)
        expect(yield* listed).toEqual([])
      }))

    it.effect("LIKE wildcards and backslashes in q and location are plain characters", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const percent = yield* createEvent(organizer.token, { title: `${t} 100% Fun`, location: "Hall_1 \\ East" })
        yield* createEvent(organizer.token, { title: `${t} 1000 Fun`, location: "Hall11 East" })
        const search = (q: string, location?: string) =>
          Effect.map(
            request(
              "GET",
              `/api/events?q=${encodeURIComponent(q)}${location === undefined ? "" : `&location=${encodeURIComponent(location)}`}`
            ),
            (r) => ids(r.body)
          )
        expect(yield* search(`${t} 100%`)).toEqual([percent.id])
        expect(yield* search(`${t} %`)).toEqual([percent.id])
        expect(yield* search(`${t} \\`)).toEqual([percent.id])
        expect(yield* search(t, "hall_1")).toEqual([percent.id])
        expect(yield* search(t, "\\")).toEqual([percent.id])
        expect(yield* search(t, "_")).toEqual([percent.id])
      }))

    it.effect("location: a part of it, ignoring case", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const berlin = yield* createEvent(organizer.token, { title: t, location: "Berlin, Tempodrom", daysAhead: 5 })
        const bern = yield* createEvent(organizer.token, { title: t, location: "Bern Arena", daysAhead: 6 })
        const search = (location: string) =>
          Effect.map(request("GET", `/api/events?q=${t}&location=${encodeURIComponent(location)}`), (r) => ids(r.body))
        expect(yield* search("BER")).toEqual([berlin.id, bern.id])
        expect(yield* search("berlin")).toEqual([berlin.id])
        expect(yield* search("tempo")).toEqual([berlin.id])
        expect(yield* search("Paris")).toEqual([])
      }))

    it.effect("from and to bound the date: a day counts whole, a date-time exactly; from lifts the upcoming-only default", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const first = yield* createEvent(organizer.token, { title: t, daysAhead: 10 })
        const second = yield* createEvent(organizer.token, { title: t, daysAhead: 20 })
        const third = yield* createEvent(organizer.token, { title: t, daysAhead: 30 })
        const past = yield* createEvent(organizer.token, { title: t, daysAhead: 40 })
        yield* backdoor.setEventDate(past.id, new Date(Date.now() - 3 * DAY))
        const search = (query: string) => Effect.map(request("GET", `/api/events?q=${t}&${query}`), (r) => ids(r.body))

        expect(yield* search("")).toEqual([first.id, second.id, third.id])
        expect(yield* search(`from=${dayOf(second.date)}`)).toEqual([second.id, third.id])
        expect(yield* search(`to=${dayOf(second.date)}`)).toEqual([first.id, second.id])
        expect(yield* search(`from=${dayOf(second.date)}&to=${dayOf(second.date)}`)).toEqual([second.id])
        expect(yield* search(`to=${encodeURIComponent(second.date.toISOString())}`)).toEqual([first.id, second.id])
        expect(yield* search(`to=${encodeURIComponent(new Date(second.date.getTime() - 1).toISOString())}`)).toEqual([first.id])
        // The same instant, written with an offset.
        const shifted = new Date(second.date.getTime() + 2 * 3_600_000).toISOString().replace("Z", "+02:00")
        expect(yield* search(`from=${encodeURIComponent(shifted)}`)).toEqual([second.id, third.id])
        expect(yield* search("from=2000-01-01")).toEqual([past.id, first.id, second.id, third.id])
        expect(yield* search("includePast=true")).toEqual([past.id, first.id, second.id, third.id])
        expect(yield* search(`includePast=true&to=${dayOf(new Date())}`)).toEqual([past.id])
      }))

    it.effect("available=true leaves sold-out events out; available=false filters nothing", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const soldOut = yield* createEvent(organizer.token, { title: t, totalTickets: 2, daysAhead: 5 })
        const open = yield* createEvent(organizer.token, { title: t, totalTickets: 2, daysAhead: 6 })
        expect((yield* book(customer.token, soldOut.id, 2)).status).toBe(201)
        expect((yield* book(customer.token, open.id, 1)).status).toBe(201)
        const search = (query: string) => Effect.map(request("GET", `/api/events?q=${t}&${query}`), (r) => ids(r.body))
        expect(yield* search("available=true")).toEqual([open.id])
        expect(yield* search("available=false")).toEqual([soldOut.id, open.id])
      }))

    it.effect("sort: date, -date, title ignoring case, -availableTickets (ties by date)", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const banana = yield* createEvent(organizer.token, { title: `${t} banana`, totalTickets: 50, daysAhead: 3 })
        const apple = yield* createEvent(organizer.token, { title: `${t} Apple`, totalTickets: 10, daysAhead: 2 })
        const cherry = yield* createEvent(organizer.token, { title: `${t} cherry`, totalTickets: 50, daysAhead: 1 })
        const sorted = (sort: string) => Effect.map(request("GET", `/api/events?q=${t}&sort=${sort}`), (r) => ids(r.body))
        expect(yield* sorted("date")).toEqual([cherry.id, apple.id, banana.id])
        expect(yield* sorted("-date")).toEqual([banana.id, apple.id, cherry.id])
        expect(yield* sorted("title")).toEqual([apple.id, banana.id, cherry.id])
        expect(yield* sorted("-availableTickets")).toEqual([cherry.id, banana.id, apple.id])
      }))

    it.effect("filters combine", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const make = (title: string, location: string, daysAhead: number, totalTickets = 5) =>
          createEvent(organizer.token, { title: `${t} ${title}`, location, daysAhead, totalTickets })
        const hit = yield* make("Jazz Brunch", "Vienna Konzerthaus", 10)
        const laterHit = yield* make("Jazz Supper", "Vienna Jazzkeller", 12)
        yield* make("Jazz Brunch", "Graz Oper", 10) // other location
        yield* make("Rock Brunch", "Vienna Arena", 10) // other words
        yield* make("Jazz Brunch", "Vienna Stadthalle", 40) // too late
        const soldOut = yield* make("Jazz Lunch", "Vienna Porgy", 11, 1)
        expect((yield* book(customer.token, soldOut.id, 1)).status).toBe(201)

        const response = yield* request(
          "GET",
          `/api/events?q=${encodeURIComponent(`jazz ${t}`)}&location=vienna&from=${dayOf(new Date())}&to=${
            dayOf(new Date(Date.now() + 20 * DAY))
          }&available=true&sort=-date`
        )
        expect(ids(response.body)).toEqual([laterHit.id, hit.id])
        expect(response.headers["x-total-count"]).toBe("2")
      }))

    it.effect("drafts and cancelled events are never listed, not even to their organizer", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const listed = yield* createEvent(organizer.token, { title: t })
        yield* createEvent(organizer.token, { title: t, status: "DRAFT" })
        const cancelled = yield* createEvent(organizer.token, { title: t })
        yield* request("DELETE", `/api/events/${cancelled.id}`, { token: organizer.token })
        for (const query of [`q=${t}`, `q=${t}&includePast=true`, `q=${t}&from=2000-01-01&sort=title`]) {
          const response = yield* request("GET", `/api/events?${query}`, { token: organizer.token })
          expect(ids(response.body)).toEqual([listed.id])
          expect(response.headers["x-total-count"]).toBe("1")
        }
      }))

    const invalidQueries: ReadonlyArray<[string, string]> = [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["offset=-1", "offset"],
      ["offset=1000001", "offset"],
      ["sort=price", "sort"],
      ["sort=DATE", "sort"],
      ["available=yes", "available"],
      ["includePast=1", "includePast"],
      ["from=2031-02-30", "from"],
      ["from=1999-12-31", "from"],
      ["to=2030-12-01T10:00:00", "to"],
      ["to=tomorrow", "to"],
      ["from=2031-01-02&to=2031-01-01", "to"],
      [`q=${"x".repeat(201)}`, "q"],
      [`location=${"x".repeat(201)}`, "location"],
      ["q=a%00b", "q"]
    ]
    it.effect("bad query parameters are 400 naming the parameter", () =>
      Effect.gen(function*() {
        for (const [query, name] of invalidQueries) {
          const response = yield* request("GET", `/api/events?${query}`)
          expect({ query, status: response.status, code: response.body.code }).toEqual({ query, status: 400, code: "ValidationError" })
          expect(response.body.message).toContain(name)
        }
        expect((yield* request("GET", "/api/events?from=2031-01-01&to=2031-01-01")).status).toBe(200)
      }))
  })

  describe("paging", () => {
    it.effect("an empty list: [], X-Total-Count 0, first and last at offset 0, no prev or next", () =>
      Effect.gen(function*() {
        const response = yield* request("GET", `/api/events?q=${tag()}&limit=5`)
        expect(response.status).toBe(200)
        expect(response.body).toEqual([])
        expect(response.headers["x-total-count"]).toBe("0")
        const links = linksOf(response.headers["link"])
        expect(Object.keys(links).sort()).toEqual(["first", "last"])
        expect(links.first).toMatchObject({ limit: "5", offset: "0" })
        expect(links.last).toMatchObject({ limit: "5", offset: "0" })
      }))

    it.effect("an exact multiple: 6 events by 3 make two full pages; the second has prev, no next", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const all = []
        for (let i = 0; i < 6; i++) all.push((yield* createEvent(organizer.token, { title: t, daysAhead: 10 + i })).id)

        const first = yield* request("GET", `/api/events?q=${t}&limit=3`)
        expect(ids(first.body)).toEqual(all.slice(0, 3))
        expect(first.headers["x-total-count"]).toBe("6")
        const firstLinks = linksOf(first.headers["link"])
        expect(Object.keys(firstLinks).sort()).toEqual(["first", "last", "next"])
        expect(firstLinks.next).toEqual({ q: t, limit: "3", offset: "3" })
        expect(firstLinks.last).toEqual({ q: t, limit: "3", offset: "3" })

        const second = yield* request("GET", `/api/events?q=${t}&limit=3&offset=3`)
        expect(ids(second.body)).toEqual(all.slice(3))
        const secondLinks = linksOf(second.headers["link"])
        expect(Object.keys(secondLinks).sort()).toEqual(["first", "last", "prev"])
        expect(secondLinks.prev).toEqual({ q: t, limit: "3", offset: "0" })
      }))

    it.effect("the last page holds the rest; past the end is empty, with prev to the last page", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const all = []
        for (let i = 0; i < 7; i++) all.push((yield* createEvent(organizer.token, { title: t, daysAhead: 10 + i })).id)

        const last = yield* request("GET", `/api/events?q=${t}&limit=3&offset=6`)
        expect(ids(last.body)).toEqual([all[6]])
        expect(last.headers["x-total-count"]).toBe("7")
        const lastLinks = linksOf(last.headers["link"])
        expect(lastLinks.next).toBeUndefined()
        expect(lastLinks.prev).toMatchObject({ offset: "3" })
        expect(lastLinks.last).toMatchObject({ offset: "6" })

        const beyond = yield* request("GET", `/api/events?q=${t}&limit=3&offset=50`)
        expect(beyond.body).toEqual([])
        expect(beyond.headers["x-total-count"]).toBe("7")
        expect(linksOf(beyond.headers["link"]).prev).toMatchObject({ offset: "6" })

        // An offset between pages: prev steps back by limit.
        const between = yield* request("GET", `/api/events?q=${t}&limit=3&offset=2`)
        expect(ids(between.body)).toEqual(all.slice(2, 5))
        expect(linksOf(between.headers["link"])).toMatchObject({ prev: { offset: "0" }, next: { offset: "5" } })
      }))

    it.effect("limit is 20 unless given, at most 100; links keep the other parameters", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        for (let i = 0; i < 21; i++) yield* createEvent(organizer.token, { title: `${t} Show`, daysAhead: 10 + i })

        const page = yield* request("GET", `/api/events?q=${t}+show&sort=-date`)
        expect(page.body).toHaveLength(20)
        expect(page.headers["x-total-count"]).toBe("21")
        expect(linksOf(page.headers["link"]).next).toEqual({ q: `${t} show`, sort: "-date", limit: "20", offset: "20" })
        const all = yield* request("GET", `/api/events?q=${t}&limit=100`)
        expect(all.body).toHaveLength(21)
        const next = yield* request("GET", `/api/events?q=${encodeURIComponent(`${t} show`)}&sort=-date&limit=20&offset=20`)
        expect(ids(next.body)).toEqual([ids(all.body)[0]])
      }))

    it.effect("my-bookings pages the same way, newest first", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const made = []
        for (let i = 0; i < 5; i++) made.push((yield* book(customer.token, event.id, 1)).body.id)
        const newestFirst = [...made].reverse()

        const all = yield* request("GET", "/api/bookings/my-bookings", { token: customer.token })
        expect(ids(all.body)).toEqual(newestFirst)
        expect(all.headers["x-total-count"]).toBe("5")
        const page = yield* request("GET", "/api/bookings/my-bookings?limit=2&offset=2", { token: customer.token })
        expect(ids(page.body)).toEqual(newestFirst.slice(2, 4))
        expect(linksOf(page.headers["link"])).toEqual({
          first: { limit: "2", offset: "0" },
          prev: { limit: "2", offset: "0" },
          next: { limit: "2", offset: "4" },
          last: { limit: "2", offset: "4" }
        })
        const none = yield* request("GET", "/api/bookings/my-bookings", { token: organizer.token })
        expect(none).toMatchObject({ status: 200, body: [] })
        expect(none.headers["x-total-count"]).toBe("0")
        expectError(yield* request("GET", "/api/bookings/my-bookings?limit=101", { token: customer.token }), 400, "ValidationError")
      }))

    it.effect("the typed client reads the same page and headers", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token, { title: t })
        const [events, response] = yield* (yield* client()).events.list({ urlParams: { q: t, limit: 1 }, withResponse: true })
        expect(events.map((e) => e.id)).toEqual([event.id])
        expect(events[0]!.date).toBeInstanceOf(Date)
        expect(response.headers["x-total-count"]).toBe("1")
      }))
  })

  describe("drafts", () => {
    it.effect("a draft is not listed nor bookable until published; then it is both", () =>
      Effect.gen(function*() {
        const t = tag()
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const created = yield* request("POST", "/api/events", {
          token: organizer.token,
          json: { title: t, date: new Date(Date.now() + 10 * DAY).toISOString(), location: "Hall", totalTickets: 5, status: "DRAFT" }
        })
        expect(created).toMatchObject({ status: 201, body: { status: "DRAFT", availableTickets: 5 } })
        const id = created.body.id
        expect(ids((yield* request("GET", `/api/events?q=${t}`)).body)).toEqual([])
        expectError(yield* book(customer.token, id, 1), 404, "EventNotFound")
        // Nor holdable, nor waitlistable: there is no such event for customers.
        expectError(
          yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: id, ticketsCount: 1 } }),
          404,
          "EventNotFound"
        )
        expectError(
          yield* request("POST", `/api/events/${id}/waitlist`, { token: customer.token, json: { ticketsCount: 9 } }),
          404,
          "EventNotFound"
        )
        expect((yield* request("GET", `/api/events/${id}`, { token: organizer.token })).body.availableTickets).toBe(5)
        expect(ids((yield* request("GET", "/api/events/mine?limit=100", { token: organizer.token })).body)).toContain(id)

        const published = yield* request("POST", `/api/events/${id}/publish`, { token: organizer.token })
        expect(published).toMatchObject({ status: 200, body: { id, status: "PUBLISHED" } })
        expect(ids((yield* request("GET", `/api/events?q=${t}`)).body)).toEqual([id])
        expect((yield* request("GET", `/api/events/${id}`)).body.status).toBe("PUBLISHED")
        expect((yield* book(customer.token, id, 1)).status).toBe(201)
        expectError(yield* request("POST", `/api/events/${id}/publish`, { token: organizer.token }), 409, "EventNotDraft")
      }))

    it.effect("publish: 409 unless a draft still to come; 403 for another's event, 404 for another's draft or none", () =>
      Effect.gen(function*() {
        const owner = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const publish = (id: number, token?: string) => request("POST", `/api/events/${id}/publish`, token === undefined ? {} : { token })

        const published = yield* createEvent(owner.token)
        expectError(yield* publish(published.id, owner.token), 409, "EventNotDraft")
        const cancelled = yield* createEvent(owner.token, { status: "DRAFT" })
        yield* request("DELETE", `/api/events/${cancelled.id}`, { token: owner.token })
        expectError(yield* publish(cancelled.id, owner.token), 409, "EventNotDraft")
        const started = yield* createEvent(owner.token, { status: "DRAFT" })
        yield* backdoor.setEventDate(started.id, new Date(Date.now() - DAY))
        expectError(yield* publish(started.id, owner.token), 409, "EventAlreadyStarted")

        const draft = yield* createEvent(owner.token, { status: "DRAFT" })
        expectError(yield* publish(draft.id, other.token), 404, "EventNotFound")
        expectError(yield* publish(published.id, other.token), 403, "Forbidden")
        expectError(yield* publish(draft.id, customer.token), 403, "Forbidden")
        expectError(yield* publish(draft.id), 401, "Unauthorized")
        expectError(yield* publish(2_147_483_647, owner.token), 404, "EventNotFound")
        expect((yield* request("GET", `/api/events/${draft.id}`, { token: owner.token })).body.status).toBe("DRAFT")
      }))

    it.effect("another organizer's draft is 404 wherever its id is used", () =>
      Effect.gen(function*() {
        const owner = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const draft = yield* createEvent(owner.token, { status: "DRAFT" })
        const path = `/api/events/${draft.id}`
        const attempts = [
          request("GET", path, { token: other.token }),
          request("PUT", path, { token: other.token, json: { title: "Mine now" } }),
          request("DELETE", path, { token: other.token }),
          request("POST", `${path}/publish`, { token: other.token }),
          request("GET", `${path}/attendees`, { token: other.token }),
          request("GET", `${path}/attendees?format=csv`, { token: other.token }),
          request("GET", `${path}/stats`, { token: other.token }),
          book(customer.token, draft.id, 1)
        ]
        for (const attempt of attempts) expectError(yield* attempt, 404, "EventNotFound")
        expect(ids((yield* request("GET", "/api/events/mine", { token: other.token })).body)).not.toContain(draft.id)
        expect((yield* request("GET", path, { token: owner.token })).body).toMatchObject({ title: draft.title, status: "DRAFT" })
      }))

    it.effect("a draft's changes and cancellation notify nobody", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const draft = yield* createEvent(organizer.token, { status: "DRAFT" })
        const updated = yield* request("PUT", `/api/events/${draft.id}`, { token: organizer.token, json: { title: "Renamed" } })
        expect(updated).toMatchObject({ status: 200, body: { title: "Renamed", status: "DRAFT" } })
        expect((yield* request("DELETE", `/api/events/${draft.id}`, { token: organizer.token })).status).toBe(204)
        const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => "eventId" in job && job.eventId === draft.id)
        expect(jobs).toEqual([])
      }))

    it.effect("status at creation is DRAFT or PUBLISHED only", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const valid = { title: "x", date: new Date(Date.now() + DAY).toISOString(), location: "y", totalTickets: 1 }
        for (const status of ["CANCELLED", "draft", "", 1, null]) {
          const response = yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, status } })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toContain("status")
        }
        expect((yield* request("POST", "/api/events", { token: organizer.token, json: { ...valid, status: "PUBLISHED" } })).body.status)
          .toBe("PUBLISHED")
      }))
  })

  describe("organizer views", () => {
    it.effect("mine: the caller's events, drafts and cancelled included, soonest first, paged; organizers only", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const later = yield* createEvent(organizer.token, { daysAhead: 30 })
        const draft = yield* createEvent(organizer.token, { daysAhead: 20, status: "DRAFT" })
        const cancelled = yield* createEvent(organizer.token, { daysAhead: 10 })
        yield* request("DELETE", `/api/events/${cancelled.id}`, { token: organizer.token })
        yield* createEvent(other.token)

        const mine = yield* request("GET", "/api/events/mine", { token: organizer.token })
        expect(mine.body.map((e: any) => [e.id, e.status])).toEqual([
          [cancelled.id, "CANCELLED"],
          [draft.id, "DRAFT"],
          [later.id, "PUBLISHED"]
        ])
        expect(mine.headers["x-total-count"]).toBe("3")
        const page = yield* request("GET", "/api/events/mine?limit=2&offset=2", { token: organizer.token })
        expect(ids(page.body)).toEqual([later.id])
        expect(linksOf(page.headers["link"])).toEqual({
          first: { limit: "2", offset: "0" },
          prev: { limit: "2", offset: "0" },
          last: { limit: "2", offset: "2" }
        })
        expectError(yield* request("GET", "/api/events/mine", { token: customer.token }), 403, "Forbidden")
        expectError(yield* request("GET", "/api/events/mine"), 401, "Unauthorized")
        expectError(yield* request("GET", "/api/events/mine?limit=0", { token: organizer.token }), 400, "ValidationError")
      }))

    it.effect("attendees: one row per booking, oldest first, paged; its organizer only", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const bob = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const first = (yield* book(ann.token, event.id, 2)).body
        const second = (yield* book(bob.token, event.id, 1)).body
        const third = (yield* book(ann.token, event.id, 3)).body
        const path = `/api/events/${event.id}/attendees`

        const all = yield* request("GET", path, { token: organizer.token })
        expect(all.status).toBe(200)
        const [general] = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body
        const typed = (count: number) => [{ ticketTypeId: general.id, name: "General admission", count }]
        expect(all.body).toEqual([
          {
            bookingId: first.id,
            customerEmail: ann.user.email,
            ticketsCount: 2,
            status: "CONFIRMED",
            createdAt: first.createdAt,
            ticketTypes: typed(2)
          },
          {
            bookingId: second.id,
            customerEmail: bob.user.email,
            ticketsCount: 1,
            status: "CONFIRMED",
            createdAt: second.createdAt,
            ticketTypes: typed(1)
          },
          {
            bookingId: third.id,
            customerEmail: ann.user.email,
            ticketsCount: 3,
            status: "CONFIRMED",
            createdAt: third.createdAt,
            ticketTypes: typed(3)
          }
        ])
        expect(all.headers["x-total-count"]).toBe("3")
        const page = yield* request("GET", `${path}?limit=1&offset=1`, { token: organizer.token })
        expect(page.body.map((row: any) => row.bookingId)).toEqual([second.id])
        expect(linksOf(page.headers["link"])).toMatchObject({ prev: { offset: "0" }, next: { offset: "2" }, last: { offset: "2" } })

        expectError(yield* request("GET", path, { token: other.token }), 403, "Forbidden")
        expectError(yield* request("GET", `${path}?format=csv`, { token: other.token }), 403, "Forbidden")
        expectError(yield* request("GET", path, { token: ann.token }), 403, "Forbidden")
        expectError(yield* request("GET", path), 401, "Unauthorized")
        expectError(yield* request("GET", "/api/events/2147483647/attendees", { token: organizer.token }), 404, "EventNotFound")
        expectError(yield* request("GET", `${path}?format=xml`, { token: organizer.token }), 400, "ValidationError")

        const none = yield* createEvent(organizer.token)
        const empty = yield* request("GET", `/api/events/${none.id}/attendees`, { token: organizer.token })
        expect(empty).toMatchObject({ status: 200, body: [] })
        expect(empty.headers["x-total-count"]).toBe("0")
      }))

    it.effect("attendees as CSV (Accept: text/csv or ?format=csv): the whole list, every field quoted, formulas neutralized", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const unique = randomBytes(3).toString("hex")
        const quoted = yield* signUp("CUSTOMER", `"smith,john"${unique}@example.com`)
        const formula = yield* signUp("CUSTOMER", `=cmd${unique}@example.com`)
        const plus = yield* signUp("CUSTOMER", `+sum${unique}@example.com`)
        const minus = yield* signUp("CUSTOMER", `-2${unique}@example.com`)
        const plain = yield* signUp("CUSTOMER")
        for (const customer of [quoted, formula, plus, minus]) expect((yield* book(customer.token, event.id, 2)).status).toBe(201)
        // More than one JSON page: the export is the whole list.
        for (let i = 0; i < 21; i++) expect((yield* book(plain.token, event.id, 1)).status).toBe(201)
        const rows = (yield* request("GET", `/api/events/${event.id}/attendees?limit=100`, { token: organizer.token })).body
        expect(rows).toHaveLength(25)

        // Every field quoted, its quotes doubled; a formula's start defused with a leading apostrophe.
        const quote = (field: string | number) => {
          const text = String(field)
          return `"${(/^[=+-]/.test(text) && typeof field === "string" ? `'${text}` : text).replaceAll("\"", "\"\"")}"`
        }
        const record = (fields: ReadonlyArray<string | number>) => fields.map(quote).join(",") + "\r\n"
        const expected = record(["bookingId", "customerEmail", "ticketsCount", "status", "createdAt", "ticketTypes"]) +
          rows.map((row: any) =>
            record([
              row.bookingId,
              row.customerEmail,
              row.ticketsCount,
              "CONFIRMED",
              row.createdAt,
              `${row.ticketsCount} x General admission`
            ])
          ).join("")
        expect(expected).toContain(`,"""smith,john""${unique}@example.com",`)
        expect(expected).toContain(`,"'=cmd${unique}@example.com",`)
        expect(expected).toContain(`,"'+sum${unique}@example.com",`)
        expect(expected).toContain(`,"'-2${unique}@example.com",`)

        for (
          const options of [{ headers: { accept: "text/csv" } }, { headers: { accept: "application/json;q=0.5, text/csv" } }, {
            query: "format=csv"
          }]
        ) {
          const path = `/api/events/${event.id}/attendees${"query" in options ? `?${options.query}` : ""}`
          const response = yield* request("GET", path, { token: organizer.token, headers: "headers" in options ? options.headers : {} })
          expect(response.status).toBe(200)
          expect(response.headers["content-type"]).toBe("text/csv; charset=utf-8")
          expect(response.headers["content-disposition"]).toBe(`attachment; filename="event-${event.id}-attendees.csv"`)
          expect(response.body).toBe(expected)
        }
        // JSON still wins a tie, and ?format=json wins over Accept.
        for (const [accept, query] of [["application/json, text/csv", ""], ["text/csv", "?format=json"]] as const) {
          const response = yield* request("GET", `/api/events/${event.id}/attendees${query}`, {
            token: organizer.token,
            headers: { accept }
          })
          expect(response.headers["content-type"]).toContain("application/json")
        }
        const none = yield* createEvent(organizer.token)
        const empty = yield* request("GET", `/api/events/${none.id}/attendees?format=csv`, { token: organizer.token })
        expect(empty.body).toBe("\"bookingId\",\"customerEmail\",\"ticketsCount\",\"status\",\"createdAt\",\"ticketTypes\"\r\n")
      }))

    it.effect("cancelled bookings show as CANCELLED and count apart; held tickets are not sold", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [ann, bob, cat] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
        const event = yield* createEvent(organizer.token, { totalTickets: 20 })
        const cancelled = (yield* book(ann.token, event.id, 2)).body
        const reduced = (yield* book(bob.token, event.id, 5)).body
        expect((yield* request("DELETE", `/api/bookings/${cancelled.id}`, { token: ann.token })).status).toBe(200)
        expect((yield* request("PATCH", `/api/bookings/${reduced.id}`, { token: bob.token, json: { ticketsCount: 3 } })).status).toBe(200)
        expect((yield* request("POST", "/api/holds", { token: cat.token, json: { eventId: event.id, ticketsCount: 4 } })).status).toBe(201)

        const attendees = yield* request("GET", `/api/events/${event.id}/attendees`, { token: organizer.token })
        expect(attendees.body.map((row: any) => [row.bookingId, row.status, row.ticketsCount])).toEqual([
          [cancelled.id, "CANCELLED", 2],
          [reduced.id, "CONFIRMED", 3]
        ])
        const csv = yield* request("GET", `/api/events/${event.id}/attendees?format=csv`, { token: organizer.token })
        expect(csv.body).toContain(`"${cancelled.id}","${ann.user.email}","2","CANCELLED",`)
        expect(attendees.body.map((row: any) => row.ticketTypes.map((type: any) => type.count))).toEqual([[2], [3]])
        const [general] = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body
        expect((yield* request("GET", `/api/events/${event.id}/stats`, { token: organizer.token })).body).toEqual({
          totalTickets: 20,
          availableTickets: 13, // 3 booked, 4 held
          soldTickets: 3,
          bookings: 1,
          cancelledBookings: 1,
          salesByDay: [{ day: dayOf(new Date()), tickets: 3 }],
          currency: "EUR",
          ticketTypes: [{
            ticketTypeId: general.id,
            name: "General admission",
            priceCents: 0,
            sold: 3,
            held: 4,
            left: 13,
            checkedIn: 0,
            revenueCents: 0
          }]
        })
      }))

    it.effect("stats: tickets, bookings and sales by day (UTC); its organizer only", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 20 })
        const path = `/api/events/${event.id}/stats`
        const [general] = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body
        const generalSales = (sold: number, left: number) => ({
          ticketTypeId: general.id,
          name: "General admission",
          priceCents: 0,
          sold,
          held: 0,
          left,
          checkedIn: 0,
          revenueCents: 0
        })
        expect((yield* request("GET", path, { token: organizer.token })).body).toEqual({
          totalTickets: 20,
          availableTickets: 20,
          soldTickets: 0,
          bookings: 0,
          cancelledBookings: 0,
          salesByDay: [],
          currency: "EUR",
          ticketTypes: [generalSales(0, 20)]
        })

        const early = (yield* book(customer.token, event.id, 3)).body
        yield* book(customer.token, event.id, 4)
        yield* book(customer.token, event.id, 1)
        yield* backdoor.setBookingTime(early.id, new Date("2024-02-29T23:30:00Z"))
        const stats = yield* request("GET", path, { token: organizer.token })
        expect(stats.body).toEqual({
          totalTickets: 20,
          availableTickets: 12,
          soldTickets: 8,
          bookings: 3,
          cancelledBookings: 0,
          salesByDay: [{ day: "2024-02-29", tickets: 3 }, { day: dayOf(new Date()), tickets: 5 }],
          currency: "EUR",
          ticketTypes: [generalSales(8, 12)]
        })
        expectError(yield* request("GET", path, { token: other.token }), 403, "Forbidden")
        expectError(yield* request("GET", path, { token: customer.token }), 403, "Forbidden")
        expectError(yield* request("GET", "/api/events/2147483647/stats", { token: organizer.token }), 404, "EventNotFound")
      }))
  })

  describe("me", () => {
    it.effect("GET /auth/me answers the signed-in user; 401 without a token or for an account that is gone", () =>
      Effect.gen(function*() {
        const email = uniqueEmail("me")
        const organizer = yield* signUp("ORGANIZER", email)
        const me = yield* request("GET", "/api/auth/me", { token: organizer.token })
        expect(me).toMatchObject({ status: 200, body: { id: organizer.user.id, email, role: "ORGANIZER" } })
        expect(Object.keys(me.body).sort()).toEqual(["email", "id", "role"])
        expect(yield* (yield* client(organizer.token)).auth.me()).toEqual(organizer.user)
        expectError(yield* request("GET", "/api/auth/me"), 401, "Unauthorized")
        const ghost = yield* request("GET", "/api/auth/me", { token: yield* tokenOfMissingUser("CUSTOMER") })
        expectError(ghost, 401, "Unauthorized")
        expect(ghost.body.message).toContain("no longer exists")
      }))
  })
}
