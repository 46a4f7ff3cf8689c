/**
 * What customers receive: each email as a subject, a plain-text body and an HTML body, and for a
 * booking's confirmation its tickets' QR images and the event as an `.ics`, named here and drawn
 * by the mail thread (Drawings.ts). Pure functions; titles and locations are organizers' text, so
 * the HTML escapes them.
 */
import type { Attendee, TicketLine } from "../Bookings/BookingsRepo.ts"
import type { Booking } from "../Domain/Booking.ts"
import type { EventCancelled, EventSnapshot, EventUpdated, FieldChange } from "../Events/EventJobTypes.ts"
import type { BookingCancelled, WaitlistOffer } from "../Inventory/InventoryJobTypes.ts"
import type { CalendarEntry } from "./Drawings.ts"
import type { Attachment, Mail } from "./Mailer.ts"

const WHEN = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: "UTC" })
const when = (date: Date) => `${WHEN.format(date)} UTC`

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const ticketCount = (n: number) => `${n} ticket${n === 1 ? "" : "s"}`

/** Label/value rows, rendered once as text and once as an HTML table. */
type Rows = ReadonlyArray<readonly [label: string, value: string]>

const textRows = (rows: Rows) => rows.map(([label, value]) => `${label}: ${value}`).join("\n")

const htmlRows = (rows: Rows) =>
  `<table>${
    rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join("")
  }</table>`

/** What a mail may add: a section between its rows and its last line (as text and as HTML), files. */
interface Extra {
  readonly section?: { readonly text: string; readonly html: string }
  readonly attachments?: ReadonlyArray<Attachment>
}

const compose = (to: string, subject: string, intro: string, rows: Rows, outro: string, extra: Extra = {}): Mail => ({
  to,
  subject,
  text: `${intro}\n\n${textRows(rows)}\n\n${extra.section === undefined ? "" : `${extra.section.text}\n\n`}${outro}\n`,
  html: `<!doctype html><html><body><p>${escapeHtml(intro)}</p>${htmlRows(rows)}${extra.section?.html ?? ""}<p>${
    escapeHtml(outro)
  }</p></body></html>`,
  ...(extra.attachments === undefined ? {} : { attachments: extra.attachments })
})

const eventRows = (event: EventSnapshot): Rows => [["Event", event.title], ["Date", when(event.date)], ["Location", event.location]]

/**
 * A confirmation shows at most this many QR images (the default MAX_TICKETS_PER_BOOKING): each is
 * ~0.3 KB and ~0.25 ms of CPU to draw, and a large booking's email stays small. Past it, tickets are
 * listed by code with where to find their QRs (docs/decisions/0031-tickets-in-the-confirmation.md).
 */
export const QR_IMAGES_PER_EMAIL = 10

/** Events have no end time: a calendar entry lasts this long from the start. */
export const CALENDAR_DURATION_HOURS = 2

const ticketsUrl = (booking: Booking) => `GET /api/bookings/${booking.id}/tickets`

/** The inline image of a ticket's QR, named in the HTML by `cid:`. */
const qrCid = (code: string) => `qr-${code}@event-booking`

/**
 * The event as a calendar entry, for `event.ics`. Its UID is the booking's (its id and creation
 * time), the same on every resend.
 */
export const bookingCalendar = (booking: Booking, tickets: ReadonlyArray<TicketLine>): CalendarEntry => ({
  uid: `booking-${booking.id}-${booking.createdAt.getTime()}@event-booking`,
  start: booking.event.date.getTime(),
  hours: CALENDAR_DURATION_HOURS,
  title: booking.event.title,
  location: booking.event.location,
  description: [
    `Booking #${booking.id}: ${ticketCount(tickets.length === 0 ? booking.ticketsCount : tickets.length)}`,
    ...tickets.map(({ code, type }) => `${type}: ${code}`)
  ].join("\n")
})

/**
 * The booking's confirmation: its tickets listed by type and code, each of the first
 * QR_IMAGES_PER_EMAIL with its QR as an inline PNG, and `event.ics`. A booking whose tickets are
 * not written yet (a booking made before tickets existed) gets the event and the count only.
 */
