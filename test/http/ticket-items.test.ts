/**
 * Bookings, holds and the waiting list over ticket types, over HTTP (in memory): `ticketTypeId`
 * or `items` in, `items` out, the 400s naming the field, the refusals naming the type; the seed's
 * `{eventId, ticketsCount}` books the default type.
 */
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createEvent, MemoryServer, request, signUp } from "../support/server.ts"

const expectError = (response: { status: number; body: any }, status: number, code: string, message?: RegExp) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
  if (message !== undefined) expect(response.body.message).toMatch(message)
}

/** An event of `total` tickets with its default type and a VIP type of `vipQuota`. */
const typedEvent = (token: string, total: number, vipQuota: number) =>
  Effect.gen(function*() {
    const event = yield* createEvent(token, { totalTickets: total })
    const [general] = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body
    const vip = yield* request("POST", `/api/events/${event.id}/ticket-types`, {
      token,
      json: { name: "VIP", priceCents: 5000, quota: vipQuota, maxPerBooking: 3 }
    })
    expect(vip.status).toBe(201)
    return { event, general: general.id as number, vip: vip.body.id as number }
  })

describe("bookings over ticket types (HTTP)", () => {
  layer(MemoryServer({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 20 }), { excludeTestServices: true })((it) => {
    it.effect("POST /bookings: ticketsCount books the default type, ticketTypeId that type, items several at once; items answer with names", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const { event, general, vip } = yield* typedEvent(organizer.token, 20, 4)
        const book = (json: object) => request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ...json } })

        const seed = yield* book({ ticketsCount: 2 })
        expect(seed.status).toBe(201)
        expect(seed.body).toMatchObject({ ticketsCount: 2, items: [{ ticketTypeId: general, name: "General admission", count: 2 }] })
        const named = yield* book({ ticketTypeId: vip, ticketsCount: 1 })
        expect(named.body).toMatchObject({ ticketsCount: 1, items: [{ ticketTypeId: vip, name: "VIP", count: 1 }] })
        const several = yield* book({ items: [{ ticketTypeId: vip, count: 2 }, { ticketTypeId: general, count: 1 }] })
        expect(several.status).toBe(201)
        expect(several.body).toMatchObject({
          ticketsCount: 3,
          items: [{ ticketTypeId: vip, name: "VIP", count: 2 }, { ticketTypeId: general, name: "General admission", count: 1 }],
          event: { availableTickets: 14 }
        })

        // VIP: 1 left of its quota of 4; all or nothing.
        const short = yield* book({ items: [{ ticketTypeId: general, count: 1 }, { ticketTypeId: vip, count: 2 }] })
        expectError(short, 409, "NotEnoughTickets", /VIP/)
        expect(short.body).toMatchObject({ ticketTypeId: vip, available: 1 })
        const types = (yield* request("GET", `/api/events/${event.id}/ticket-types`)).body
        expect(types.map((t: any) => [t.name, t.left])).toEqual([["General admission", 14], ["VIP", 1]])

        const mine = yield* request("GET", "/api/bookings/my-bookings", { token: ann.token })
        expect(mine.body.map((b: any) => b.items.map((i: any) => [i.name, i.count]))).toEqual([
          [["VIP", 2], ["General admission", 1]],
          [["VIP", 1]],
          [["General admission", 2]]
        ])
        const reduced = yield* request("PATCH", `/api/bookings/${several.body.id}`, { token: ann.token, json: { ticketsCount: 1 } })
        expect(reduced.body).toMatchObject({ ticketsCount: 1, items: [{ ticketTypeId: vip, count: 1 }] })
      }))

    it.effect("400 naming the field: ticketsCount with items, ticketTypeId with items, a type twice, no items, neither; 404 for another event's type", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const ann = yield* signUp("CUSTOMER")
        const { event, general, vip } = yield* typedEvent(organizer.token, 20, 4)
        const other = yield* typedEvent(organizer.token, 5, 2)
        for (const path of ["/api/bookings", "/api/holds", `/api/events/${event.id}/waitlist`]) {
          const send = (json: object) =>
            request("POST", path, { token: ann.token, json: path.includes("waitlist") ? json : { eventId: event.id, ...json } })
          expectError(yield* send({ ticketsCount: 1, items: [{ ticketTypeId: vip, count: 1 }] }), 400, "ValidationError", /ticketsCount/)
          expectError(yield* send({ ticketTypeId: vip, items: [{ ticketTypeId: vip, count: 1 }] }), 400, "ValidationError", /ticketTypeId/)
          expectError(
            yield* send({ items: [{ ticketTypeId: vip, count: 1 }, { ticketTypeId: vip, count: 2 }] }),
            400,
            "ValidationError",
            /items.*twice/s
          )
          expectError(yield* send({ items: [] }), 400, "ValidationError", /items/)
          expectError(yield* send({ items: [{ ticketTypeId: vip, count: 0 }] }), 400, "ValidationError", /count/)
          expectError(yield* send({ items: [{ ticketTypeId: vip, count: 1, extra: 1 }] }), 400, "ValidationError")
          expectError(yield* send({}), 400, "ValidationError", /ticketsCount/)
          expectError(yield* send({ ticketTypeId: vip }), 400, "ValidationError", /ticketsCount/)
          expectError(yield* send({ ticketTypeId: other.vip, ticketsCount: 1 }), 404, "TicketTypeNotFound")
          expectError(
            yield* send({ items: [{ ticketTypeId: general, count: 1 }, { ticketTypeId: other.general, count: 1 }] }),
            404,
            "TicketTypeNotFound"
          )
          // Over the type's maxPerBooking (3).
          expectError(yield* send({ ticketTypeId: vip, ticketsCount: 4 }), 400, "ValidationError", /at most 3/)
        }
        // Nothing was taken by any of them.
        expect((yield* request("GET", `/api/events/${event.id}`)).body.availableTickets).toBe(20)
      }))

    it.effect("holds and the waiting list take items: a hold answers them and its booking keeps them; an entry waits for its type", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const [ann, bob] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
        const { event, general, vip } = yield* typedEvent(organizer.token, 20, 2)
        const held = yield* request("POST", "/api/holds", {
          token: ann.token,
          json: { eventId: event.id, items: [{ ticketTypeId: vip, count: 2 }, { ticketTypeId: general, count: 1 }] }
        })
        expect(held.status).toBe(201)
        expect(held.body.items).toEqual([
          { ticketTypeId: vip, name: "VIP", count: 2 },
          { ticketTypeId: general, name: "General admission", count: 1 }
        ])
        expect((yield* request("GET", "/api/holds/mine", { token: ann.token })).body[0].items).toEqual(held.body.items)

        // VIP is sold out (held), the event is not: Bob waits for VIP.
        const joined = yield* request("POST", `/api/events/${event.id}/waitlist`, {
          token: bob.token,
          json: { ticketTypeId: vip, ticketsCount: 1 }
        })
        expect(joined.status).toBe(201)
        expect(joined.body).toMatchObject({ ticketsCount: 1, items: [{ ticketTypeId: vip, name: "VIP", count: 1 }], status: "WAITING" })

        const confirmed = yield* request("POST", `/api/holds/${held.body.id}/confirm`, { token: ann.token })
        expect(confirmed.status).toBe(201)
        expect(confirmed.body.items).toEqual(held.body.items)
      }))
  })
})
