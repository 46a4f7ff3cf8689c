/**
 * Every endpoint through the typed HttpApiClient derived from the same declaration as the server:
 * successes decode to the declared schemas, and failures come back as the domain's error classes.
 */
import { HttpServer } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Client from "../../src/Client.ts"
import {
  EmailTaken,
  EventNotFound,
  Forbidden,
  InvalidCredentials,
  NotEnoughTickets,
  TicketsAlreadySold,
  Unauthorized
} from "../../src/Domain/Errors.ts"
import { client, createEvent, MemoryServer, signUp, uniqueEmail } from "../support/server.ts"

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("the typed client", () => {
    it.effect("auth: register, login, and their typed failures", () =>
      Effect.gen(function*() {
        const api = yield* client()
        const email = uniqueEmail()
        const password = Redacted.make("securePass123")
        const registered = yield* api.auth.register({ payload: { email, password, role: "ORGANIZER" } })
        expect(registered).toEqual({ message: "User registered successfully", user: { id: expect.any(Number), email, role: "ORGANIZER" } })
        expect(yield* Effect.flip(api.auth.register({ payload: { email, password, role: "CUSTOMER" } }))).toBeInstanceOf(EmailTaken)

        const session = yield* api.auth.login({ payload: { email, password } })
        expect(session.user).toEqual(registered.user)
        expect(session.expiresAt).toBeInstanceOf(Date)
        const refused = yield* Effect.flip(api.auth.login({ payload: { email, password: Redacted.make("wrong-password") } }))
        expect(refused).toBeInstanceOf(InvalidCredentials)
      }))

    it.effect("events: create, list, update, cancel, and their typed failures", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const other = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const api = yield* client(organizer.token)

        const event = yield* createEvent(organizer.token, { totalTickets: 4 })
        expect(event.date).toBeInstanceOf(Date)
        expect((yield* (yield* client()).events.list({ urlParams: {} })).map((e) => e.id)).toContain(event.id)

        const updated = yield* api.events.update({ path: { id: event.id }, payload: { location: "Hall C" } })
        expect(updated).toMatchObject({ id: event.id, location: "Hall C", availableTickets: 4 })

        yield* (yield* client(customer.token)).bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 3 } })
        const belowSold = yield* Effect.flip(api.events.update({ path: { id: event.id }, payload: { totalTickets: 2 } }))
        expect(belowSold).toBeInstanceOf(TicketsAlreadySold)
        expect(belowSold).toMatchObject({ sold: 3 })

        const notOwner = yield* Effect.flip((yield* client(other.token)).events.cancel({ path: { id: event.id } }))
        expect(notOwner).toBeInstanceOf(Forbidden)
        const notOrganizer = yield* Effect.flip(createEvent(customer.token))
        expect(notOrganizer).toBeInstanceOf(Forbidden)
        const anonymous = yield* Effect.flip(createEvent("not-a-token"))
        expect(anonymous).toBeInstanceOf(Unauthorized)

        yield* api.events.cancel({ path: { id: event.id } })
        expect(yield* Effect.flip(api.events.cancel({ path: { id: event.id } }))).toBeInstanceOf(EventNotFound)
      }))

    it.effect("bookings: book, list mine, and their typed failures", () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 2 })
        const api = yield* client(customer.token)

        const booking = yield* api.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 2 } })
        expect(booking).toMatchObject({ eventId: event.id, ticketsCount: 2, event: { availableTickets: 0 } })
        expect(booking.createdAt).toBeInstanceOf(Date)
        const soldOut = yield* Effect.flip(api.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } }))
        expect(soldOut).toBeInstanceOf(NotEnoughTickets)
        expect(soldOut).toMatchObject({ available: 0 })
        expect((yield* api.bookings.mine({ urlParams: {} })).map((b) => b.id)).toEqual([booking.id])
        expect(
          yield* Effect.flip(
            (yield* client(organizer.token)).bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } })
          )
        )
          .toBeInstanceOf(Forbidden)
      }))

    it.effect("Client.makeFetch: ready over fetch, given the server's URL and a token (plain or Redacted)", () =>
      Effect.gen(function*() {
        const { address } = yield* HttpServer.HttpServer
        const baseUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
        const organizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        const event = yield* createEvent(organizer.token, { totalTickets: 3 })

        const signedIn = yield* Client.makeFetch({ baseUrl, token: Redacted.make(customer.token) })
        const booking = yield* signedIn.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 1 } })
        expect((yield* (yield* Client.makeFetch({ baseUrl, token: customer.token })).bookings.mine({ urlParams: {} })).map((b) => b.id))
          .toEqual([booking.id])
        expect(yield* Effect.flip((yield* Client.makeFetch({ baseUrl })).bookings.mine({ urlParams: {} }))).toBeInstanceOf(Unauthorized)
        expect((yield* (yield* Client.makeFetch({ baseUrl: new URL(baseUrl) })).health.live()).status).toBe("ok")
      }))
  })
})
