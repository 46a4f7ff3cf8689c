/**
 * Tickets coming back, through the services over in-memory layers with a test clock: every
 * transition of bookings (cancel, give back), holds (place, confirm, release, expire by job, by
 * sweep, by the next batch), the waiting list (join, leave, offers, offers passing on), the
 * per-customer limit and the sales window; and the emails those changes send.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Ref, TestClock } from "effect"
import { Accounts } from "../../src/Accounts/Accounts.ts"
import { Passwords } from "../../src/Accounts/Passwords.ts"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import { JobProcessorLive } from "../../src/Background.ts"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { Events } from "../../src/Events/Events.ts"
import { Holds } from "../../src/Holds/Holds.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { HoldSweepLive } from "../../src/Inventory/Sweep.ts"
import type { Job } from "../../src/Jobs.ts"
import { JobProcessor } from "../../src/Jobs/JobProcessor.ts"
import { EnqueuedJobs, JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Deliveries } from "../../src/Notifications/Deliveries.ts"
import { Mailer, SentMail } from "../../src/Notifications/Mailer.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { Waitlist } from "../../src/Waitlist/Waitlist.ts"
import { WebhookSender } from "../../src/Webhooks/WebhookSender.ts"

const TTL_SECONDS = 600
const SWEEP_SECONDS = 30

const ServicesTest = (options: { readonly sweep?: boolean; readonly limit?: number } = {}) =>
  Layer.mergeAll(
    Accounts.layer,
    Events.layer,
    Bookings.layer,
    Holds.layer,
    Waitlist.layer,
    JobProcessorLive,
    options.sweep ? HoldSweepLive : Layer.empty
  ).pipe(
    Layer.provideMerge(Inventory.layer),
    Layer.provideMerge(
      Layer.mergeAll(Passwords.layer, Tokens.layer, Deliveries.layerMemory, Mailer.layerMemory, WebhookSender.layerMemory())
    ),
    Layer.provideMerge(PersistenceMemory),
    Layer.provideMerge(JobQueue.layerMemory),
    Layer.provideMerge(AppConfig.layerTest({
      MAX_TICKETS_PER_CUSTOMER_PER_EVENT: options.limit ?? 10,
      HOLD_TTL_SECONDS: TTL_SECONDS,
      HOLD_SWEEP_SECONDS: SWEEP_SECONDS
    }))
  )

const NOW = Date.parse("2030-01-01T00:00:00Z")
const HOUR = 3_600_000

/** Runs with the test clock at NOW over fresh in-memory services. */
const test = <A, E>(
  name: string,
  body: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof ServicesTest>>>,
  options?: Parameters<typeof ServicesTest>[0]
) =>
  // The clock is set before the services start: a sweep started at time 0 would run once per interval up to NOW.
  it.effect(name, () => TestClock.setTime(NOW).pipe(Effect.zipRight(Effect.provide(body, ServicesTest(options)))))

let people = 0
const customer = Effect.flatMap(
  Accounts,
  (accounts) => accounts.register({ email: `c${++people}@example.com`, password: Redacted.make("correct horse battery"), role: "CUSTOMER" })
)

const anEvent = (totalTickets: number, overrides: Partial<{ salesStart: Date; salesEnd: Date; hoursAhead: number }> = {}) =>
  Effect.gen(function*() {
    const organizer = yield* Effect.flatMap(
      Accounts,
      (accounts) =>
        accounts.register({ email: `o${++people}@example.com`, password: Redacted.make("correct horse battery"), role: "ORGANIZER" })
    )
    const event = yield* Effect.flatMap(Events, (events) =>
      events.create({ id: organizer.id, role: "ORGANIZER" }, {
        title: "Tech Conf",
        description: "",
        date: new Date(NOW + (overrides.hoursAhead ?? 24) * HOUR),
        location: "Hall",
        totalTickets,
        ...(overrides.salesStart ? { salesStart: overrides.salesStart } : {}),
        ...(overrides.salesEnd ? { salesEnd: overrides.salesEnd } : {})
      }))
    return { ...event, organizer: { id: organizer.id, role: "ORGANIZER" as const } }
  })

