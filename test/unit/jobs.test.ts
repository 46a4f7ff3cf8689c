/** Job processing over in-memory layers: the jobs real flows enqueue, run as a worker would, judged by the mail sent. */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Redacted, Ref, TestClock } from "effect"
import parsePrometheusTextFormat from "parse-prometheus-text-format"
import { Accounts } from "../../src/Accounts/Accounts.ts"
import { Passwords } from "../../src/Accounts/Passwords.ts"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import { JobProcessorLive } from "../../src/Background.ts"
import { Bookings } from "../../src/Bookings/Bookings.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import type { BookingId, EventId, UserId } from "../../src/Domain/Ids.ts"
import type { Role } from "../../src/Domain/Role.ts"
import { Events } from "../../src/Events/Events.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import type { Job } from "../../src/Jobs.ts"
import { JobProcessor } from "../../src/Jobs/JobProcessor.ts"
import { EnqueuedJobs, JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Deliveries } from "../../src/Notifications/Deliveries.ts"
import { drawMail } from "../../src/Notifications/Drawings.ts"
import * as Emails from "../../src/Notifications/Emails.ts"
import { Mailer, MailError, SentMail } from "../../src/Notifications/Mailer.ts"
import { ATTENDEE_BATCH } from "../../src/Notifications/NotificationJobs.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { MemoryStore } from "../../src/Storage/MemoryStore.ts"
import { scrape } from "../../src/Telemetry/Prometheus.ts"
import { TicketTypesRepo } from "../../src/TicketTypes/TicketTypesRepo.ts"
import { WebhookSender } from "../../src/Webhooks/WebhookSender.ts"
import { PNG_SIGNATURE, readCalendar, scanQr } from "../support/mailParts.ts"
import { issueTickets } from "../support/tickets.ts"

/** The in-memory mailer, except that its `call`-th send fails with MailError("down"). */
const mailerDownOnCall = (call: number) =>
  Layer.effectContext(Effect.gen(function*() {
    const memory = yield* Mailer
    const calls = yield* Ref.make(0)
    return Context.make(SentMail, yield* SentMail).pipe(Context.add(Mailer, {
      send: (mail, id) =>
        Effect.flatMap(Ref.updateAndGet(calls, (n) => n + 1), (n) =>
          n === call ? Effect.fail(new MailError({ message: "down" })) : memory.send(mail, id))
    }))
  })).pipe(Layer.provide(Mailer.layerMemory))

const JobsTest = (mailer: Layer.Layer<Mailer | SentMail> = Mailer.layerMemory) =>
  Layer.mergeAll(JobProcessorLive, Accounts.layer, Events.layer, Bookings.layer).pipe(
    Layer.provideMerge(Inventory.layer),
    Layer.provideMerge(Layer.mergeAll(Passwords.layer, Tokens.layer, Deliveries.layerMemory, mailer, WebhookSender.layerMemory())),
    Layer.provideMerge(PersistenceMemory),
    Layer.provideMerge(JobQueue.layerMemory),
    Layer.provideMerge(AppConfig.layerTest())
  )

const NOW = Date.parse("2030-01-01T00:00:00Z")
const DAY = 86_400_000

/** Runs with the test clock at NOW over fresh in-memory services, mail and delivery log. */
const test = <A, E>(
  name: string,
  body: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof JobsTest>>>,
  mailer?: Layer.Layer<Mailer | SentMail>
) => it.effect(name, () => TestClock.setTime(NOW).pipe(Effect.zipRight(body), Effect.provide(JobsTest(mailer))))

const user = (role: Role, name: string) =>
  Effect.flatMap(
    Accounts,
    (accounts) => accounts.register({ email: `${name}@example.com`, password: Redacted.make("correct horse battery"), role })
  )

const organizer = user("ORGANIZER", "org")
const asOrganizer = (id: UserId) => ({ id, role: "ORGANIZER" as const })

const anEvent = (organizerId: UserId, overrides: Partial<{ title: string; location: string }> = {}) =>
  Effect.flatMap(Events, (events) =>
    events.create(asOrganizer(organizerId), {
      title: "Tech Conf",
      description: "",
      date: new Date(NOW + 30 * DAY),
      location: "Convention Center",
      totalTickets: 1000,
      ...overrides
    }))

const book = (userId: UserId, eventId: EventId, ticketsCount: number) =>
  Effect.flatMap(Bookings, (bookings) => bookings.book(userId, { eventId, ticketsCount }))