export const bookingConfirmation = (booking: Booking, to: string, tickets: ReadonlyArray<TicketLine>): Mail => {
  const shown = tickets.slice(0, QR_IMAGES_PER_EMAIL)
  const calendarFile: Attachment = {
    filename: "event.ics",
    contentType: "text/calendar; charset=utf-8; method=PUBLISH",
    content: { calendar: bookingCalendar(booking, tickets) }
  }
  const rows: Rows = [["Booking", `#${booking.id}`], ...eventRows(booking.event), ["Tickets", String(booking.ticketsCount)]]
  const subject = `Booking confirmed: ${booking.event.title}`
  if (tickets.length === 0) {
    return compose(to, subject, "Your booking is confirmed.", rows, "Show this email or your booking number at the entrance.", {
      attachments: [calendarFile]
    })
  }
  const rest = tickets.length > shown.length
    ? `QR codes of the first ${shown.length} tickets are in this email; all ${tickets.length} are at ${ticketsUrl(booking)}.`
    : undefined
  const section = {
    text: [
      "Your tickets:",
      ...tickets.map(({ code, type }) => `${type}: ${code}`),
      ...(rest === undefined ? [] : ["", rest])
    ].join("\n"),
    html: `<h3>Your tickets</h3>${
      tickets.map(({ code, type }, i) =>
        `<p>${escapeHtml(type)}: <code>${escapeHtml(code)}</code>${
          i < shown.length ? `<br><img src="cid:${escapeHtml(qrCid(code))}" alt="QR code of ticket ${escapeHtml(code)}">` : ""
        }</p>`
      ).join("")
    }${rest === undefined ? "" : `<p>${escapeHtml(rest)}</p>`}`
  }
  const images = shown.map(({ code }): Attachment => ({
    filename: `ticket-${code}.png`,
    contentType: "image/png",
    content: { qrPng: code },
    cid: qrCid(code)
  }))
  return compose(
    to,
    subject,
    "Your booking is confirmed.",
    rows,
    "Show each ticket's QR code (or its code) at the entrance. event.ics adds the event to your calendar.",
    { section, attachments: [...images, calendarFile] }
  )
}

export const bookingCancelled = (job: BookingCancelled, booking: Booking, to: string): Mail =>
  job.ticketsLeft === 0
    ? compose(
      to,
      `Booking cancelled: ${booking.event.title}`,
      "Your booking is cancelled; its tickets went back on sale.",
      [["Booking", `#${booking.id}`], ...eventRows(booking.event), ["Tickets cancelled", String(job.ticketsCancelled)]],
      "Nothing more needs doing."
    )
    : compose(
      to,
      `Booking changed: ${booking.event.title}`,
      `You gave back ${ticketCount(job.ticketsCancelled)} of your booking.`,
      [["Booking", `#${booking.id}`], ...eventRows(booking.event), ["Tickets kept", String(job.ticketsLeft)]],
      "Show this email or your booking number at the entrance."
    )

export const waitlistOffer = (job: WaitlistOffer, event: EventSnapshot, to: string): Mail =>
  compose(
    to,
    `Tickets for you: ${event.title}`,
    `Tickets came back for an event you are waiting for, and ${
      job.ticketsCount === 1 ? "one is" : `${job.ticketsCount} are`
    } held in your name.`,
    [["Hold", `#${job.holdId}`], ...eventRows(event), ["Tickets", String(job.ticketsCount)], ["Confirm by", when(job.expiresAt)]],
    `Confirm the hold (POST /api/holds/${job.holdId}/confirm) before then, or it passes to the next person in line.`
  )

const describe = (value: FieldChange["before"], field: FieldChange["field"]) =>
  value instanceof Date ? when(value) : field === "description" && value === "" ? "(none)" : String(value)

const LABELS: Record<FieldChange["field"], string> = {
  title: "Event",
  date: "Date",
  location: "Location",
  description: "Description",
  totalTickets: "Capacity"
}

/** The event's rows with each changed field shown as `before → after`, then any other changes. */
const changedRows = ({ changes, event }: EventUpdated): Rows => {
  const changeOf = (field: FieldChange["field"]) => changes.find((change) => change.field === field)
  const row = (field: FieldChange["field"], current: string): readonly [string, string] => {
    const change = changeOf(field)
    return [LABELS[field], change === undefined ? current : `${describe(change.before, field)} → ${describe(change.after, field)}`]
  }
  const others = changes.filter((change) => !["title", "date", "location"].includes(change.field))
  return [
    row("title", event.title),
    row("date", when(event.date)),
    row("location", event.location),
    ...others.map((change) => row(change.field, ""))
  ]
}

export const eventUpdated = (job: EventUpdated, attendee: Attendee): Mail =>
  compose(
    attendee.email,
    `Event updated: ${job.event.title}`,
    `An event you hold ${ticketCount(attendee.tickets)} for has changed (${
      job.changes.map((c) => c.field === "totalTickets" ? "capacity" : c.field).join(", ")
    }):`,
    changedRows(job),
    "Your booking stays valid; nothing needs doing."
  )

export const eventCancelled = (job: EventCancelled, attendee: Attendee): Mail =>
  compose(
    attendee.email,
    `Event cancelled: ${job.event.title}`,
    `The organizer has cancelled an event you hold ${ticketCount(attendee.tickets)} for.`,
    eventRows(job.event),
    "We are sorry for the inconvenience."
  )
