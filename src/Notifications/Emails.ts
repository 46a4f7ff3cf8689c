/**
 * What customers receive: each email as a subject, a plain-text body and an HTML body. Pure
 * functions; titles and locations are organizers' text, so the HTML escapes them.
 */
import type { Attendee } from "../Bookings/BookingsRepo.ts"
import type { Booking } from "../Domain/Booking.ts"
import type { EventCancelled, EventSnapshot, EventUpdated, FieldChange } from "../Events/EventJobTypes.ts"
import type { BookingCancelled, WaitlistOffer } from "../Inventory/InventoryJobTypes.ts"
import type { Mail } from "./Mailer.ts"

const WHEN = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: "UTC" })
const when = (date: Date) => `${WHEN.format(date)} UTC`

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const tickets = (n: number) => `${n} ticket${n === 1 ? "" : "s"}`

/** Label/value rows, rendered once as text and once as an HTML table. */
type Rows = ReadonlyArray<readonly [label: string, value: string]>

const textRows = (rows: Rows) => rows.map(([label, value]) => `${label}: ${value}`).join("\n")

const htmlRows = (rows: Rows) =>
  `<table>${
    rows.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join("")
  }</table>`

const compose = (to: string, subject: string, intro: string, rows: Rows, outro: string): Mail => ({
  to,
  subject,
  text: `${intro}\n\n${textRows(rows)}\n\n${outro}\n`,
  html: `<!doctype html><html><body><p>${escapeHtml(intro)}</p>${htmlRows(rows)}<p>${escapeHtml(outro)}</p></body></html>`
})

const eventRows = (event: EventSnapshot): Rows => [["Event", event.title], ["Date", when(event.date)], ["Location", event.location]]

export const bookingConfirmation = (booking: Booking, to: string): Mail =>
  compose(
    to,
    `Booking confirmed: ${booking.event.title}`,
    `Your booking is confirmed.`,
    [["Booking", `#${booking.id}`], ...eventRows(booking.event), ["Tickets", String(booking.ticketsCount)]],
    "Show this email or your booking number at the entrance."
  )

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
      `You gave back ${tickets(job.ticketsCancelled)} of your booking.`,
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
    `An event you hold ${tickets(attendee.tickets)} for has changed (${
      job.changes.map((c) => c.field === "totalTickets" ? "capacity" : c.field).join(", ")
    }):`,
    changedRows(job),
    "Your booking stays valid; nothing needs doing."
  )

export const eventCancelled = (job: EventCancelled, attendee: Attendee): Mail =>
  compose(
    attendee.email,
    `Event cancelled: ${job.event.title}`,
    `The organizer has cancelled an event you hold ${tickets(attendee.tickets)} for.`,
    eventRows(job.event),
    "We are sorry for the inconvenience."
  )
