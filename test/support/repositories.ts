/**
 * The repositories' contract, asserted the same way on the in-memory layers (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts): the fast tiers trust the memory layers
 * to answer as the SQL ones do, so both must pass every test here. Answers are compared by what a
 * caller sees (fields, order, totals, failures), never by ids, which the two stores number differently.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import type { BookingId, EventId, HoldId, UserId } from "../../src/Domain/Ids.ts"
import { EventsRepo, type NewEvent } from "../../src/Events/EventsRepo.ts"
import { SalesRepo } from "../../src/Events/SalesRepo.ts"
import { HoldsRepo } from "../../src/Holds/HoldsRepo.ts"
import type { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems } from "../../src/Inventory/Operation.ts"
import { TicketTypesRepo } from "../../src/TicketTypes/TicketTypesRepo.ts"
import { WaitlistRepo } from "../../src/Waitlist/WaitlistRepo.ts"
import { applyOne, bookOne, holdOne } from "./bookings.ts"
import { issueTickets, setTicketStatus } from "./tickets.ts"

type Repositories = UsersRepo | EventsRepo | SalesRepo | BookingsRepo | HoldsRepo | WaitlistRepo | InventoryRepo | TicketTypesRepo

const HOUR = 3_600_000
const DAY = 24 * HOUR
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

      // What confirmations are made of: by id, with the customer's email and tickets; unknown ids are left out.
      const ticketsOf = (id: BookingId) => Effect.map(issueTickets(id), (tickets) => tickets.map(({ code, type }) => ({ code, type })))
      const [firstTickets, secondTickets] = [yield* ticketsOf(first.id), yield* ticketsOf(second.id)]
      const confirming = yield* bookings.findWithEmails([second.id, 2_000_000_000 as BookingId, first.id])
      expect(confirming).toEqual([{ booking: found, email: ann.email, tickets: firstTickets }, {
        booking: Option.getOrThrow(yield* bookings.findById(second.id)),
        email: ann.email,
        tickets: secondTickets
      }])
    }))

  it.effect("BookingsRepo: a confirmation's tickets are the booking's not cancelled, in the order issued, each with its type's name", () =>
    Effect.gen(function*() {
      const bookings = yield* BookingsRepo
      const organizer = yield* aUser("ORGANIZER")
      const [ann, bob] = [yield* aUser(), yield* aUser()]
      const event = yield* anEvent(organizer.id)
      const types = yield* TicketTypesRepo
      const typeOf = { maxPerBooking: null, salesStart: null, salesEnd: null, priceCents: 0, quota: null }
      const vip = yield* types.create(event.id, { ...typeOf, name: "VIP" })
      const standard = yield* types.create(event.id, { ...typeOf, name: "Standard" })
      // The engine issues a ticket per ticket, in the items' order: VIP, Standard, Standard, VIP... merged by type.
      const annBooking = yield* applyOne(event.id, {
        _tag: "Book",
        userId: ann.id,
        items: [{ ticketTypeId: vip.id, count: 2 }, { ticketTypeId: standard.id, count: 2 }]
      })
      const bobBooking = yield* bookOne({ userId: bob.id, eventId: event.id, ticketsCount: 1 })
      if (annBooking._tag !== "Booking") return yield* Effect.dieMessage("not a booking")
      const annId = annBooking.booking.id as BookingId
      // Ann gives one back (her last issued, a Standard) and checks a VIP in at the door.
      yield* applyOne(event.id, { _tag: "Reduce", userId: ann.id, bookingId: annId, ticketsCount: 3 })
      const issued = yield* issueTickets(annId)
      yield* setTicketStatus(issued[1]!.code, "CHECKED_IN")
      const bobs = yield* issueTickets(bobBooking.id)

      const [annConfirmation, bobConfirmation] = yield* bookings.findWithEmails([annId, bobBooking.id])
      expect(annConfirmation!.tickets).toEqual(
        issued.filter((ticket) => ticket.status !== "CANCELLED").map(({ code, type }) => ({ code, type }))
      )
      expect(annConfirmation!.tickets.map((ticket) => ticket.type)).toEqual(["VIP", "VIP", "Standard"])
      expect(bobConfirmation!.tickets).toEqual([{ code: bobs[0]!.code, type: "General admission" }])
    }))

  it.effect("BookingsRepo: a past, cancelled or unknown event is refused and nothing changes", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const sales = yield* SalesRepo
      const organizer = yield* aUser("ORGANIZER")
      const customer = yield* aUser()
      const past = yield* anEvent(organizer.id, { date: new Date(Date.now() - DAY) })
      const cancelled = yield* anEvent(organizer.id)
      yield* events.cancel(cancelled.id)
      const book = (eventId: EventId) => Effect.flip(bookOne({ userId: customer.id, eventId, ticketsCount: 1 }))

      expect((yield* book(past.id))._tag).toBe("EventAlreadyStarted")
      expect((yield* book(cancelled.id))._tag).toBe("EventNotFound")
      expect((yield* book(2_000_000_000 as EventId))._tag).toBe("EventNotFound")
      for (const event of [past, cancelled]) {
        expect(Option.map(yield* sales.stats(event.id), (s) => [s.availableTickets, s.bookings])).toEqual(Option.some([10, 0]))
      }
    }))

  it.effect("BookingsRepo and EventsRepo: bookings of a cancelled event stay on the list; past events only when asked for", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const bookings = yield* BookingsRepo
      const organizer = yield* aUser("ORGANIZER")
      const customer = yield* aUser()
      const word = unique("p")
      const kept = yield* anEvent(organizer.id, { title: word })
      const dropped = yield* anEvent(organizer.id)
      const first = yield* bookOne({ userId: customer.id, eventId: kept.id, ticketsCount: 1 })
      const second = yield* bookOne({ userId: customer.id, eventId: dropped.id, ticketsCount: 2 })
      yield* events.cancel(dropped.id)
      const { items, total } = yield* bookings.listByUser(customer.id, { limit: 20, offset: 0 })
      expect(total).toBe(2)
      expect(items.map((b) => [b.id, b.event.status])).toEqual([[second.id, "CANCELLED"], [first.id, "PUBLISHED"]])
      expect(items[1]!.event).toMatchObject({ id: kept.id, availableTickets: 9, date: kept.date })

      const past = yield* anEvent(organizer.id, { title: word, date: new Date(Date.now() - DAY) })
      const search = (upcomingOnly: boolean) =>
        Effect.map(
          events.search({ words: [word], upcomingOnly, availableOnly: false, sort: "date" }, { limit: 10, offset: 0 }),
          (page) => page.items.map((e) => e.id)
        )
      expect(yield* search(true)).toEqual([kept.id])
      expect(yield* search(false)).toEqual([past.id, kept.id])
    }))

  it.effect("EventsRepo: more tickets are all on sale; fewer may leave none, never fewer than sold; an unknown event is EventNotFound", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const event = yield* anEvent((yield* aUser("ORGANIZER")).id)
      yield* bookOne({ userId: (yield* aUser()).id, eventId: event.id, ticketsCount: 6 })
      expect(yield* events.update(event.id, { totalTickets: 15 })).toMatchObject({ totalTickets: 15, availableTickets: 9 })
      expect(yield* events.update(event.id, { totalTickets: 6 })).toMatchObject({ totalTickets: 6, availableTickets: 0 })
      expect(yield* Effect.flip(events.update(event.id, { totalTickets: 5 }))).toMatchObject({ _tag: "TicketsAlreadySold", sold: 6 })
      expect((yield* Effect.flip(events.update(2_000_000_000 as EventId, { title: "x" })))._tag).toBe("EventNotFound")
      expect((yield* Effect.flip(events.cancel(2_000_000_000 as EventId)))._tag).toBe("EventNotFound")
    }))

  it.effect("SalesRepo: attendees in booking order, cancelled ones too, paged and streamed alike; stats count what is sold", () =>
    Effect.gen(function*() {
      const sales = yield* SalesRepo
      const organizer = yield* aUser("ORGANIZER")
      const [ann, bob, carl] = [yield* aUser(), yield* aUser(), yield* aUser()]
      const event = yield* anEvent(organizer.id)
      const first = yield* bookOne({ userId: ann.id, eventId: event.id, ticketsCount: 2 })
      const second = yield* bookOne({ userId: bob.id, eventId: event.id, ticketsCount: 3 })
      const third = yield* bookOne({ userId: ann.id, eventId: event.id, ticketsCount: 1 })
      yield* applyOne(event.id, { _tag: "Cancel", userId: bob.id, bookingId: second.id })
      yield* holdOne({ userId: carl.id, eventId: event.id, ticketsCount: 2 }, HOUR) // held, not sold
      yield* bookOne({ userId: carl.id, eventId: (yield* anEvent(organizer.id)).id, ticketsCount: 1 }) // another event's

      const [general] = yield* (yield* TicketTypesRepo).listByEvent(event.id)
      const typed = (count: number) => [{ ticketTypeId: general!.id, name: "General admission", count }]
      const page = yield* sales.attendees(event.id, { limit: 10, offset: 0 })
      expect(page.total).toBe(3)
      expect(page.items.map(({ createdAt: _, ...attendee }) => attendee)).toEqual([
        { bookingId: first.id, customerEmail: ann.email, ticketsCount: 2, status: "CONFIRMED", ticketTypes: typed(2) },
        { bookingId: second.id, customerEmail: bob.email, ticketsCount: 3, status: "CANCELLED", ticketTypes: typed(3) },
        { bookingId: third.id, customerEmail: ann.email, ticketsCount: 1, status: "CONFIRMED", ticketTypes: typed(1) }
      ])
      for (const { createdAt } of page.items) expect(createdAt).toBeInstanceOf(Date)
      expect(yield* sales.attendees(event.id, { limit: 1, offset: 1 })).toEqual({ total: 3, items: [page.items[1]] })
      expect(yield* sales.attendees(event.id, { limit: 10, offset: 3 })).toEqual({ total: 3, items: [] })
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(sales.allAttendees(event.id)))).toEqual(page.items)

      const day = (attendee: { createdAt: Date }) => attendee.createdAt.toISOString().slice(0, 10)
      const days = new Map<string, number>()
      for (const a of [page.items[0]!, page.items[2]!]) days.set(day(a), (days.get(day(a)) ?? 0) + a.ticketsCount)
      expect(yield* sales.stats(event.id)).toEqual(Option.some({
        totalTickets: 10,
        availableTickets: 5,
        soldTickets: 3,
        bookings: 2,
        cancelledBookings: 1,
        salesByDay: [...days].sort().map(([day, tickets]) => ({ day, tickets })),
        currency: "EUR",
        ticketTypes: [{
          ticketTypeId: general!.id,
          name: "General admission",
          priceCents: 0,
          sold: 3,
          held: 2,
          left: 5,
          checkedIn: 0,
          revenueCents: 0
        }]
      }))
    }))

  it.effect("SalesRepo: an event without sales has none; no event, no stats", () =>
    Effect.gen(function*() {
      const sales = yield* SalesRepo
      const event = yield* anEvent((yield* aUser("ORGANIZER")).id, { status: "DRAFT", totalTickets: 4, currency: "JPY" })
      const [general] = yield* (yield* TicketTypesRepo).listByEvent(event.id)
      expect(yield* sales.attendees(event.id, { limit: 10, offset: 0 })).toEqual({ total: 0, items: [] })
      expect(Chunk.size(yield* Stream.runCollect(sales.allAttendees(event.id)))).toBe(0)
      expect(yield* sales.stats(event.id)).toEqual(Option.some({
        totalTickets: 4,
        availableTickets: 4,
        soldTickets: 0,
        bookings: 0,
        cancelledBookings: 0,
        salesByDay: [],
        currency: "JPY",
        ticketTypes: [{
          ticketTypeId: general!.id,
          name: "General admission",
          priceCents: 0,
          sold: 0,
          held: 0,
          left: 4,
          checkedIn: 0,
          revenueCents: 0
        }]
      }))
      expect(yield* sales.stats(2_000_000_000 as EventId)).toEqual(Option.none())
    }))

  it.effect("HoldsRepo: a user's open holds, soonest to expire first; ended, expired, others' and cancelled events' holds left out", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const holds = yield* HoldsRepo
      const organizer = yield* aUser("ORGANIZER")
      const [ann, bob] = [yield* aUser(), yield* aUser()]
      const [event, other, doomed] = [yield* anEvent(organizer.id), yield* anEvent(organizer.id), yield* anEvent(organizer.id)]
      const mine = (eventId: EventId, ticketsCount: number, ttlMs: number) => holdOne({ userId: ann.id, eventId, ticketsCount }, ttlMs)

      const later = yield* mine(event.id, 2, 2 * HOUR)
      const sooner = yield* mine(other.id, 1, HOUR)
      const lapsed = yield* mine(other.id, 1, 0)
      const released = yield* mine(event.id, 1, HOUR)
      yield* applyOne(event.id, { _tag: "Release", userId: ann.id, holdId: released.id })
      const confirmed = yield* mine(event.id, 1, HOUR)
      yield* applyOne(event.id, { _tag: "Confirm", userId: ann.id, holdId: confirmed.id })
      yield* mine(doomed.id, 1, HOUR)
      yield* events.cancel(doomed.id)
      yield* holdOne({ userId: bob.id, eventId: event.id, ticketsCount: 1 }, HOUR)

      const open = yield* holds.listOpenByUser(ann.id)
      // (items: the ticket-types suite's)
      expect(open.map(({ createdAt: _, expiresAt: __, items: ___, ...hold }) => hold)).toEqual([
        { id: sooner.id, eventId: other.id, ticketsCount: 1, status: "HELD" },
        { id: later.id, eventId: event.id, ticketsCount: 2, status: "HELD" }
      ])
      expect(open[0]!.createdAt).toBeInstanceOf(Date)
      expect(open[0]!.expiresAt.getTime()).toBeLessThan(open[1]!.expiresAt.getTime())

      const record = Option.getOrThrow(yield* holds.findById(later.id as HoldId))
      expect(record).toEqual({
        id: later.id,
        userId: ann.id,
        eventId: event.id,
        ticketsCount: 2,
        status: "HELD",
        expiresAt: open[1]!.expiresAt,
        event: Option.getOrThrow(yield* events.findById(event.id))
      })
      const statusOf = (id: number) => Effect.map(holds.findById(id as HoldId), Option.map((hold) => hold.status))
      expect(yield* statusOf(released.id)).toEqual(Option.some("RELEASED"))
      expect(yield* statusOf(confirmed.id)).toEqual(Option.some("CONFIRMED"))
      yield* applyOne(other.id, { _tag: "Refresh" }) // expires what is due
      expect(yield* statusOf(lapsed.id)).toEqual(Option.some("EXPIRED"))
      expect(yield* holds.findById(2_000_000_000 as HoldId)).toEqual(Option.none())
      expect(yield* holds.listOpenByUser(organizer.id)).toEqual([])
    }))

  it.effect("WaitlistRepo: a user's open entries with their place in line and offer; those who left and cancelled events left out", () =>
    Effect.gen(function*() {
      const events = yield* EventsRepo
      const holds = yield* HoldsRepo
      const waitlist = yield* WaitlistRepo
      const organizer = yield* aUser("ORGANIZER")
      const [ann, bob, carl, dave] = [yield* aUser(), yield* aUser(), yield* aUser(), yield* aUser()]
      const event = yield* anEvent(organizer.id, { totalTickets: 2 })
      const doomed = yield* anEvent(organizer.id, { totalTickets: 1 })
      const sold = yield* bookOne({ userId: ann.id, eventId: event.id, ticketsCount: 2 })
      yield* bookOne({ userId: ann.id, eventId: doomed.id, ticketsCount: 1 })
      const join = (userId: UserId, eventId: EventId, ticketsCount: number) =>
        applyOne(eventId, { _tag: "Join", userId, items: defaultItems(ticketsCount) })
      yield* join(carl.id, doomed.id, 1) // first in another event's line: not ahead of anyone in this one
      yield* join(bob.id, event.id, 1)
      yield* join(carl.id, event.id, 2)
      yield* join(dave.id, event.id, 1)
      yield* join(bob.id, doomed.id, 1)
      yield* events.cancel(doomed.id)

      const entriesOf = (userId: UserId) =>
        Effect.map(waitlist.listOpenByUser(userId), (entries) => entries.map(({ id: _, items: __, ...entry }) => entry))
      expect(yield* entriesOf(bob.id)).toEqual([{ eventId: event.id, ticketsCount: 1, status: "WAITING", position: 1, holdId: null }])
      expect(yield* entriesOf(dave.id)).toEqual([{ eventId: event.id, ticketsCount: 1, status: "WAITING", position: 3, holdId: null }])
      yield* applyOne(event.id, { _tag: "Leave", userId: carl.id })
      expect(yield* entriesOf(carl.id)).toEqual([])
      expect((yield* entriesOf(dave.id))[0]!.position).toBe(2)

      // Tickets back on sale are offered down the line: each offer is a hold, until confirmed or let go.
      yield* applyOne(event.id, { _tag: "Cancel", userId: ann.id, bookingId: sold.id })
      const [offer] = yield* holds.listOpenByUser(bob.id)
      expect(offer).toMatchObject({ eventId: event.id, ticketsCount: 1, status: "HELD" })
      expect(yield* entriesOf(bob.id)).toEqual([{ eventId: event.id, ticketsCount: 1, status: "OFFERED", position: 1, holdId: offer!.id }])
      expect((yield* entriesOf(dave.id))[0]).toMatchObject({ status: "OFFERED", position: 2 })
      yield* applyOne(event.id, { _tag: "Confirm", userId: bob.id, holdId: offer!.id })
      expect(yield* entriesOf(bob.id)).toEqual([])
      expect((yield* entriesOf(dave.id))[0]).toMatchObject({ status: "OFFERED", position: 1 })
      expect(yield* waitlist.listOpenByUser(ann.id)).toEqual([])
    }))
}
