/**
 * The confirmation email as a mail program receives it (issue 19 §3): bookings through the HTTP
 * API, their jobs on BullMQ (PostgreSQL backend), the mail by SMTP into a sink, parsed by
 * `mailparser`: a text part with the codes, an HTML part naming each QR by `cid:`, the QRs as
 * inline PNGs that scan back to their codes, and `event.ics` that an iCalendar parser reads back.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { Attachment } from "mailparser"
import { JobWorkersLive } from "../../src/Background.ts"
import type { BookingId } from "../../src/Domain/Ids.ts"
import { CALENDAR_DURATION_HOURS, QR_IMAGES_PER_EMAIL } from "../../src/Notifications/Emails.ts"
import { deliveriesOnceAtLeast, eventually, fastJobs, jobsApp, jobsSettled, smtp } from "../support/jobs.ts"
import { parseMail, PNG_SIGNATURE, readCalendar, scanQr } from "../support/mailParts.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { startSmtpSink } from "../support/smtpSink.ts"
import { issueTickets } from "../support/tickets.ts"

/** Larger bookings than the default 10, so that one has more tickets than QR images. */
const LIMITS = { MAX_TICKETS_PER_BOOKING: 20, MAX_TICKETS_PER_CUSTOMER_PER_EVENT: 20 }

const isQr = (file: Attachment) => file.contentType === "image/png"

describe("the confirmation email carries the tickets", () => {
  it.live(
    "codes in text and HTML, each QR inline by cid and scannable, event.ics read back; one email per booking",
    () =>
      Effect.gen(function*() {
        const sink = yield* startSmtpSink
        // No workers yet: each booking's tickets are written (as the engine will, in its transaction)
        // before any confirmation job runs.
        yield* Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const [ann, bob] = [yield* signUp("CUSTOMER"), yield* signUp("CUSTOMER")]
          const event = yield* createEvent(organizer.token, { title: "QR Night", location: "Hall 7, Lisbon", totalTickets: 50 })
          const book = (token: string, ticketsCount: number) =>
            request("POST", "/api/bookings", { token, json: { eventId: event.id, ticketsCount } })
          const small = yield* book(ann.token, 3)
          const large = yield* book(bob.token, QR_IMAGES_PER_EMAIL + 2)
          expect([small.status, large.status]).toEqual([201, 201])
          const smallTickets = yield* issueTickets(small.body.id as BookingId, [{ type: "Standard", count: 2 }, { type: "VIP", count: 1 }])
          const largeTickets = yield* issueTickets(large.body.id as BookingId)

          yield* Layer.launch(JobWorkersLive).pipe(Effect.forkScoped)
          yield* eventually(sink.received, (mails) => mails.length === 2)
          yield* jobsSettled
          const received = yield* sink.received
          expect(received).toHaveLength(2)
          expect(yield* deliveriesOnceAtLeast(2)).toBe(2)
          const mailTo = (email: string) => Effect.promise(() => parseMail(received.find((mail) => mail.to.includes(email))!.raw))

          // Three tickets: every code listed, every QR inline.
          const mail = yield* mailTo(ann.user.email)
          expect(mail.subject).toBe("Booking confirmed: QR Night")
          const qrs = mail.attachments.filter(isQr)
          expect(qrs).toHaveLength(3)
          for (const [i, { code, type }] of smallTickets.entries()) {
            expect(mail.text).toContain(`${type}: ${code}`)
            const qr = qrs[i]!
            expect(mail.html).toContain(`src="cid:${qr.cid}"`)
            expect(qr.contentDisposition).toBe("inline")
            expect(qr.related).toBe(true) // in the HTML's multipart/related, not a separate download
            expect(qr.content.subarray(0, 8)).toEqual(PNG_SIGNATURE)
            expect(scanQr(qr.content)).toBe(code)
          }
          const [ics, ...otherFiles] = mail.attachments.filter((file) => !isQr(file))
          expect(otherFiles).toEqual([])
          expect(ics).toMatchObject({ filename: "event.ics", contentType: "text/calendar", contentDisposition: "attachment" })
          const calendar = readCalendar(ics!.content.toString("utf8"))
          expect(calendar).toMatchObject({ method: "PUBLISH", summary: "QR Night", location: "Hall 7, Lisbon" })
          // iCalendar times are to the second.
          expect(calendar.start.getTime()).toBe(Math.floor(event.date.getTime() / 1000) * 1000)
          expect(calendar.end.getTime() - calendar.start.getTime()).toBe(CALENDAR_DURATION_HOURS * 3_600_000)
          for (const { code } of smallTickets) expect(calendar.description).toContain(code)

          // Twelve tickets: every code listed, the first QR_IMAGES_PER_EMAIL as images, and where the rest are.
          const many = yield* mailTo(bob.user.email)
          for (const { code } of largeTickets) expect(many.text).toContain(code)
          const shown = many.attachments.filter(isQr)
          expect(shown.map((qr) => scanQr(qr.content))).toEqual(largeTickets.slice(0, QR_IMAGES_PER_EMAIL).map(({ code }) => code))
          expect(String(many.html).match(/src="cid:/g)).toHaveLength(QR_IMAGES_PER_EMAIL)
          const rest = `all ${largeTickets.length} are at GET /api/bookings/${large.body.id}/tickets`
          expect(many.text).toContain(rest)
          expect(many.html).toContain(rest)
          expect(readCalendar(many.attachments.find((file) => file.filename === "event.ics")!.content.toString("utf8")).uid)
            .not.toBe(calendar.uid)
        }).pipe(Effect.provide(jobsApp({ ...fastJobs, ...smtp(sink.url), ...LIMITS }, { workers: false })))
      }).pipe(Effect.scoped),
    60_000
  )
})