const book = (userId: UserId, eventId: EventId, ticketsCount: number) =>
  Effect.flatMap(Bookings, (b) => b.book(userId, { eventId, ticketsCount }))
const hold = (userId: UserId, eventId: EventId, ticketsCount: number) =>
  Effect.flatMap(Holds, (h) => h.place(userId, { eventId, ticketsCount }))
const join = (userId: UserId, eventId: EventId, ticketsCount: number) =>
  Effect.flatMap(Waitlist, (w) => w.join(userId, eventId, { ticketsCount }))
/** Tickets left, as a booking of one would see them (a later batch: due holds expire first). */
const left = (eventId: EventId) =>
  Effect.flatMap(Inventory, (inventory) => inventory.applyWithin(eventId, [{ _tag: "Refresh" }])).pipe(
    Effect.map((r) => r.availableTickets)
  )
const jobs = <T extends Job["_tag"]>(tag: T) =>
  Effect.map(Effect.flatMap(EnqueuedJobs, Ref.get), (all) => all.filter((job): job is Extract<Job, { _tag: T }> => job._tag === tag))
const perform = (job: Job) => Effect.flatMap(JobProcessor, (processor) => processor.process(`job-${job._tag}`, job))
const mails = Effect.flatMap(SentMail, Ref.get)

describe("cancelling a booking", () => {
  test(
    "DELETE: the booking is CANCELLED at once with cancelledAt, its tickets back, one cancellation job",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const booking = yield* book(ann.id, event.id, 4)
      yield* TestClock.adjust("1 hour")
      const cancelled = yield* Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id))
      expect(cancelled).toMatchObject({ id: booking.id, status: "CANCELLED", ticketsCount: 4, event: { availableTickets: 10 } })
      expect(cancelled.cancelledAt).toEqual(new Date(NOW + HOUR))
      expect(yield* jobs("BookingCancelled")).toEqual([
        { _tag: "BookingCancelled", bookingId: booking.id, userId: ann.id, eventId: event.id, ticketsCancelled: 4, ticketsLeft: 0 }
      ])
      // My bookings show both states.
      yield* book(ann.id, event.id, 1)
      const mine = (yield* Effect.flatMap(Bookings, (b) => b.listMine(ann.id, { limit: 20, offset: 0 }))).items
      expect(mine.map((b) => [b.status, b.cancelledAt === null])).toEqual([["CONFIRMED", true], ["CANCELLED", false]])
    })
  )

  test(
    "again: BookingAlreadyCancelled; someone else's or an unknown one: BookingNotFound; nothing changes",
    Effect.gen(function*() {
      const [ann, bob] = [yield* customer, yield* customer]
      const event = yield* anEvent(10)
      const booking = yield* book(ann.id, event.id, 2)
      const cancel = (userId: UserId, id: number) => Effect.flip(Effect.flatMap(Bookings, (b) => b.cancel(userId, id as never)))
      expect((yield* cancel(bob.id, booking.id))._tag).toBe("BookingNotFound")
      expect((yield* cancel(ann.id, 999_999))._tag).toBe("BookingNotFound")
      yield* Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id))
      expect(yield* cancel(ann.id, booking.id)).toMatchObject({
        _tag: "BookingAlreadyCancelled",
        message: `Booking ${booking.id} is already cancelled`
      })
      expect(yield* left(event.id)).toBe(10)
      expect(yield* jobs("BookingCancelled")).toHaveLength(1)
    })
  )

  test(
    "once the event has started: EventAlreadyStarted, the booking stays",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10, { hoursAhead: 2 })
      const booking = yield* book(ann.id, event.id, 2)
      yield* TestClock.adjust("2 hours")
      const error = yield* Effect.flip(Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id)))
      expect(error._tag).toBe("EventAlreadyStarted")
      const error2 = yield* Effect.flip(Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, booking.id, { ticketsCount: 1 })))
      expect(error2._tag).toBe("EventAlreadyStarted")
      expect((yield* Effect.flatMap(Bookings, (b) => b.listMine(ann.id, { limit: 20, offset: 0 }))).items[0]).toMatchObject({
        status: "CONFIRMED",
        ticketsCount: 2
      })
    })
  )

  test(
    "PATCH gives some back: the booking keeps n, the rest return; n not below the current count is a ValidationError",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const booking = yield* book(ann.id, event.id, 5)
      const change = (ticketsCount: number) => Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, booking.id, { ticketsCount }))
      expect(yield* change(2)).toMatchObject({
        id: booking.id,
        status: "CONFIRMED",
        ticketsCount: 2,
        cancelledAt: null,
        event: { availableTickets: 8 }
      })
      expect((yield* jobs("BookingCancelled")).at(-1)).toMatchObject({ ticketsCancelled: 3, ticketsLeft: 2 })
      for (const n of [2, 3]) {
        expect(yield* Effect.flip(change(n))).toMatchObject({
          _tag: "ValidationError",
          message: "ticketsCount: must be less than the booking's 2 tickets (to cancel it all, DELETE the booking)"
        })
      }
      yield* Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id))
      expect((yield* Effect.flip(change(1)))._tag).toBe("BookingAlreadyCancelled")
      expect(yield* left(event.id)).toBe(10)
    })
  )
})