/** Customers named `names`, each holding one ticket for the event. */
const attendees = (names: ReadonlyArray<string>, eventId: EventId) =>
  Effect.forEach(names, (name) => Effect.tap(user("CUSTOMER", name), (customer) => book(customer.id, eventId, 1)))

const updateEvent = (organizerId: UserId, eventId: EventId, changes: { title?: string; location?: string }) =>
  Effect.flatMap(Events, (events) => events.update(asOrganizer(organizerId), eventId, changes))

/** The last job of this kind that the flows enqueued. */
const enqueued = <T extends Job["_tag"]>(tag: T) =>
  Effect.map(Effect.flatMap(EnqueuedJobs, Ref.get), (jobs) => {
    const job = jobs.filter((job): job is Extract<Job, { _tag: T }> => job._tag === tag).at(-1)
    if (job === undefined) throw new Error(`no ${tag} job was enqueued`)
    return job
  })

const perform = (jobId: string, job: Job) => Effect.flatMap(JobProcessor, (processor) => processor.process(jobId, job))

const sent = Effect.flatMap(SentMail, Ref.get)
const recipients = Effect.map(sent, (mails) => mails.map((mail) => mail.to).sort())
const mailTo = (name: string) =>
  Effect.map(sent, (mails) => {
    const found = mails.filter((mail) => mail.to === `${name}@example.com`)
    expect(found).toHaveLength(1)
    return found[0]!
  })

/** What a reader of the HTML part sees: the tags dropped, whitespace collapsed. */
const visible = (html: string) => html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ")

/** `emails_<outcome>_total` for `kind`, as the metrics endpoint shows it (the registry is process-wide: compare before and after). */
const emailsCounted = (outcome: "sent" | "failed", kind: Job["_tag"]) =>
  Effect.map(scrape, (text) =>
    Number(
      parsePrometheusTextFormat(text).find((family) => family.name === `emails_${outcome}_total`)?.metrics
        .find((sample) => sample.labels?.kind === kind)?.value ?? 0
    ))

