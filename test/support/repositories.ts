/**
 * The repositories' contract, asserted the same way on the in-memory layers (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts): the fast tiers trust the memory layers
 * to answer as the SQL ones do, so both must pass every test here. Answers are compared by what a
 * caller sees (fields, order, totals, failures), never by ids, which the two stores number differently.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Option } from "effect"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import type { BookingId, UserId } from "../../src/Domain/Ids.ts"
import { EventsRepo, type NewEvent } from "../../src/Events/EventsRepo.ts"
import type { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { bookOne } from "./bookings.ts"

type Repositories = UsersRepo | EventsRepo | BookingsRepo | InventoryRepo

const DAY = 86_400_000
let counter = 0
/** A word no other test uses, so tests sharing one store do not see each other's rows. */
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}x${++counter}`

const aUser = (role: "ORGANIZER" | "CUSTOMER" = "CUSTOMER") =>
  Effect.flatMap(UsersRepo, (users) => users.create({ email: `${unique("contract")}@example.com`, passwordHash: "$2a$04$hash", role }))
    .pipe(Effect.orDie)

const anEvent = (organizerId: UserId, fields: Partial<NewEvent> = {}) =>
  Effect.flatMap(EventsRepo, (events) =>
    events.create({
      organizerId,
      title: "Contract",
      description: "",
      date: new Date(Date.now() + 30 * DAY),
      location: "Hall",
      totalTickets: 10,
      ...fields
    })).pipe(Effect.orDie)

export const repositoryContract = (it: Vitest.MethodsNonLive<Repositories, true>) => {
  it.effect("UsersRepo: a user is found by id and by email in any case; an email is taken once", () =>
    Effect.gen(function*() {
      const users = yield* UsersRepo
      const email = `${unique("ann")}@example.com`
      const created = yield* users.create({ email, passwordHash: "$2a$04$hash", role: "ORGANIZER" })
      expect(created).toEqual({ id: created.id, email, role: "ORGANIZER" })
      expect(yield* users.findById(created.id)).toEqual(Option.some(created))
      expect(yield* users.findByEmail(email.toUpperCase())).toEqual(Option.some({ ...created, passwordHash: "$2a$04$hash" }))
      expect(yield* users.findByEmail(`nobody-${email}`)).toEqual(Option.none())
      expect(yield* users.findById(2_000_000_000 as UserId)).toEqual(Option.none())
      const again = yield* Effect.flip(users.create({ email, passwordHash: "$2a$04$other", role: "CUSTOMER" }))
      expect(again._tag).toBe("EmailTaken")
    }))

  it.effect("EventsRepo: create answers the event findById reads back; drafts are drafts; an unknown organizer is Unauthorized", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const organizer = yield* aUser("ORGANIZER")
      const salesEnd = new Date(Date.now() + 20 * DAY)
      const event = yield* anEvent(organizer.id, { totalTickets: 7, salesEnd })
      expect(event).toMatchObject({
        title: "Contract",
        description: "",
        location: "Hall",
        totalTickets: 7,
        availableTickets: 7,
        organizerId: organizer.id,
        status: "PUBLISHED",
        salesStart: null,
        salesEnd
      })
      expect(yield* events.findById(event.id)).toEqual(Option.some(event))
      expect((yield* anEvent(organizer.id, { status: "DRAFT" })).status).toBe("DRAFT")
      const gone = yield* Effect.flip(events.create({ ...event, status: "PUBLISHED", organizerId: 2_000_000_000 as UserId }))
      expect(gone._tag).toBe("Unauthorized")
    }))

  it.effect("EventsRepo: update moves the tickets left with the capacity, never below what is sold; cancel and publish", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const organizer = yield* aUser("ORGANIZER")
      const customer = yield* aUser()
      const event = yield* anEvent(organizer.id)
      yield* bookOne({ userId: customer.id, eventId: event.id, ticketsCount: 4 })
      const updated = yield* events.update(event.id, { title: "Renamed", totalTickets: 6, salesStart: null })
      expect(updated).toMatchObject({ title: "Renamed", totalTickets: 6, availableTickets: 2, location: "Hall" })
      expect(yield* events.findById(event.id)).toEqual(Option.some(updated))
      expect(yield* Effect.flip(events.update(event.id, { totalTickets: 3 }))).toMatchObject({ _tag: "TicketsAlreadySold" })

      expect(yield* Effect.flip(events.publish(event.id))).toMatchObject({ _tag: "EventNotDraft" })
      yield* events.cancel(event.id)
      expect(Option.map(yield* events.findById(event.id), (e) => e.status)).toEqual(Option.some("CANCELLED"))
      expect(yield* Effect.flip(events.cancel(event.id))).toMatchObject({ _tag: "EventNotFound" })
      expect(yield* Effect.flip(events.update(event.id, { title: "Again" }))).toMatchObject({ _tag: "EventNotFound" })

      const draft = yield* anEvent(organizer.id, { status: "DRAFT" })
      expect(yield* events.publish(draft.id)).toMatchObject({ id: draft.id, status: "PUBLISHED" })
      const past = yield* anEvent(organizer.id, { status: "DRAFT", date: new Date(Date.now() - DAY) })
      expect(yield* Effect.flip(events.publish(past.id))).toMatchObject({ _tag: "EventAlreadyStarted" })
    }))

  it.effect("EventsRepo: the catalogue holds published events only, matches every word and sorts and pages alike", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const organizer = yield* aUser("ORGANIZER")
      const word = unique("w")
      const at = (days: number) => new Date(Date.now() + days * DAY)
      const b = yield* anEvent(organizer.id, { title: `Bravo ${word}`, date: at(3) })
      const a = yield* anEvent(organizer.id, { title: `alpha ${word}`, date: at(5), location: "Lyon" })
      const c = yield* anEvent(organizer.id, { title: `Charlie`, description: word, date: at(4), totalTickets: 50 })
      yield* anEvent(organizer.id, { title: `Draft ${word}`, status: "DRAFT" })
      const cancelled = yield* anEvent(organizer.id, { title: `Gone ${word}` })
      yield* events.cancel(cancelled.id)

      const search = (sort: "date" | "-date" | "title" | "-availableTickets", extra: { location?: string } = {}) =>
        events.search({ words: [word], upcomingOnly: true, availableOnly: false, sort, ...extra }, { limit: 10, offset: 0 })
      expect(yield* search("date")).toEqual({ total: 3, items: [b, c, a] })
      expect((yield* search("-date")).items.map((e) => e.id)).toEqual([a.id, c.id, b.id])
      expect((yield* search("title")).items.map((e) => e.id)).toEqual([a.id, b.id, c.id])
      expect((yield* search("-availableTickets")).items.map((e) => e.id)).toEqual([c.id, b.id, a.id])
      expect((yield* search("date", { location: "lyo" })).items).toEqual([a])
      expect(
        yield* events.search({ words: [word, "bravo"], upcomingOnly: true, availableOnly: false, sort: "date" }, { limit: 10, offset: 0 })
      ).toEqual({ total: 1, items: [b] })
      expect(
        yield* events.search({ words: [word], upcomingOnly: true, availableOnly: false, sort: "date" }, { limit: 1, offset: 1 })
      ).toEqual({ total: 3, items: [c] })
    }))

  it.effect("EventsRepo: an organizer's list has drafts and cancelled events too, soonest first", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const organizer = yield* aUser("ORGANIZER")
      const later = yield* anEvent(organizer.id, { date: new Date(Date.now() + 9 * DAY) })
      const draft = yield* anEvent(organizer.id, { status: "DRAFT", date: new Date(Date.now() + 2 * DAY) })
      const cancelled = yield* anEvent(organizer.id, { date: new Date(Date.now() + 5 * DAY) })
      yield* events.cancel(cancelled.id)
      const page = yield* events.listByOrganizer(organizer.id, { limit: 10, offset: 0 })
      expect(page.total).toBe(3)
      expect(page.items.map((e) => [e.id, e.status])).toEqual([[draft.id, "DRAFT"], [cancelled.id, "CANCELLED"], [later.id, "PUBLISHED"]])
      expect(yield* events.listByOrganizer(organizer.id, { limit: 1, offset: 2 })).toEqual({ total: 3, items: [later] })
    }))

  it.effect("BookingsRepo: a booking is read with its event as EventsRepo reads it; a user's bookings newest first; attendees summed", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const bookings = yield* BookingsRepo
      const organizer = yield* aUser("ORGANIZER")
      const [ann, bob] = [yield* aUser(), yield* aUser()]
      const event = yield* anEvent(organizer.id)
      const first = yield* bookOne({ userId: ann.id, eventId: event.id, ticketsCount: 2 })
      const second = yield* bookOne({ userId: ann.id, eventId: event.id, ticketsCount: 1 })
      yield* bookOne({ userId: bob.id, eventId: event.id, ticketsCount: 3 })
      const current = Option.getOrThrow(yield* events.findById(event.id))
      expect(current.availableTickets).toBe(4)

      const found = Option.getOrThrow(yield* bookings.findById(first.id))
      expect(found).toMatchObject({
        id: first.id,
        userId: ann.id,
        eventId: event.id,
        ticketsCount: 2,
        status: "CONFIRMED",
        cancelledAt: null
      })
      expect(found.event).toEqual(current)
      expect(found.createdAt).toBeInstanceOf(Date)

      const page = yield* bookings.listByUser(ann.id, { limit: 10, offset: 0 })
      expect(page.total).toBe(2)
      expect(page.items.map((booking) => booking.id)).toEqual([second.id, first.id])
      expect(page.items[0]!.event).toEqual(current)
      expect(yield* bookings.listByUser(ann.id, { limit: 1, offset: 1 })).toEqual({ total: 2, items: [found] })

      const everyone = yield* bookings.attendees(event.id, { afterUserId: 0, limit: 10 })
      expect(everyone).toEqual([{ userId: ann.id, email: ann.email, tickets: 3 }, { userId: bob.id, email: bob.email, tickets: 3 }])
      expect(yield* bookings.attendees(event.id, { afterUserId: ann.id, limit: 10 })).toEqual([everyone[1]])
      expect(yield* bookings.attendees(event.id, { afterUserId: 0, limit: 1 })).toEqual([everyone[0]])

      // What confirmations are made of: by id, with the customer's email; unknown ids are left out.
      const confirming = yield* bookings.findWithEmails([second.id, 2_000_000_000 as BookingId, first.id])
      expect(confirming).toEqual([{ booking: found, email: ann.email }, {
        booking: Option.getOrThrow(yield* bookings.findById(second.id)),
        email: ann.email
      }])
    }))
}
