/** Services over in-memory layers with a test clock: the rules, without HTTP or a database. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Ref, TestClock } from "effect"
import { randomUUID } from "node:crypto"
import { Accounts } from "../../src/Accounts/Accounts.ts"
import { Passwords } from "../../src/Accounts/Passwords.ts"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import type { IdempotencyId, UserId } from "../../src/Domain/Ids.ts"
import type { Role } from "../../src/Domain/Role.ts"
import { Events } from "../../src/Events/Events.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { EnqueuedJobs, JobQueue } from "../../src/Jobs/JobQueue.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { bookBatch } from "../support/bookings.ts"
import { confirmedBookings } from "../support/confirmations.ts"

const ServicesTest = Layer.mergeAll(Accounts.layer, Events.layer, Bookings.layer).pipe(
  Layer.provideMerge(Inventory.layer),
  Layer.provideMerge(Layer.mergeAll(Passwords.layer, Tokens.layer)),
  Layer.provideMerge(PersistenceMemory),
  Layer.provideMerge(JobQueue.layerMemory),
  Layer.provideMerge(AppConfig.layerTest({ JWT_TTL_SECONDS: 60 }))
)

const NOW = Date.parse("2030-01-01T00:00:00Z")
const HOUR = 3_600_000
const password = Redacted.make("correct horse battery")

/** Runs with the test clock at NOW and fresh in-memory services. */
const test = <A, E>(name: string, body: Effect.Effect<A, E, Layer.Layer.Success<typeof ServicesTest>>) =>
  it.effect(name, () => TestClock.setTime(NOW).pipe(Effect.zipRight(body), Effect.provide(ServicesTest)))

const user = (role: Role, email = `${role.toLowerCase()}@example.com`) =>
  Effect.flatMap(Accounts, (accounts) => accounts.register({ email, password, role }))

// Webhook announcements aside (with no endpoint, PostgreSQL's outbox writes none; the memory queue keeps all).
const jobs = Effect.map(Effect.flatMap(EnqueuedJobs, Ref.get), (all) => all.filter((job) => job._tag !== "Announcement"))

const anEvent = (organizerId: UserId, hoursAhead = 24, totalTickets = 10) =>
  Effect.flatMap(Events, (events) =>
    events.create({ id: organizerId, role: "ORGANIZER" }, {
      title: "Conf",
      description: "",
      date: new Date(NOW + hoursAhead * HOUR),
      location: "Hall",
      totalTickets
    }))

describe("Accounts", () => {
  test(
    "stores a bcrypt hash, never the password",
    Effect.gen(function*() {
      const registered = yield* user("CUSTOMER")
      const stored = yield* Effect.flatMap(UsersRepo, (users) => users.findByEmail("customer@example.com"))
      expect(stored._tag).toBe("Some")
      if (stored._tag === "Some") {
        expect(stored.value.id).toBe(registered.id)
        expect(stored.value.passwordHash).toMatch(/^\$2[aby]\$04\$/)
        expect(stored.value.passwordHash).not.toContain("correct horse")
      }
    })
  )

  test(
    "a second account with the same email fails with EmailTaken",
    Effect.gen(function*() {
      yield* user("CUSTOMER")
      const error = yield* Effect.flip(user("ORGANIZER", "customer@example.com"))
      expect(error._tag).toBe("EmailTaken")
    })
  )

  test(
    "login: right password signs in; wrong password and unknown email fail alike",
    Effect.gen(function*() {
      const accounts = yield* Accounts
      const registered = yield* user("CUSTOMER")
      const session = yield* accounts.login({ email: "customer@example.com", password })
      expect(session.user).toEqual(registered)
      expect(session.expiresAt.getTime()).toBe(NOW + 60_000)
      const wrong = yield* Effect.flip(accounts.login({ email: "customer@example.com", password: Redacted.make("nope") }))
      const unknown = yield* Effect.flip(accounts.login({ email: "nobody@example.com", password }))
      expect(wrong).toEqual(unknown)
      expect(wrong._tag).toBe("InvalidCredentials")
    })
  )

  test(
    "a login password over 72 bytes never matches, even when its first 72 bytes do",
    Effect.gen(function*() {
      const accounts = yield* Accounts
      const long = "p".repeat(72)
      yield* accounts.register({ email: "long@example.com", password: Redacted.make(long), role: "CUSTOMER" })
      expect((yield* accounts.login({ email: "long@example.com", password: Redacted.make(long) })).user.email).toBe("long@example.com")
      const error = yield* Effect.flip(accounts.login({ email: "long@example.com", password: Redacted.make(`${long}-and-more`) }))
      expect(error._tag).toBe("InvalidCredentials")
    })
  )
})

describe("Tokens", () => {
  test(
    "a token verifies until it expires",
    Effect.gen(function*() {
      const tokens = yield* Tokens
      const { token } = yield* tokens.issue({ userId: 7 as UserId, role: "ORGANIZER" })
      expect(yield* tokens.verify(token)).toEqual({ userId: 7, role: "ORGANIZER" })
      yield* TestClock.adjust("61 seconds")
      const expired = yield* Effect.flip(tokens.verify(token))
      expect(expired).toMatchObject({ _tag: "Unauthorized", message: "Token expired" })
    })
  )

  test(
    "a tampered token is refused",
    Effect.gen(function*() {
      const tokens = yield* Tokens
      const { token } = yield* tokens.issue({ userId: 7 as UserId, role: "CUSTOMER" })
      const [header, , signature] = token.split(".")
      const forgedPayload = Buffer.from(JSON.stringify({ sub: "7", role: "ORGANIZER", iat: NOW / 1000, exp: NOW / 1000 + 60 })).toString(
        "base64url"
      )
      const error = yield* Effect.flip(tokens.verify(`${header}.${forgedPayload}.${signature}`))
      expect(error).toMatchObject({ _tag: "Unauthorized", message: "Invalid token" })
    })
  )
})