describe("BookingsConfirmed", () => {
  test(
    "mails the customer once: the booking, event and tickets; a retry or a second job id sends nothing more",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      const booking = yield* book(ann.id, event.id, 3)
      const job = yield* enqueued("BookingsConfirmed")
      yield* perform("job-1", job)

      const mail = yield* mailTo("ann")
      expect(mail.subject).toContain("Tech Conf")
      for (const body of [mail.text, visible(mail.html)]) {
        expect(body).toContain(`#${booking.id}`)
        expect(body).toContain("Tech Conf")
        expect(body).toContain("Convention Center")
      }
      expect(mail.text).toContain("Tickets: 3")
      expect(visible(mail.html)).toContain("Tickets 3")

      yield* perform("job-1", job)
      yield* perform("job-2", job)
      expect(yield* recipients).toEqual(["ann@example.com"])
    })
  )

  test(
    "emails sent and failed are counted by kind; a delivery already made counts as neither",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      yield* book(ann.id, event.id, 1)
      const job = yield* enqueued("BookingsConfirmed")
      const [sentBefore, failedBefore] = [yield* emailsCounted("sent", job._tag), yield* emailsCounted("failed", job._tag)]

      yield* Effect.flip(perform("job-1", job)) // the mail server is down for the first send
      yield* perform("job-1", job)
      yield* perform("job-1", job)

      expect((yield* emailsCounted("sent", job._tag)) - sentBefore).toBe(1)
      expect((yield* emailsCounted("failed", job._tag)) - failedBefore).toBe(1)
    }),
    mailerDownOnCall(1)
  )

  test(
    "the event title is escaped in the HTML part, kept as written in the text part",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id, { title: "<script>alert(1)</script>" })
      yield* book(ann.id, event.id, 1)
      yield* perform("job-1", yield* enqueued("BookingsConfirmed"))

      const mail = yield* mailTo("ann")
      expect(mail.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;")
      expect(mail.html).not.toContain("<script")
      expect(mail.text).toContain("<script>alert(1)</script>")
    })
  )

  test(
    "one job for a transaction's bookings mails each customer once; a retry, or an older per-booking job, sends nothing more",
    Effect.gen(function*() {
      const org = yield* organizer
      const [ann, bob] = [yield* user("CUSTOMER", "ann"), yield* user("CUSTOMER", "bob")]
      const [first, second] = [yield* anEvent(org.id), yield* anEvent(org.id, { title: "Second Conf" })]
      const [a, b] = [yield* book(ann.id, first.id, 2), yield* book(bob.id, second.id, 1)]
      const job: Job = {
        _tag: "BookingsConfirmed",
        bookings: [
          { bookingId: a.id, userId: ann.id, eventId: first.id, ticketsCount: 2 },
          { bookingId: b.id, userId: bob.id, eventId: second.id, ticketsCount: 1 }
        ]
      }
      yield* perform("job-1", job)
      expect(yield* recipients).toEqual(["ann@example.com", "bob@example.com"])
      expect((yield* mailTo("bob")).subject).toContain("Second Conf")

      yield* perform("job-1", job)
      yield* perform("job-2", { _tag: "BookingConfirmed", bookingId: b.id, userId: bob.id, eventId: second.id, ticketsCount: 1 })
      expect(yield* recipients).toEqual(["ann@example.com", "bob@example.com"])
    })
  )

  test(
    "one failed send fails the job, the others still go; the retry sends only the one still unsent",
    Effect.gen(function*() {
      const org = yield* organizer
      const [ann, bob] = [yield* user("CUSTOMER", "ann"), yield* user("CUSTOMER", "bob")]
      const event = yield* anEvent(org.id)
      const [a, b] = [yield* book(ann.id, event.id, 1), yield* book(bob.id, event.id, 1)]
      const job: Job = {
        _tag: "BookingsConfirmed",
        bookings: [
          { bookingId: a.id, userId: ann.id, eventId: event.id, ticketsCount: 1 },
          { bookingId: b.id, userId: bob.id, eventId: event.id, ticketsCount: 1 }
        ]
      }
      expect(yield* Effect.flip(perform("job-1", job))).toMatchObject({ _tag: "MailError" })
      expect(yield* recipients).toHaveLength(1)
      yield* perform("job-1", job)
      expect(yield* recipients).toEqual(["ann@example.com", "bob@example.com"])
    }),
    mailerDownOnCall(1)
  )

  test(
    "bookings that no longer exist are skipped; the rest are mailed",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      const booking = yield* book(ann.id, event.id, 1)
      yield* perform("job-1", {
        _tag: "BookingsConfirmed",
        bookings: [
          { bookingId: 999 as BookingId, userId: ann.id, eventId: event.id, ticketsCount: 1 },
          { bookingId: booking.id, userId: ann.id, eventId: event.id, ticketsCount: 1 }
        ]
      })
      expect(yield* recipients).toEqual(["ann@example.com"])
    })
  )

  test(
    "a failed send fails the job with MailError and records nothing: the retry sends exactly once",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      yield* book(ann.id, event.id, 1)
      const job = yield* enqueued("BookingsConfirmed")

      const error = yield* Effect.flip(perform("job-1", job))
      expect(error).toMatchObject({ _tag: "MailError", message: "down" })
      expect(yield* sent).toEqual([])

      yield* perform("job-1", job)
      yield* perform("job-1", job)
      expect(yield* recipients).toEqual(["ann@example.com"])
    }),
    mailerDownOnCall(1)
  )
})

