/**
 * A booking's tickets, their QR images and the door over HTTP, the same on the in-memory
 * repositories (test/http/check-ins.test.ts) and on PostgreSQL (test/db/check-ins.test.ts): who may
 * see and check in what, the codes read back from the images, check-in twice, an Idempotency-Key's
 * retry, the undo, an event cancelled voiding its tickets, and the OpenAPI document.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, type Vitest } from "@effect/vitest"
import { Effect } from "effect"
import { readQrPng, readQrSvg } from "./qr.ts"
import { client, createEvent, request, signUp } from "./server.ts"
import { ticketCodes } from "./tickets.ts"

const expectError = (response: { status: number; body: any }, status: number, code: string) => {
  expect(response.status).toBe(status)
  expect(response.body).toMatchObject({ status, code, message: expect.any(String) })
}

/** An organizer's event and a customer's booking of `ticketsCount`, with its codes. */
const aScene = (ticketsCount = 2) =>
  Effect.gen(function*() {
    const organizer = yield* signUp("ORGANIZER")
    const customer = yield* signUp("CUSTOMER")
    const event = yield* createEvent(organizer.token, { totalTickets: 20 })
    const booked = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount } })
    expect(booked.status).toBe(201)
    const booking = booked.body as { id: number; eventId: number }
    const codes = yield* ticketCodes(booking)
    return { organizer, customer, event, booking, codes }
  })

const checkIn = (token: string, eventId: number, code: string, key?: string) =>
  request("POST", `/api/events/${eventId}/check-ins`, {
    token,
    json: { code },
    headers: key === undefined ? {} : { "idempotency-key": key }
  })
const undo = (token: string, eventId: number, code: string) => request("DELETE", `/api/events/${eventId}/check-ins/${code}`, { token })
const ticketsOf = (token: string, bookingId: number) => request("GET", `/api/bookings/${bookingId}/tickets`, { token })

/** A GET whose body is kept as bytes (an image). */
const getBytes = (path: string, token?: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const get = HttpClientRequest.get(path)
    const response = yield* http.execute(token === undefined ? get : HttpClientRequest.bearerToken(get, token))
    return { status: response.status, headers: response.headers, bytes: new Uint8Array(yield* response.arrayBuffer) }
  }).pipe(Effect.scoped, Effect.orDie)

let keys = 0
const aKey = () => `check-in-${process.pid}-${++keys}-${Date.now()}`