describe("Events", () => {
  test(
    "a date that is not in the future is refused",
    Effect.gen(function*() {
      const organizer = yield* user("ORGANIZER")
      const error = yield* Effect.flip(anEvent(organizer.id, -1))
      expect(error).toMatchObject({ _tag: "ValidationError", message: "date: must be in the future" })
    })
  )

  test(
    "only the owner may update or cancel",
    Effect.gen(function*() {
      const events = yield* Events
      const owner = yield* user("ORGANIZER")
      const other = yield* user("ORGANIZER", "other@example.com")
      const event = yield* anEvent(owner.id)
      const asOther = { id: other.id, role: "ORGANIZER" as const }
      expect((yield* Effect.flip(events.update(asOther, event.id, { title: "Mine now" })))._tag).toBe("Forbidden")
      expect((yield* Effect.flip(events.cancel(asOther, event.id)))._tag).toBe("Forbidden")
      expect(yield* jobs).toEqual([])
    })
  )

  test(
    "a cancelled event cannot be updated; cancelling enqueues EventCancelled",
    Effect.gen(function*() {
      const events = yield* Events
      const owner = yield* user("ORGANIZER")
      const event = yield* anEvent(owner.id)
      const asOwner = { id: owner.id, role: "ORGANIZER" as const }
      yield* events.cancel(asOwner, event.id)
      expect((yield* Effect.flip(events.update(asOwner, event.id, { title: "x" })))._tag).toBe("EventNotFound")
      expect(yield* jobs).toEqual([{
        _tag: "EventCancelled",
        eventId: event.id,
        event: { title: event.title, date: event.date, location: event.location }
      }])
    })
  )

  test(
    "an update that changes nothing enqueues nothing",
    Effect.gen(function*() {
      const events = yield* Events
      const owner = yield* user("ORGANIZER")
      const event = yield* anEvent(owner.id)
      yield* events.update({ id: owner.id, role: "ORGANIZER" }, event.id, { title: event.title })
      expect(yield* jobs).toEqual([])
    })
  )
})

describe("Bookings", () => {
  test(
    "more than MAX_TICKETS_PER_BOOKING is a ValidationError and enqueues nothing",
    Effect.gen(function*() {
      const owner = yield* user("ORGANIZER")
      const customer = yield* user("CUSTOMER")
      const event = yield* anEvent(owner.id)
      const error = yield* Effect.flip(Effect.flatMap(Bookings, (b) => b.book(customer.id, { eventId: event.id, ticketsCount: 11 })))
      expect(error).toMatchObject({ _tag: "ValidationError", message: "ticketsCount: must be at most 10 per booking" })
      expect(yield* jobs).toEqual([])
    })
  )

  test(
    "an event that has started can no longer be booked",
    Effect.gen(function*() {
      const owner = yield* user("ORGANIZER")
      const customer = yield* user("CUSTOMER")
      const event = yield* anEvent(owner.id, 2)
      yield* TestClock.adjust("3 hours")
      const error = yield* Effect.flip(Effect.flatMap(Bookings, (b) => b.book(customer.id, { eventId: event.id, ticketsCount: 1 })))
      expect(error._tag).toBe("EventAlreadyStarted")
      expect(yield* jobs).toEqual([])
    })
  )

  test(
    "booking takes the tickets and enqueues one confirmation; too many says how many are left",
    Effect.gen(function*() {
      const bookings = yield* Bookings
      const owner = yield* user("ORGANIZER")
      const customer = yield* user("CUSTOMER")
      const event = yield* anEvent(owner.id, 24, 3)
      const booking = yield* bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 })
      expect(booking.event.availableTickets).toBe(1)
      const error = yield* Effect.flip(bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 }))
      expect(error).toMatchObject({ _tag: "NotEnoughTickets", available: 1 })
      expect((yield* jobs).map((job) => job._tag)).toEqual(["BookingsConfirmed"])
      expect(confirmedBookings(yield* jobs)).toEqual([
        { bookingId: booking.id, userId: customer.id, eventId: event.id, ticketsCount: 2 }
      ])
      expect((yield* bookings.listMine(customer.id, { limit: 20, offset: 0 })).items.map((b) => b.id)).toEqual([booking.id])
    })
  )

  test(
    "a booking's Idempotency id books once: a repeat (alone or in one batch) answers the same booking",
    Effect.gen(function*() {
      const bookings = yield* Bookings
      const owner = yield* user("ORGANIZER")
      const customer = yield* user("CUSTOMER")
      const event = yield* anEvent(owner.id, 24, 10)
      const id = randomUUID() as IdempotencyId
      const first = yield* bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 }, id)
      expect((yield* bookings.book(customer.id, { eventId: event.id, ticketsCount: 2 }, id)).id).toBe(first.id)
      const again = randomUUID() as IdempotencyId
      const batch = yield* bookBatch(
        event.id,
        [id, again, again].map((idempotencyId) => ({ userId: customer.id, ticketsCount: 1, idempotencyId }))
      )
      const [repeat, made, sameAgain] = batch.map(Either.getOrThrow)
      expect(repeat).toBe(first.id)
      expect(sameAgain).toBe(made)
      expect((yield* bookings.listMine(customer.id, { limit: 20, offset: 0 })).items.map((b) => b.id).sort()).toEqual(
        [first.id, made].sort()
      )
      // Confirmations name that one booking only (the delivery log sends one email per booking).
      const confirmed = confirmedBookings(yield* jobs).map((booking) => booking.bookingId)
      expect(new Set(confirmed)).toEqual(new Set([first.id]))
    })
  )
})