describe("the confirmation carries the tickets (memory twins)", () => {
  test(
    "each code with its type in text and HTML, its QR inline (cid) and scannable, event.ics; cancelled tickets left out",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id, { title: "Tickets; Conf, 2030", location: "Hall 1, Berlin" })
      // Two Standard and two VIP tickets, one VIP given back (the last issued): three valid, one cancelled.
      const types = yield* TicketTypesRepo
      const typeOf = { maxPerBooking: null, salesStart: null, salesEnd: null, priceCents: 0, quota: null }
      const standard = yield* types.create(event.id, { ...typeOf, name: "Standard" })
      const vip = yield* types.create(event.id, { ...typeOf, name: "VIP" })
      const bookings = yield* Bookings
      const booking = yield* bookings.book(ann.id, {
        eventId: event.id,
        items: [{ ticketTypeId: standard.id, count: 2 }, { ticketTypeId: vip.id, count: 2 }]
      })
      yield* bookings.changeTickets(ann.id, booking.id, { ticketsCount: 3 })
      const issued = yield* issueTickets(booking.id)
      expect(issued.map(({ status, type }) => [type, status])).toEqual([
        ["Standard", "VALID"],
        ["Standard", "VALID"],
        ["VIP", "VALID"],
        ["VIP", "CANCELLED"]
      ])
      const valid = issued.filter((ticket) => ticket.status === "VALID")
      const cancelled = issued.find((ticket) => ticket.status === "CANCELLED")!
      yield* perform("job-1", yield* enqueued("BookingsConfirmed"))

      const mail = yield* mailTo("ann")
      for (const { code, type } of valid) {
        expect(mail.text).toContain(`${type}: ${code}`)
        expect(visible(mail.html)).toContain(`${type}: ${code}`)
        expect(mail.html).toContain(`src="cid:qr-${code}@event-booking"`)
      }
      expect(mail.text).not.toContain(cancelled.code)
      expect(mail.html).not.toContain(cancelled.code)
      expect(mail.text).not.toContain("/tickets") // every QR is in the email

      const images = (mail.attachments ?? []).filter((file) => file.contentType === "image/png")
      expect(images.map((file) => file.cid)).toEqual(valid.map(({ code }) => `qr-${code}@event-booking`))
      for (const [i, image] of images.entries()) {
        expect(Buffer.from(image.content as Uint8Array).subarray(0, 8)).toEqual(PNG_SIGNATURE)
        expect(scanQr(image.content as Uint8Array)).toBe(valid[i]!.code)
      }

      const ics = (mail.attachments ?? []).filter((file) => file.filename === "event.ics")
      expect(ics).toHaveLength(1)
      expect(ics[0]!.contentType).toBe("text/calendar; charset=utf-8; method=PUBLISH")
      const calendar = readCalendar(ics[0]!.content as string)
      expect(calendar).toMatchObject({ method: "PUBLISH", summary: "Tickets; Conf, 2030", location: "Hall 1, Berlin" })
      expect(calendar.start).toEqual(event.date)
      expect(calendar.end.getTime() - calendar.start.getTime()).toBe(2 * 3_600_000)
      for (const { code } of valid) expect(calendar.description).toContain(code)
      expect(calendar.description).not.toContain(cancelled.code)
    })
  )

  test(
    "the calendar entry's UID is the booking's: the same when the job runs again, another for another booking",
    Effect.gen(function*() {
      const org = yield* organizer
      const [ann, bob] = [yield* user("CUSTOMER", "ann"), yield* user("CUSTOMER", "bob")]
      const event = yield* anEvent(org.id)
      const first = yield* book(ann.id, event.id, 1)
      const second = yield* book(bob.id, event.id, 1)
      for (const booking of [first, second]) yield* issueTickets(booking.id)
      const job = { _tag: "BookingConfirmed", bookingId: first.id, userId: ann.id, eventId: event.id, ticketsCount: 1 } as const
      yield* perform("job-1", job)
      yield* perform("job-2", { ...job, bookingId: second.id, userId: bob.id })
      const uidOf = (mail: { readonly attachments?: ReadonlyArray<{ readonly filename: string; readonly content: unknown }> }) =>
        readCalendar(mail.attachments!.find((file) => file.filename === "event.ics")!.content as string).uid
      const [ann1, bob1] = [uidOf(yield* mailTo("ann")), uidOf(yield* mailTo("bob"))]
      expect(ann1).not.toBe(bob1)
      // Rendered again (a resend would be), the same booking has the same UID.
      const again = drawMail(Emails.bookingConfirmation(
        Option.getOrThrow(yield* (yield* BookingsRepo).findById(first.id)),
        "x@example.com",
        []
      ))
      expect(uidOf(again)).toBe(ann1)
    })
  )

  test(
    "a booking without ticket rows (made before tickets existed) is confirmed with its count and the calendar, no QR",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      const booking = yield* book(ann.id, event.id, 2)
      // As a booking from before the tickets' migration would be: its rows gone.
      yield* Effect.flatMap(MemoryStore, (store) =>
        Ref.update(store, (tables) => ({
          ...tables,
          tickets: new Map([...tables.tickets].filter(([, ticket]) => ticket.bookingId !== booking.id))
        })))
      yield* perform("job-1", yield* enqueued("BookingsConfirmed"))
      const mail = yield* mailTo("ann")
      expect(mail.text).toContain("Tickets: 2")
      expect(mail.html).not.toContain("cid:")
      expect(mail.attachments?.map((file) => file.filename)).toEqual(["event.ics"])
    })
  )
})