export const doorSuite = (it: Vitest.MethodsNonLive<any, true>) => {
  it.effect("GET /bookings/:id/tickets: the customer's own booking's tickets; anyone else's booking is not found", () =>
    Effect.gen(function*() {
      const { booking, codes, customer, event, organizer } = yield* aScene(3)
      const stranger = yield* signUp("CUSTOMER")
      const mine = yield* ticketsOf(customer.token, booking.id)
      expect(mine.status).toBe(200)
      expect(mine.body).toEqual(codes.map((code) => ({
        code,
        bookingId: booking.id,
        eventId: event.id,
        ticketTypeId: expect.any(Number),
        ticketTypeName: "General admission",
        status: "VALID",
        checkedInAt: null,
        cancelledAt: null
      })))
      for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/)

      expectError(yield* ticketsOf(stranger.token, booking.id), 404, "BookingNotFound")
      // The event's organizer reads the door, not the customer's booking.
      expectError(yield* ticketsOf(organizer.token, booking.id), 404, "BookingNotFound")
      expectError(yield* ticketsOf(customer.token, 2_000_000_000), 404, "BookingNotFound")
      expectError(yield* request("GET", `/api/bookings/${booking.id}/tickets`), 401, "Unauthorized")
      expectError(yield* ticketsOf(customer.token, "01" as unknown as number), 400, "ValidationError")

      // The typed client reads the same.
      const api = yield* client(customer.token)
      const typed = yield* api.tickets.listForBooking({ path: { id: booking.id as never } })
      expect(typed.map((ticket) => ticket.code)).toEqual(codes)
    }))

  it.effect("the QR images carry the code: SVG and PNG read back by a QR decoder; private cache; the owner's only", () =>
    Effect.gen(function*() {
      const { booking, codes, customer, organizer } = yield* aScene(2)
      const other = yield* aScene(1)
      const stranger = yield* signUp("CUSTOMER")
      const path = (code: string, format = "svg", bookingId = booking.id) => `/api/bookings/${bookingId}/tickets/${code}/qr.${format}`

      const svg = yield* request("GET", path(codes[1]!), { token: customer.token })
      expect(svg.status).toBe(200)
      expect(svg.headers["content-type"]).toContain("image/svg+xml")
      expect(svg.headers["cache-control"]).toBe("private, max-age=86400, immutable")
      expect(svg.text).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
      expect(svg.text).toContain("<path")
      expect(readQrSvg(svg.text)).toBe(codes[1])

      const png = yield* getBytes(path(codes[0]!, "png"), customer.token)
      expect(png.status).toBe(200)
      expect(png.headers["content-type"]).toBe("image/png")
      expect(png.headers["cache-control"]).toBe("private, max-age=86400, immutable")
      expect([...png.bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      expect(readQrPng(png.bytes)).toBe(codes[0])

      // A code as a person types it: lower case, no dashes. The image carries the code as issued.
      const typed = yield* getBytes(path(codes[0]!.toLowerCase().replaceAll("-", ""), "png"), customer.token)
      expect(typed.status).toBe(200)
      expect(readQrPng(typed.bytes)).toBe(codes[0])

      expectError(yield* request("GET", path(codes[0]!), { token: stranger.token }), 404, "BookingNotFound")
      expectError(yield* request("GET", path(codes[0]!, "png"), { token: organizer.token }), 404, "BookingNotFound")
      expectError(yield* request("GET", path(other.codes[0]!), { token: customer.token }), 404, "TicketNotFound")
      expectError(yield* request("GET", path("00000-00000-00000-00000", "png"), { token: customer.token }), 404, "TicketNotFound")
      expectError(yield* request("GET", path("not-a-code"), { token: customer.token }), 400, "ValidationError")
      expectError(yield* request("GET", path(codes[0]!)), 401, "Unauthorized")
    }))

  it.effect("the audit trail: a check-in and its undo each one entry, the organizer as actor; a keyed repeat none", () =>
    Effect.gen(function*() {
      const { codes, event, organizer } = yield* aScene(1)
      const key = aKey()
      expect((yield* checkIn(organizer.token, event.id, codes[0]!, key)).status).toBe(200)
      expect((yield* checkIn(organizer.token, event.id, codes[0]!, key)).status).toBe(200)
      expect((yield* undo(organizer.token, event.id, codes[0]!)).status).toBe(204)
      const audit = yield* request("GET", `/api/events/${event.id}/audit?action=checkin.`, { token: organizer.token })
      expect(audit.status).toBe(200)
      const entries = audit.body as ReadonlyArray<{ action: string; actor: { userId: number }; changes: Record<string, unknown> }>
      expect(entries.map((entry) => entry.action)).toEqual(["checkin.undone", "checkin.created"])
      expect(entries.every((entry) => entry.actor.userId === organizer.user.id)).toBe(true)
      expect(entries[1]!.changes).toEqual({ code: { before: null, after: codes[0] }, status: { before: "VALID", after: "CHECKED_IN" } })
    }))

  it.effect("POST /events/:id/check-ins: 200 with the ticket and whose it is, once; again 409 with the first time; the organizer's door only", () =>
    Effect.gen(function*() {
      const { booking, codes, customer, event, organizer } = yield* aScene(2)
      const other = yield* aScene(1)
      const [code] = codes

      expectError(yield* checkIn(customer.token, event.id, code!), 403, "Forbidden")
      expectError(yield* checkIn(other.organizer.token, event.id, code!), 403, "Forbidden")
      expectError(yield* request("POST", `/api/events/${event.id}/check-ins`, { json: { code } }), 401, "Unauthorized")
      expectError(yield* checkIn(organizer.token, 2_000_000_000, code!), 404, "EventNotFound")
      const draft = yield* createEvent(other.organizer.token, { status: "DRAFT" })
      expectError(yield* checkIn(organizer.token, draft.id, code!), 404, "EventNotFound")
      // Refused attempts changed nothing.
      expect((yield* ticketsOf(customer.token, booking.id)).body[0].status).toBe("VALID")

      const first = yield* checkIn(organizer.token, event.id, code!.toLowerCase().replaceAll("-", " "))
      expect(first.status).toBe(200)
      expect(first.body).toEqual({
        code,
        bookingId: booking.id,
        eventId: event.id,
        ticketTypeId: expect.any(Number),
        ticketTypeName: "General admission",
        status: "CHECKED_IN",
        checkedInAt: expect.any(String),
        cancelledAt: null,
        email: customer.user.email
      })
      const again = yield* checkIn(organizer.token, event.id, code!)
      expectError(again, 409, "AlreadyCheckedIn")
      expect(again.body.checkedInAt).toBe(first.body.checkedInAt)
      expect(again.body.message).toContain(first.body.checkedInAt)

      // Another event's code, at this door or the other way round; a code never issued.
      expectError(yield* checkIn(organizer.token, event.id, other.codes[0]!), 404, "TicketNotFound")
      expectError(yield* checkIn(other.organizer.token, other.event.id, codes[1]!), 404, "TicketNotFound")
      expectError(yield* checkIn(organizer.token, event.id, "00000-00000-00000-00000"), 404, "TicketNotFound")
      const bad = yield* checkIn(organizer.token, event.id, "7K2QF")
      expectError(bad, 400, "ValidationError")
      expect(bad.body.message).toContain("code")
      expectError(
        yield* request("POST", `/api/events/${event.id}/check-ins`, { token: organizer.token, json: { code, gate: 2 } }),
        400,
        "ValidationError"
      )

      const listed = (yield* ticketsOf(customer.token, booking.id)).body
      expect(listed.map((ticket: any) => [ticket.status, ticket.checkedInAt])).toEqual([
        ["CHECKED_IN", first.body.checkedInAt],
        ["VALID", null]
      ])
      expect((yield* ticketsOf(other.customer.token, other.booking.id)).body[0].status).toBe("VALID")

      // The typed client, with its typed refusal.
      const api = yield* client(organizer.token)
      const second = yield* api.tickets.checkIn({ path: { id: event.id }, payload: { code: codes[1]! }, headers: {} })
      expect(second).toMatchObject({ code: codes[1], status: "CHECKED_IN", email: customer.user.email })
      const refused = yield* Effect.flip(api.tickets.checkIn({ path: { id: event.id }, payload: { code: codes[1]! }, headers: {} }))
      expect(refused).toMatchObject({ _tag: "AlreadyCheckedIn", checkedInAt: second.checkedInAt })
    }))

  it.effect("check-in with an Idempotency-Key: a retry gets the same 200 again, marked as a replay; another key gets 409", () =>
    Effect.gen(function*() {
      const { codes, event, organizer } = yield* aScene(1)
      const key = aKey()
      const first = yield* checkIn(organizer.token, event.id, codes[0]!, key)
      expect(first.status).toBe(200)
      expect(first.headers["idempotent-replayed"]).toBeUndefined()
      const retry = yield* checkIn(organizer.token, event.id, codes[0]!, key)
      expect(retry.status).toBe(200)
      expect(retry.headers["idempotent-replayed"]).toBe("true")
      expect(retry.body).toEqual(first.body)
      const otherKey = yield* checkIn(organizer.token, event.id, codes[0]!, aKey())
      expectError(otherKey, 409, "AlreadyCheckedIn")
      expect(otherKey.body.checkedInAt).toBe(first.body.checkedInAt)
      // The key stands for that request only.
      expectError(yield* checkIn(organizer.token, event.id, "00000-00000-00000-00000", key), 422, "IdempotencyKeyReused")
    }))

  it.effect("DELETE /events/:id/check-ins/:code undoes a check-in (204); not checked in 409; the organizer's door only", () =>
    Effect.gen(function*() {
      const { booking, codes, customer, event, organizer } = yield* aScene(1)
      const other = yield* aScene(1)
      const [code] = codes
      expectError(yield* undo(organizer.token, event.id, code!), 409, "TicketNotCheckedIn")
      const first = yield* checkIn(organizer.token, event.id, code!)
      expectError(yield* undo(customer.token, event.id, code!), 403, "Forbidden")
      expectError(yield* undo(other.organizer.token, event.id, code!), 403, "Forbidden")
      expectError(yield* undo(organizer.token, event.id, other.codes[0]!), 404, "TicketNotFound")
      expectError(yield* undo(organizer.token, event.id, "nope"), 400, "ValidationError")

      const undone = yield* undo(organizer.token, event.id, code!.toLowerCase())
      expect(undone.status).toBe(204)
      expect(undone.text).toBe("")
      expect((yield* ticketsOf(customer.token, booking.id)).body[0]).toMatchObject({ status: "VALID", checkedInAt: null })
      expectError(yield* undo(organizer.token, event.id, code!), 409, "TicketNotCheckedIn")

      const again = yield* checkIn(organizer.token, event.id, code!)
      expect(again.status).toBe(200)
      expect(new Date(again.body.checkedInAt).getTime()).toBeGreaterThanOrEqual(new Date(first.body.checkedInAt).getTime())
    }))

  it.effect("an event cancelled by its organizer voids its tickets: CANCELLED, refused at the door; other events' stay VALID", () =>
    Effect.gen(function*() {
      const { booking, codes, customer, event, organizer } = yield* aScene(3)
      const other = yield* aScene(1)
      expect((yield* checkIn(organizer.token, event.id, codes[0]!)).status).toBe(200)
      expect((yield* request("DELETE", `/api/events/${event.id}`, { token: organizer.token })).status).toBe(204)

      const voided = (yield* ticketsOf(customer.token, booking.id)).body
      expect(voided.map((ticket: any) => ticket.status)).toEqual(["CANCELLED", "CANCELLED", "CANCELLED"])
      for (const ticket of voided) expect(ticket).toMatchObject({ cancelledAt: expect.any(String), checkedInAt: null })
      expectError(yield* checkIn(organizer.token, event.id, codes[1]!), 409, "TicketCancelled")
      expectError(yield* checkIn(organizer.token, event.id, codes[0]!), 409, "TicketCancelled")
      expectError(yield* undo(organizer.token, event.id, codes[0]!), 409, "TicketCancelled")
      // Its QR image is still the customer's to see; the door is what refuses it.
      expect((yield* request("GET", `/api/bookings/${booking.id}/tickets/${codes[1]}/qr.svg`, { token: customer.token })).status).toBe(
        200
      )

      expect((yield* ticketsOf(other.customer.token, other.booking.id)).body[0].status).toBe("VALID")
      expect((yield* checkIn(other.organizer.token, other.event.id, other.codes[0]!)).status).toBe(200)
    }))

  it.effect("the OpenAPI document: the tickets, the images' media types, the check-in's key and refusals", () =>
    Effect.gen(function*() {
      const { body: spec } = yield* request("GET", "/api/openapi.json")
      const list = spec.paths["/api/bookings/{id}/tickets"].get
      expect(list.summary).toBeTruthy()
      expect(list.responses["200"].content["application/json"].schema).toMatchObject({ type: "array" })
      expect(list.responses["404"]).toBeDefined()
      const svg = spec.paths["/api/bookings/{id}/tickets/{code}/qr.svg"].get
      const png = spec.paths["/api/bookings/{id}/tickets/{code}/qr.png"].get
      expect(Object.keys(svg.responses["200"].content)).toEqual(["image/svg+xml"])
      expect(Object.keys(png.responses["200"].content)).toEqual(["image/png"])
      expect(svg.responses["200"].headers["Cache-Control"]).toBeDefined()
      for (const operation of [list, svg, png]) expect(operation.security).toEqual([{ bearer: [] }])

      const checkInOperation = spec.paths["/api/events/{id}/check-ins"].post
      expect(checkInOperation.parameters.map((parameter: any) => parameter.name)).toContain("Idempotency-Key")
      expect(checkInOperation.responses["200"].headers["Idempotent-Replayed"]).toBeDefined()
      expect(Object.keys(checkInOperation.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "403", "404", "409", "422"]))
      const undoOperation = spec.paths["/api/events/{id}/check-ins/{code}"].delete
      expect(Object.keys(undoOperation.responses)).toEqual(expect.arrayContaining(["204", "403", "404", "409"]))
      expect(spec.components.schemas.AlreadyCheckedIn.required).toEqual(
        expect.arrayContaining(["message", "status", "code", "checkedInAt"])
      )
      expect(spec.components.schemas.CheckIn.required).toEqual(
        expect.arrayContaining(["code", "status", "checkedInAt", "email", "ticketTypeName"])
      )
    }))
}
