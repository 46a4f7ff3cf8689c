/**
 * The audit trail over in-memory layers, through the real router: who the engine's entries name
 * when one request's change leads the engine to act on its own (an offer to the waiting list), and
 * the operator's read. Its PostgreSQL counterpart is test/db/audit.test.ts.
 */
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createEvent, MemoryServer, request, signUp } from "../support/server.ts"

const ADMIN_TOKEN = "an-operator-token-for-audit-tests"

layer(MemoryServer({ ADMIN_TOKEN }), { excludeTestServices: true })("the audit trail in memory", (it) => {
  it.effect("a cancellation's offer to the waiting list is the system's, in the cancelling request; the offer's confirmation its customer's", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const [ann, bob] = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER")])
      const event = yield* createEvent(organizer.token, { totalTickets: 1 })
      const booked = yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 1 } })
      expect(booked.status).toBe(201)
      const joined = yield* request("POST", `/api/events/${event.id}/waitlist`, { token: bob.token, json: { ticketsCount: 1 } })
      expect(joined.status).toBe(201)
      const cancelled = yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: ann.token })
      expect(cancelled.status).toBe(200)
      const offer = (yield* request("GET", "/api/holds/mine", { token: bob.token })).body[0]
      const confirmed = yield* request("POST", `/api/holds/${offer.id}/confirm`, { token: bob.token })
      expect(confirmed.status).toBe(201)

      const trail = yield* request("GET", `/api/events/${event.id}/audit`, { token: organizer.token })
      expect(trail.status).toBe(200)
      const oldestFirst = [...trail.body].reverse()
      const cancelling = cancelled.headers["x-request-id"]
      expect(oldestFirst.map((e: any) => [e.action, e.actor.type, e.actor.userId, e.subject.id])).toEqual([
        ["event.created", "user", organizer.user.id, event.id],
        ["booking.created", "user", ann.user.id, booked.body.id],
        ["waitlist.joined", "user", bob.user.id, joined.body.id],
        ["booking.cancelled", "user", ann.user.id, booked.body.id],
        ["hold.placed", "system", null, offer.id],
        ["waitlist.offered", "system", null, joined.body.id],
        ["hold.confirmed", "user", bob.user.id, offer.id],
        ["waitlist.accepted", "user", bob.user.id, joined.body.id],
        ["booking.created", "user", bob.user.id, confirmed.body.id]
      ])
      expect(oldestFirst.slice(3, 6).map((e: any) => e.requestId)).toEqual([cancelling, cancelling, cancelling])
      expect(oldestFirst[8].changes).toEqual({
        status: { before: null, after: "CONFIRMED" },
        ticketsCount: { before: null, after: 1 },
        holdId: { before: null, after: offer.id }
      })
      // The operator reads the same entries, filtered.
      const holds = yield* request("GET", `/api/admin/audit?eventId=${event.id}&action=hold.`, { token: ADMIN_TOKEN })
      expect(holds.body.map((e: any) => e.action)).toEqual(["hold.confirmed", "hold.placed"])
    }))

  it.effect("tickets given back, a hold released, the waiting list left: reduced, released, left, with what changed", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const [ann, bob] = yield* Effect.all([signUp("CUSTOMER"), signUp("CUSTOMER")])
      const event = yield* createEvent(organizer.token, { totalTickets: 4 })
      const booked = yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 3 } })
      const reduced = yield* request("PATCH", `/api/bookings/${booked.body.id}`, { token: ann.token, json: { ticketsCount: 1 } })
      expect(reduced.status).toBe(200)
      const held = yield* request("POST", "/api/holds", { token: bob.token, json: { eventId: event.id, ticketsCount: 3 } })
      expect((yield* request("DELETE", `/api/holds/${held.body.id}`, { token: bob.token })).status).toBe(204)
      expect((yield* request("POST", "/api/bookings", { token: ann.token, json: { eventId: event.id, ticketsCount: 2 } })).status).toBe(201)
      const joined = yield* request("POST", `/api/events/${event.id}/waitlist`, { token: bob.token, json: { ticketsCount: 2 } })
      expect(joined.status).toBe(201)
      expect((yield* request("DELETE", `/api/events/${event.id}/waitlist`, { token: bob.token })).status).toBe(204)

      const trail = yield* request("GET", `/api/events/${event.id}/audit?action=booking.reduced`, { token: organizer.token })
      expect(trail.body).toMatchObject([{
        actor: { type: "user", userId: ann.user.id },
        subject: { type: "booking", id: booked.body.id },
        changes: { ticketsCount: { before: 3, after: 1 } },
        requestId: reduced.headers["x-request-id"]
      }])
      const released = yield* request("GET", `/api/events/${event.id}/audit?action=hold.released`, { token: organizer.token })
      expect(released.body).toMatchObject([{
        actor: { userId: bob.user.id },
        subject: { type: "hold", id: held.body.id },
        changes: { status: { before: "HELD", after: "RELEASED" } }
      }])
      const left = yield* request("GET", `/api/events/${event.id}/audit?action=waitlist.`, { token: organizer.token })
      expect(left.body.map((e: any) => [e.action, e.subject.id, e.changes.status])).toEqual([
        ["waitlist.left", joined.body.id, { before: "WAITING", after: "LEFT" }],
        ["waitlist.joined", joined.body.id, { before: null, after: "WAITING" }]
      ])
    }))

  it.effect("webhook endpoints in the trail: created, updated, secret rotated, deleted, the organizer as actor, never a secret", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const created = yield* request("POST", "/api/webhooks", {
        token: organizer.token,
        json: { url: "https://receiver.example.com/hooks", events: ["booking.created"] }
      })
      expect(created.status).toBe(201)
      const path = `/api/webhooks/${created.body.id}`
      expect((yield* request("PATCH", path, { token: organizer.token, json: { enabled: false } })).status).toBe(200)
      expect((yield* request("POST", `${path}/rotate-secret`, { token: organizer.token })).status).toBe(200)
      expect((yield* request("DELETE", path, { token: organizer.token })).status).toBe(204)

      const trail = yield* request("GET", "/api/admin/audit?action=webhook.", { token: ADMIN_TOKEN })
      const mine = (trail.body as ReadonlyArray<any>).filter((entry) => entry.subject.id === created.body.id).reverse()
      expect(mine.map((entry) => [entry.action, entry.actor.userId])).toEqual([
        ["webhook.created", organizer.user.id],
        ["webhook.updated", organizer.user.id],
        ["webhook.secret_rotated", organizer.user.id],
        ["webhook.deleted", organizer.user.id]
      ])
      expect(mine[1].changes).toEqual({ enabled: { before: true, after: false } })
      expect(JSON.stringify(trail.body)).not.toContain("whsec_")
    }))
  it.effect("ticket types in the event's trail: created, updated with the fields changed, deleted; the organizer as actor", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const event = yield* createEvent(organizer.token, { totalTickets: 50 })
      const types = `/api/events/${event.id}/ticket-types`
      const created = yield* request("POST", types, { token: organizer.token, json: { name: "VIP", priceCents: 5000, quota: 10 } })
      expect(created.status).toBe(201)
      const changed = yield* request("PATCH", `${types}/${created.body.id}`, {
        token: organizer.token,
        json: { priceCents: 6000, quota: 8 }
      })
      expect(changed.status).toBe(200)
      expect((yield* request("DELETE", `${types}/${created.body.id}`, { token: organizer.token })).status).toBe(204)
      // Refused changes leave nothing.
      const general = (yield* request("GET", types, { token: organizer.token })).body[0]
      expect((yield* request("DELETE", `${types}/${general.id}`, { token: organizer.token })).status).toBe(409)

      const trail = yield* request("GET", `/api/events/${event.id}/audit?action=ticket_type.`, { token: organizer.token })
      expect(trail.body.map((entry: any) => [entry.action, entry.subject, entry.actor.userId, entry.eventId])).toEqual([
        ["ticket_type.deleted", { type: "ticket_type", id: created.body.id }, organizer.user.id, event.id],
        ["ticket_type.updated", { type: "ticket_type", id: created.body.id }, organizer.user.id, event.id],
        ["ticket_type.created", { type: "ticket_type", id: created.body.id }, organizer.user.id, event.id]
      ])
      expect(trail.body[1].changes).toEqual({ priceCents: { before: 5000, after: 6000 }, quota: { before: 10, after: 8 } })
      expect(trail.body[2].changes).toMatchObject({ name: { before: null, after: "VIP" }, priceCents: { before: null, after: 5000 } })
      expect(trail.body[0].changes).toMatchObject({ name: { before: "VIP", after: null }, quota: { before: 8, after: null } })
    }))
})
