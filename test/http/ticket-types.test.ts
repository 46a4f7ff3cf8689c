/** Ticket types over HTTP (in memory): who sees and changes them, the 400s and 409s, the default type, currency, stats and attendees per type. */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { TicketTypeId } from "../../src/Domain/Ids.ts"
import { createEvent, MemoryServer, request, signUp } from "../support/server.ts"
import { memoryTicketFixtures } from "../support/ticketTypes.ts"

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
}

const vip = { name: "VIP", priceCents: 5000, quota: 4 }

describe("ticket types over HTTP", () => {
  layer(MemoryServer(), { excludeTestServices: true })((it) => {
    it.effect("GET: public for a published event; a draft's only for its organizer (404 for anyone else, as the draft)", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 50 })
        const listed = yield* request("GET", `/api/events/${event.id}/ticket-types`)
        expect(listed.status).toBe(200)
        expect(listed.body).toEqual([{
          id: expect.any(Number),
          eventId: event.id,
          name: "General admission",
          priceCents: 0,
          currency: "EUR",
          quota: 50,
          salesStart: null,
          salesEnd: null,
          maxPerBooking: null,
          isDefault: true,
          left: 50
        }])

        const draft = yield* createEvent(organizer.token, { status: "DRAFT" })
        const path = `/api/events/${draft.id}/ticket-types`
        expectError(yield* request("GET", path), 404, "EventNotFound")
        expectError(yield* request("GET", path, { token: other.token }), 404, "EventNotFound")
        expectError(yield* request("GET", path, { token: customer.token }), 404, "EventNotFound")
        expect((yield* request("GET", path, { token: organizer.token })).status).toBe(200)
        expectError(yield* request("GET", path, { token: "not-a-token" }), 401, "Unauthorized")
        expectError(yield* request("GET", "/api/events/2000000000/ticket-types"), 404, "EventNotFound")
        expectError(yield* request("GET", "/api/events/abc/ticket-types"), 400, "ValidationError")
      }))

    it.effect("POST: the organizer of the event gets 201; customers 403, other organizers 403 (404 for a draft), no token 401", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const draft = yield* createEvent(organizer.token, { status: "DRAFT" })
        const post = (eventId: number, token?: string) =>
          request("POST", `/api/events/${eventId}/ticket-types`, { json: vip, ...(token === undefined ? {} : { token }) })

        expectError(yield* post(event.id), 401, "Unauthorized")
        expectError(yield* post(event.id, customer.token), 403, "Forbidden")
        expectError(yield* post(event.id, other.token), 403, "Forbidden")
        expectError(yield* post(draft.id, other.token), 404, "EventNotFound")
        const created = yield* post(event.id, organizer.token)
        expect(created.status).toBe(201)
        expect(created.body).toEqual({
          id: expect.any(Number),
          eventId: event.id,
          name: "VIP",
          priceCents: 5000,
          currency: "EUR",
          quota: 4,
          salesStart: null,
          salesEnd: null,
          maxPerBooking: null,
          isDefault: false,
          left: 4
        })
        expect((yield* post(draft.id, organizer.token)).status).toBe(201)
        const names = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body.map((type: any) => type.name)
        expect(names).toEqual(["General admission", "VIP"])

        yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })
        expectError(yield* post(event.id, organizer.token), 404, "EventNotFound")
        // A cancelled event's types are still shown, as the event is.
        expect((yield* request("GET", `/api/events/${event.id}/ticket-types`)).body).toHaveLength(2)
      }))

    it.effect("POST and PATCH: bad input is a 400 naming the field and changes nothing; a name taken (ignoring case) is 409", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token)
        const path = `/api/events/${event.id}/ticket-types`
        const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
          [{ ...vip, name: "   " }, /name/],
          [{ ...vip, name: "x".repeat(101) }, /name.*at most 100/s],
          [{ ...vip, name: "a\nb" }, /name/],
          [{ ...vip, priceCents: -1 }, /priceCents/],
          [{ ...vip, priceCents: 1.5 }, /priceCents/],
          [{ name: "Free" }, /priceCents/],
          [{ ...vip, quota: 0 }, /quota/],
          [{ ...vip, maxPerBooking: 0 }, /maxPerBooking/],
          [{ ...vip, salesStart: "tomorrow" }, /salesStart/],
          [{ ...vip, salesStart: "2031-01-02T00:00:00Z", salesEnd: "2031-01-01T00:00:00Z" }, /salesEnd: must be after salesStart/],
          [{ ...vip, colour: "gold" }, /colour/]
        ]
        for (const [json, message] of cases) {
          const response = yield* request("POST", path, { token: organizer.token, json })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toMatch(message)
        }
        const created = yield* request("POST", path, { token: organizer.token, json: vip })
        expectError(yield* request("POST", path, { token: organizer.token, json: { ...vip, name: " vip " } }), 409, "TicketTypeNameTaken")

        const patch = (json: unknown) => request("PATCH", `${path}/${created.body.id}`, { token: organizer.token, json })
        for (
          const [json, message] of [
            [{}, /at least one/],
            [{ quota: -3 }, /quota/],
            [{ isDefault: true }, /isDefault/],
            [{ salesStart: "2031-01-02T00:00:00Z", salesEnd: "2031-01-01T00:00:00Z" }, /salesEnd: must be after salesStart/]
          ] as const
        ) {
          const response = yield* patch(json)
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toMatch(message)
        }
        expectError(yield* patch({ name: "GENERAL ADMISSION" }), 409, "TicketTypeNameTaken")
        const listed = yield* request("GET", path)
        expect(listed.body.map((type: any) => [type.name, type.priceCents, type.quota])).toEqual([["General admission", 0, 100], [
          "VIP",
          5000,
          4
        ]])
      }))

    it.effect("PATCH: 200 with the type changed, null removes; quota below what is taken 409; another event's type 404", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const path = `/api/events/${event.id}/ticket-types`
        const created = (yield* request("POST", path, { token: organizer.token, json: { ...vip, maxPerBooking: 2 } })).body
        const patch = (json: unknown, token = organizer.token, typeId = created.id) =>
          request("PATCH", `${path}/${typeId}`, { token, json })

        const changed = yield* patch({ priceCents: 6000, maxPerBooking: null, salesEnd: "2031-01-01T00:00:00Z" })
        expect(changed.status).toBe(200)
        expect(changed.body).toEqual({ ...created, priceCents: 6000, maxPerBooking: null, salesEnd: "2031-01-01T00:00:00.000Z" })
        expectError(yield* patch({ priceCents: 1 }, other.token), 403, "Forbidden")

        yield* memoryTicketFixtures.setTaken(created.id as TicketTypeId, 3)
        const below = yield* patch({ quota: 2 })
        expectError(below, 409, "TicketsAlreadySold")
        expect(below.body).toMatchObject({ sold: 3, message: expect.stringMatching(/quota .* cannot be 2: 3 .* sold or held/) })
        expect((yield* patch({ quota: 3 })).body).toMatchObject({ quota: 3, left: 0 })

        const elsewhere = yield* createEvent(organizer.token)
        expectError(
          yield* request("PATCH", `/api/events/${elsewhere.id}/ticket-types/${created.id}`, {
            token: organizer.token,
            json: { priceCents: 1 }
          }),
          404,
          "TicketTypeNotFound"
        )
        expectError(yield* patch({ priceCents: 1 }, organizer.token, 2_000_000_000), 404, "TicketTypeNotFound")
        expectError(yield* patch({ priceCents: 1 }, organizer.token, "0" as any), 400, "ValidationError")
      }))

    it.effect("DELETE: 204 for an unused type; the default 409 TicketTypeIsDefault; one sold or held 409 TicketTypeInUse", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token)
        const path = `/api/events/${event.id}/ticket-types`
        const [general] = (yield* request("GET", path)).body
        const create = (name: string) =>
          Effect.map(request("POST", path, { token: organizer.token, json: { ...vip, name } }), (r) => r.body)
        const remove = (id: number, token = organizer.token) => request("DELETE", `${path}/${id}`, { token })

        const unused = yield* create("Unused")
        expectError(yield* remove(unused.id, customer.token), 403, "Forbidden")
        const removed = yield* remove(unused.id)
        expect(removed.status).toBe(204)
        expect(removed.text).toBe("")
        expectError(yield* remove(unused.id), 404, "TicketTypeNotFound")
        expectError(yield* remove(general.id), 409, "TicketTypeIsDefault")

        const held = yield* create("Held")
        yield* memoryTicketFixtures.setTaken(held.id, 2)
        const inUse = yield* remove(held.id)
        expectError(inUse, 409, "TicketTypeInUse")
        expect(inUse.body.message).toContain("salesEnd")
        expect((yield* request("GET", path)).body.map((type: any) => type.name)).toEqual(["General admission", "Held"])
      }))

    it.effect("events: the default type's quota follows totalTickets; currency on create, update and read; a bad currency is a 400", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        expect(event.currency).toBe("EUR")
        const typesPath = `/api/events/${event.id}/ticket-types`
        const general = () => Effect.map(request("GET", typesPath), ({ body }) => body[0])
        yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 4 } })
        expect(yield* general()).toMatchObject({ quota: 10, left: 6 })
        const put = (json: unknown) => request("PUT", `/api/events/${event.id}`, { token: organizer.token, json })
        expect((yield* put({ totalTickets: 12 })).body).toMatchObject({ totalTickets: 12, availableTickets: 8 })
        expect(yield* general()).toMatchObject({ quota: 12, left: 8 })
        expect(yield* general()).toMatchObject({ quota: 12 })
        expectError(yield* put({ totalTickets: 3 }), 409, "TicketsAlreadySold")
        expect(yield* general()).toMatchObject({ quota: 12 })

        const changed = yield* put({ currency: "USD" })
        expect(changed.body.currency).toBe("USD")
        expect((yield* request("GET", `/api/events/${event.id}`)).body.currency).toBe("USD")
        expect((yield* general()).currency).toBe("USD")
        for (const currency of ["usd", "EURO", "", 978]) {
          const response = yield* put({ currency })
          expectError(response, 400, "ValidationError")
          expect(response.body.message).toMatch(/currency/)
        }
        const created = yield* request("POST", "/api/events", {
          token: organizer.token,
          json: { title: "Yen", date: "2031-01-01T10:00:00Z", location: "Tokyo", totalTickets: 5, currency: "JPY" }
        })
        expect(created.status).toBe(201)
        expect(created.body.currency).toBe("JPY")
        const refused = yield* request("POST", "/api/events", {
          token: organizer.token,
          json: { title: "Bad", date: "2031-01-01T10:00:00Z", location: "X", totalTickets: 5, currency: "jpy" }
        })
        expectError(refused, 400, "ValidationError")
        expect(refused.body.message).toMatch(/currency.*ISO 4217/s)
      }))

    it.effect("stats per type and the attendees' types, as JSON and as the CSV's last column", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 10 })
        const premium = (yield* request("POST", `/api/events/${event.id}/ticket-types`, { token: organizer.token, json: vip })).body
        // A booking of both types, one ticket checked in, as the engine makes it.
        const bookingId = yield* memoryTicketFixtures.addBooking(event.id, customer.user.id, [
          { ticketTypeId: premium.id, status: "CHECKED_IN" },
          { ticketTypeId: premium.id, status: "VALID" },
          { ticketTypeId: (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body[0].id, status: "VALID" }
        ])
        yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 2 } })

        const stats = yield* request("GET", `/api/events/${event.id}/stats`, { token: organizer.token })
        expect(stats.status).toBe(200)
        expect(stats.body).toMatchObject({ soldTickets: 3, availableTickets: 5, currency: "EUR" })
        expect(stats.body.ticketTypes).toEqual([
          {
            ticketTypeId: expect.any(Number),
            name: "General admission",
            priceCents: 0,
            sold: 1,
            held: 2,
            left: 5,
            checkedIn: 0,
            revenueCents: 0
          },
          { ticketTypeId: premium.id, name: "VIP", priceCents: 5000, sold: 2, held: 0, left: 4, checkedIn: 1, revenueCents: 10_000 }
        ])

        const attendees = yield* request("GET", `/api/events/${event.id}/attendees`, { token: organizer.token })
        expect(attendees.body[0].ticketTypes).toEqual([
          { ticketTypeId: expect.any(Number), name: "General admission", count: 1 },
          { ticketTypeId: premium.id, name: "VIP", count: 2 }
        ])
        const csv = yield* request("GET", `/api/events/${event.id}/attendees?format=csv`, { token: organizer.token })
        const [header, row] = csv.text.split("\r\n")
        // Today's columns first, in their order; the types last.
        expect(header).toBe(`"bookingId","customerEmail","ticketsCount","status","createdAt","ticketTypes"`)
        expect(row).toMatch(
          new RegExp(`^"${bookingId}","${customer.user.email}","3","CONFIRMED","[^"]+","1 x General admission; 2 x VIP"$`)
        )
      }))
  })
})