describe("BookingConfirmed (one booking's job, as written before BookingsConfirmed)", () => {
  test(
    "for a booking that does not exist fails with JobCannotRun and sends nothing",
    Effect.gen(function*() {
      const org = yield* organizer
      const ann = yield* user("CUSTOMER", "ann")
      const event = yield* anEvent(org.id)
      const error = yield* Effect.flip(perform("job-1", {
        _tag: "BookingConfirmed",
        bookingId: 999 as BookingId,
        userId: ann.id,
        eventId: event.id,
        ticketsCount: 1
      }))
      expect(error._tag).toBe("JobCannotRun")
      expect(yield* sent).toEqual([])
    })
  )
})

describe("EventUpdated", () => {
  test(
    "one email per attendee with their summed tickets and the change as before → after; a retry sends nothing more",
    Effect.gen(function*() {
      const org = yield* organizer
      const [ann, bob] = [yield* user("CUSTOMER", "ann"), yield* user("CUSTOMER", "bob")]
      yield* user("CUSTOMER", "carl") // books nothing
      const event = yield* anEvent(org.id, { location: "Hall A" })
      yield* book(ann.id, event.id, 2)
      yield* book(ann.id, event.id, 3)
      yield* book(bob.id, event.id, 1)
      yield* updateEvent(org.id, event.id, { location: "Hall B" })
      const job = yield* enqueued("EventUpdated")
      yield* perform("job-1", job)

      expect(yield* recipients).toEqual(["ann@example.com", "bob@example.com"])
      const [toAnn, toBob] = [yield* mailTo("ann"), yield* mailTo("bob")]
      expect(toAnn.text).toContain("hold 5 tickets for")
      expect(toBob.text).toContain("hold 1 ticket for")
      for (const mail of [toAnn, toBob]) {
        expect(mail.subject).toContain("Tech Conf")
        expect(mail.text).toContain("Location: Hall A → Hall B")
        expect(visible(mail.html)).toContain("Location Hall A → Hall B")
      }

      yield* perform("job-1", job)
      expect(yield* sent).toHaveLength(2)
    })
  )

  test(
    `fans out past ATTENDEE_BATCH (${ATTENDEE_BATCH}): 250 attendees get one email each`,
    Effect.gen(function*() {
      const org = yield* organizer
      const event = yield* anEvent(org.id)
      const customers = yield* attendees(Array.from({ length: 250 }, (_, i) => `customer-${i}`), event.id)
      yield* updateEvent(org.id, event.id, { title: "Tech Conf 2030" })
      yield* perform("job-1", yield* enqueued("EventUpdated"))

      expect(yield* recipients).toEqual(customers.map((customer) => customer.email).sort())
    })
  )

  test(
    "a send failing mid-fan-out fails the job; the retry mails the rest and nobody twice",
    Effect.gen(function*() {
      const org = yield* organizer
      const event = yield* anEvent(org.id)
      const customers = yield* attendees(["ann", "bob", "carl"], event.id)
      yield* updateEvent(org.id, event.id, { location: "Hall B" })
      const job = yield* enqueued("EventUpdated")

      expect((yield* Effect.flip(perform("job-1", job)))._tag).toBe("MailError")
      // Which sends were under way when the failure stopped the job depends on scheduling: some, not all.
      const firstAttempt = (yield* sent).length
      expect(firstAttempt).toBeGreaterThan(0)
      expect(firstAttempt).toBeLessThan(3)
      yield* perform("job-1", job)
      expect(yield* recipients).toEqual(customers.map((customer) => customer.email).sort())
    }),
    mailerDownOnCall(2)
  )
})

describe("EventCancelled", () => {
  test(
    "each attendee is told the event is cancelled, once",
    Effect.gen(function*() {
      const org = yield* organizer
      const [ann, bob] = [yield* user("CUSTOMER", "ann"), yield* user("CUSTOMER", "bob")]
      const event = yield* anEvent(org.id)
      yield* book(ann.id, event.id, 2)
      yield* book(bob.id, event.id, 1)
      yield* Effect.flatMap(Events, (events) => events.cancel(asOrganizer(org.id), event.id))
      const job = yield* enqueued("EventCancelled")
      yield* perform("job-1", job)
      yield* perform("job-1", job)

      expect(yield* recipients).toEqual(["ann@example.com", "bob@example.com"])
      for (const mail of yield* sent) {
        expect(mail.subject).toBe("Event cancelled: Tech Conf")
        expect(mail.text).toContain("cancelled")
        expect(mail.text).toContain("Convention Center")
      }
      expect((yield* mailTo("ann")).text).toContain("hold 2 tickets for")
    })
  )
})