describe("holds", () => {
  test(
    "a hold takes its tickets at once and expires HOLD_TTL_SECONDS later; confirming makes a booking",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const held = yield* hold(ann.id, event.id, 3)
      expect(held).toMatchObject({ eventId: event.id, ticketsCount: 3, status: "HELD", expiresAt: new Date(NOW + TTL_SECONDS * 1000) })
      expect(yield* left(event.id)).toBe(7)
      expect(yield* jobs("HoldExpiry")).toEqual([{ _tag: "HoldExpiry", holdId: held.id, eventId: event.id, expiresAt: held.expiresAt }])
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))).toEqual([held])

      const booking = yield* Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id))
      expect(booking).toMatchObject({
        userId: ann.id,
        eventId: event.id,
        ticketsCount: 3,
        status: "CONFIRMED",
        event: { availableTickets: 7 }
      })
      expect((yield* jobs("BookingsConfirmed")).flatMap((job) => job.bookings.map((confirmed) => confirmed.bookingId))).toEqual([
        booking.id
      ])
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))).toEqual([])
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id))))._tag).toBe("HoldAlreadyConfirmed")
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.release(ann.id, held.id))))._tag).toBe("HoldAlreadyConfirmed")
      // Its expiry job, when it runs, finds nothing to do.
      yield* TestClock.adjust(`${TTL_SECONDS} seconds`)
      yield* perform((yield* jobs("HoldExpiry"))[0]!)
      expect(yield* left(event.id)).toBe(7)
    })
  )

  test(
    "released: tickets back at once; then confirm or release is HoldNotFound; someone else's hold is not found",
    Effect.gen(function*() {
      const [ann, bob] = [yield* customer, yield* customer]
      const event = yield* anEvent(10)
      const held = yield* hold(ann.id, event.id, 4)
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.release(bob.id, held.id))))._tag).toBe("HoldNotFound")
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.confirm(bob.id, held.id))))._tag).toBe("HoldNotFound")
      yield* Effect.flatMap(Holds, (h) => h.release(ann.id, held.id))
      expect(yield* left(event.id)).toBe(10)
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id))))._tag).toBe("HoldNotFound")
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.release(ann.id, held.id))))._tag).toBe("HoldNotFound")
    })
  )

  test(
    "expired by its delayed job: tickets back; confirming then is HoldExpired; the job run early waits its turn",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const held = yield* hold(ann.id, event.id, 4)
      const [expiry] = yield* jobs("HoldExpiry")
      yield* TestClock.adjust(`${TTL_SECONDS - 1} seconds`)
      expect(yield* Effect.flip(perform(expiry!))).toMatchObject({ _tag: "JobNotReady" }) // BullMQ retries it
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      yield* perform(expiry!)
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))).toEqual([])
      expect(yield* left(event.id)).toBe(10)
      expect(yield* Effect.flip(Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id)))).toMatchObject({
        _tag: "HoldExpired",
        message: `Hold ${held.id} has expired; its tickets went back on sale`
      })
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.release(ann.id, held.id))))._tag).toBe("HoldExpired")
    })
  )

  test(
    "confirming after its time is up is HoldExpired even before any job or sweep ran",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const held = yield* hold(ann.id, event.id, 4)
      yield* TestClock.adjust(`${TTL_SECONDS} seconds`)
      expect((yield* Effect.flip(Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id))))._tag).toBe("HoldExpired")
      expect(yield* book(ann.id, event.id, 10)).toMatchObject({ ticketsCount: 10 }) // the tickets came back
    })
  )

  test(
    "a hold whose job was lost is expired by the sweep within HOLD_SWEEP_SECONDS",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      yield* hold(ann.id, event.id, 6)
      yield* TestClock.adjust(`${TTL_SECONDS + SWEEP_SECONDS} seconds`)
      const store = yield* Effect.flatMap(EnqueuedJobs, Ref.get)
      expect(store.filter((job) => job._tag === "HoldExpiry")).toHaveLength(1) // never performed
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))).toEqual([])
      const mine = yield* Effect.flatMap(Bookings, (b) => b.book(ann.id, { eventId: event.id, ticketsCount: 10 }))
      expect(mine.event.availableTickets).toBe(0)
    }),
    { sweep: true }
  )
})

describe("the waiting list", () => {
  test(
    "only when fewer tickets are left than asked; one open entry per customer; positions in order; leaving",
    Effect.gen(function*() {
      const [ann, bob, cat] = [yield* customer, yield* customer, yield* customer]
      const event = yield* anEvent(5)
      yield* book(ann.id, event.id, 3)
      expect(yield* Effect.flip(join(bob.id, event.id, 2))).toMatchObject({ _tag: "TicketsAvailable", available: 2 })
      expect(yield* join(bob.id, event.id, 3)).toMatchObject({
        eventId: event.id,
        ticketsCount: 3,
        position: 1,
        status: "WAITING",
        holdId: null
      })
      expect(yield* join(cat.id, event.id, 4)).toMatchObject({ position: 2, status: "WAITING" })
      expect((yield* Effect.flip(join(bob.id, event.id, 5)))._tag).toBe("AlreadyOnWaitlist")
      yield* Effect.flatMap(Waitlist, (w) => w.leave(bob.id, event.id))
      expect((yield* Effect.flip(Effect.flatMap(Waitlist, (w) => w.leave(bob.id, event.id))))._tag).toBe("NotOnWaitlist")
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(cat.id))).toMatchObject([{ position: 1, ticketsCount: 4 }])
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(bob.id))).toEqual([])
    })
  )

  test(
    "tickets that come back go to the first entries whose group fits, as holds, with an email; confirming books them",
    Effect.gen(function*() {
      const [ann, bob, cat, dan] = [yield* customer, yield* customer, yield* customer, yield* customer]
      const event = yield* anEvent(6)
      const annBooking = yield* book(ann.id, event.id, 6)
      yield* join(bob.id, event.id, 4) // too big for what comes back first
      yield* join(cat.id, event.id, 2)
      yield* join(dan.id, event.id, 1)
      yield* Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, annBooking.id, { ticketsCount: 3 })) // 3 back

      const [bobs, cats, dans] = yield* Effect.forEach([bob, cat, dan], (c) => Effect.flatMap(Waitlist, (w) => w.listMine(c.id)))
      expect(bobs).toMatchObject([{ status: "WAITING", holdId: null, position: 1 }])
      expect(cats).toMatchObject([{ status: "OFFERED", position: 2 }])
      expect(dans).toMatchObject([{ status: "OFFERED", position: 3 }])
      const [catHold] = yield* Effect.flatMap(Holds, (h) => h.listMine(cat.id))
      expect(catHold).toMatchObject({ id: cats[0]!.holdId, ticketsCount: 2, expiresAt: new Date(NOW + TTL_SECONDS * 1000) })
      expect(yield* left(event.id)).toBe(0)
      const offers = yield* jobs("WaitlistOffer")
      expect(offers.map((job) => [job.userId, job.ticketsCount])).toEqual([[cat.id, 2], [dan.id, 1]])

      yield* perform(offers[0]!)
      const [mail] = (yield* mails).filter((m) => m.subject === "Tickets for you: Tech Conf")
      expect(mail!.to).toBe(cat.email)
      expect(mail!.text).toContain(`Hold: #${catHold!.id}`)
      expect(mail!.text).toContain(`POST /api/holds/${catHold!.id}/confirm`)

      const booking = yield* Effect.flatMap(Holds, (h) => h.confirm(cat.id, catHold!.id))
      expect(booking).toMatchObject({ userId: cat.id, ticketsCount: 2, status: "CONFIRMED" })
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(cat.id))).toEqual([])
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(bob.id))).toMatchObject([{ position: 1 }]) // Dan's entry is second now
    })
  )

  test(
    "an offer that expires passes to the next entry that fits",
    Effect.gen(function*() {
      const [ann, bob, cat] = [yield* customer, yield* customer, yield* customer]
      const event = yield* anEvent(4)
      const annBooking = yield* book(ann.id, event.id, 4)
      yield* join(bob.id, event.id, 2)
      yield* join(cat.id, event.id, 2)
      yield* Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, annBooking.id, { ticketsCount: 2 }))
      expect((yield* jobs("WaitlistOffer")).map((job) => job.userId)).toEqual([bob.id])
      yield* TestClock.adjust(`${TTL_SECONDS} seconds`)
      yield* perform((yield* jobs("HoldExpiry")).at(-1)!)
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(bob.id))).toEqual([]) // had its chance
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(cat.id))).toMatchObject([{ status: "OFFERED", position: 1 }])
      expect((yield* jobs("WaitlistOffer")).map((job) => job.userId)).toEqual([bob.id, cat.id])
      // The expired offer's email, if its job runs late, is not sent.
      yield* perform((yield* jobs("WaitlistOffer"))[0]!)
      expect(yield* mails).toEqual([])
    })
  )

  test(
    "leaving with an open offer releases it, and the tickets go to the next entry",
    Effect.gen(function*() {
      const [ann, bob, cat] = [yield* customer, yield* customer, yield* customer]
      const event = yield* anEvent(3)
      const annBooking = yield* book(ann.id, event.id, 3)
      yield* join(bob.id, event.id, 1)
      yield* join(cat.id, event.id, 1)
      yield* Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, annBooking.id, { ticketsCount: 2 }))
      yield* Effect.flatMap(Waitlist, (w) => w.leave(bob.id, event.id))
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(bob.id))).toEqual([])
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(cat.id))).toMatchObject([{ ticketsCount: 1 }])
    })
  )

  test(
    "a big group passed over three times stops the line: returned tickets are kept for it until it fits",
    Effect.gen(function*() {
      const people = yield* Effect.forEach([1, 2, 3, 4, 5], () => customer)
      const [big, ...small] = people
      const event = yield* anEvent(10)
      const seller = yield* customer
      const sold = yield* Effect.forEach([1, 2, 3, 4, 5], () => book(seller.id, event.id, 2))
      yield* join(big!.id, event.id, 4)
      for (const c of small) yield* join(c.id, event.id, 1)
      const giveBack = (i: number) => Effect.flatMap(Bookings, (b) => b.changeTickets(seller.id, sold[i]!.id, { ticketsCount: 1 }))
      for (const i of [0, 1, 2]) yield* giveBack(i) // one ticket each: three small entries get offers past the big group
      expect(yield* Effect.forEach(small, (c) => Effect.map(Effect.flatMap(Waitlist, (w) => w.listMine(c.id)), (e) => e[0]!.status)))
        .toEqual(["OFFERED", "OFFERED", "OFFERED", "WAITING"])
      yield* giveBack(3) // the big group now stops the line: this ticket is kept for it, not offered to the last small entry
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(small[3]!.id))).toMatchObject([{ status: "WAITING" }])
      expect(yield* left(event.id)).toBe(0)
      expect((yield* Effect.flip(book(seller.id, event.id, 1)))._tag).toBe("NotEnoughTickets")
      yield* Effect.flatMap(Bookings, (b) => b.cancel(seller.id, sold[4]!.id)) // 2 more: 3 kept
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(big!.id))).toEqual([])
      yield* Effect.flatMap(Bookings, (b) => b.cancel(seller.id, sold[0]!.id)) // 1 more: 4, the whole group
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(big!.id))).toMatchObject([{ ticketsCount: 4 }])
      expect(yield* Effect.flatMap(Waitlist, (w) => w.listMine(big!.id))).toMatchObject([{ status: "OFFERED" }])
    }),
    { limit: 100 }
  )

  test(
    "an organizer adding tickets offers them to the waiting list first, in the same change",
    Effect.gen(function*() {
      const [ann, bob] = [yield* customer, yield* customer]
      const event = yield* anEvent(2)
      yield* book(ann.id, event.id, 2)
      yield* join(bob.id, event.id, 2)
      const updated = yield* Effect.flatMap(Events, (events) => events.update(event.organizer, event.id, { totalTickets: 5 }))
      expect(updated).toMatchObject({ totalTickets: 5, availableTickets: 1 })
      expect(yield* Effect.flatMap(Holds, (h) => h.listMine(bob.id))).toMatchObject([{ ticketsCount: 2 }])
    })
  )
})

describe("limits", () => {
  test(
    "per customer and event: bookings, holds and waiting entries count together; CustomerLimitReached says what is left",
    Effect.gen(function*() {
      const [ann, bob] = [yield* customer, yield* customer]
      const event = yield* anEvent(12)
      yield* book(ann.id, event.id, 3)
      yield* hold(ann.id, event.id, 2)
      expect(yield* Effect.flip(book(ann.id, event.id, 2))).toMatchObject({ _tag: "CustomerLimitReached", limit: 6, remaining: 1 })
      expect((yield* Effect.flip(hold(ann.id, event.id, 2)))._tag).toBe("CustomerLimitReached")
      yield* book(ann.id, event.id, 1)
      yield* book(bob.id, event.id, 6)
      expect(yield* Effect.flip(join(ann.id, event.id, 1))).toMatchObject({ _tag: "CustomerLimitReached", remaining: 0 })
      // Giving tickets back makes room again.
      const [annHold] = yield* Effect.flatMap(Holds, (h) => h.listMine(ann.id))
      yield* Effect.flatMap(Holds, (h) => h.release(ann.id, annHold!.id))
      expect(yield* hold(ann.id, event.id, 2)).toMatchObject({ ticketsCount: 2 })
    }),
    { limit: 6 }
  )

  test(
    "the sales window: before salesStart and from salesEnd, SalesClosed for booking, holding and waiting; a hold made in time may still be confirmed",
    Effect.gen(function*() {
      const ann = yield* customer
      const salesEnd = new Date(NOW + HOUR + 5 * 60_000)
      const event = yield* anEvent(10, { salesStart: new Date(NOW + HOUR), salesEnd, hoursAhead: 24 })
      expect(event).toMatchObject({ salesStart: new Date(NOW + HOUR), salesEnd })
      expect(yield* Effect.flip(book(ann.id, event.id, 1))).toMatchObject({
        _tag: "SalesClosed",
        message: `Sales for event ${event.id} open at 2030-01-01T01:00:00.000Z`
      })
      expect((yield* Effect.flip(hold(ann.id, event.id, 1)))._tag).toBe("SalesClosed")
      yield* TestClock.adjust("1 hour")
      yield* book(ann.id, event.id, 1)
      const held = yield* hold(ann.id, event.id, 2)
      yield* TestClock.adjust("5 minutes") // sales closed, the hold (ten minutes) still open
      expect(yield* Effect.flip(book(ann.id, event.id, 1))).toMatchObject({
        _tag: "SalesClosed",
        message: expect.stringContaining("closed at")
      })
      expect((yield* Effect.flip(join(ann.id, event.id, 10)))._tag).toBe("SalesClosed")
      expect(yield* Effect.flatMap(Holds, (h) => h.confirm(ann.id, held.id))).toMatchObject({ ticketsCount: 2 })
    })
  )

  test(
    "a sales window must open before it closes and before the event; null removes a bound",
    Effect.gen(function*() {
      const event = yield* anEvent(10, { salesEnd: new Date(NOW + 2 * HOUR) })
      const update = (changes: Parameters<Events["Type"]["update"]>[2]) =>
        Effect.flatMap(Events, (events) => events.update(event.organizer, event.id, changes))
      expect(yield* Effect.flip(update({ salesStart: new Date(NOW + 2 * HOUR) }))).toMatchObject({
        message: "salesEnd: must be after salesStart"
      })
      expect(yield* Effect.flip(update({ salesEnd: null, salesStart: new Date(NOW + 24 * HOUR) }))).toMatchObject({
        message: "salesStart: must be before the event's date"
      })
      expect(yield* update({ salesEnd: null, salesStart: new Date(NOW + HOUR) })).toMatchObject({
        salesStart: new Date(NOW + HOUR),
        salesEnd: null
      })
    })
  )
})

describe("emails", () => {
  test(
    "a cancellation and a partial one each mail the customer once",
    Effect.gen(function*() {
      const ann = yield* customer
      const event = yield* anEvent(10)
      const booking = yield* book(ann.id, event.id, 5)
      yield* Effect.flatMap(Bookings, (b) => b.changeTickets(ann.id, booking.id, { ticketsCount: 2 }))
      yield* Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id))
      for (const job of yield* jobs("BookingCancelled")) {
        yield* perform(job)
        yield* perform(job) // a retry sends nothing more
      }
      const sent = yield* mails
      expect(sent.map((m) => [m.to, m.subject])).toEqual([
        [ann.email, "Booking changed: Tech Conf"],
        [ann.email, "Booking cancelled: Tech Conf"]
      ])
      expect(sent[0]!.text).toContain("You gave back 3 tickets of your booking.")
      expect(sent[0]!.text).toContain("Tickets kept: 2")
      expect(sent[1]!.text).toContain(`Booking: #${booking.id}`)
    })
  )
})

describe("webhook announcements (the memory queue keeps them all; PostgreSQL writes them only where an endpoint listens)", () => {
  test(
    "a booking, a hold expiring, a waiting-list offer and a cancellation are announced with their rows; a customer's hold is not",
    Effect.gen(function*() {
      const [ann, bob] = [yield* customer, yield* customer]
      const event = yield* anEvent(2)
      const held = yield* hold(ann.id, event.id, 2)
      // The event, published as it was made, was announced; the customer's hold was not.
      expect((yield* jobs("Announcement")).map((a) => [a.type, a.eventId])).toEqual([["event.published", event.id]])
      const [expiry] = yield* jobs("HoldExpiry")
      yield* TestClock.adjust(`${TTL_SECONDS} seconds`)
      yield* perform(expiry!)
      const [, expired] = yield* jobs("Announcement")
      expect(expired).toMatchObject({
        eventId: event.id,
        type: "hold.expired",
        data: { hold: { id: held.id, eventId: event.id, userId: ann.id, ticketsCount: 2, status: "EXPIRED" } }
      })

      const booking = yield* book(ann.id, event.id, 2)
      yield* join(bob.id, event.id, 2)
      yield* Effect.flatMap(Bookings, (b) => b.cancel(ann.id, booking.id))
      const announced = (yield* jobs("Announcement")).slice(2)
      expect(announced.map((a) => a.type)).toEqual(["booking.created", "booking.cancelled", "waitlist.offered"])
      expect(announced[0]!.data).toEqual({
        booking: {
          id: booking.id,
          eventId: event.id,
          userId: ann.id,
          ticketsCount: 2,
          items: [{ ticketTypeId: booking.items[0]!.ticketTypeId, count: 2 }],
          status: "CONFIRMED",
          cancelledAt: null,
          createdAt: booking.createdAt.toISOString()
        }
      })
      expect(announced[1]!.data).toMatchObject({
        booking: { id: booking.id, status: "CANCELLED" },
        ticketsCancelled: 2,
        ticketsLeft: 0,
        partial: false
      })
      expect(announced[2]!.data).toMatchObject({ hold: { userId: bob.id, ticketsCount: 2, status: "HELD" } })
    })
  )
})
