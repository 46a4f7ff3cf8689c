/**
 * The files of a confirmation that are drawn rather than written: a ticket's QR code as a PNG and
 * the event as an iCalendar file (docs/decisions/0031-tickets-in-the-confirmation.md). Drawing
 * them costs ~0.25 ms of CPU a ticket, so the job on the event loop only names what to draw (a
 * code, the event's fields: a few bytes to the thread) and the mail thread (Mailer.ts) draws it as
 * it builds the message. One renderer, kept as the CommonJS source that thread runs; `drawMail`
 * runs the same source in this thread, for the in-memory mailer and the benches.
 */
import { QR_PNG_SOURCE } from "../Platform/QrCode.ts"
import { evaluateHere } from "../Platform/ThreadPool.ts"

/** The event as a calendar entry (METHOD:PUBLISH: an entry to add, not an invitation to answer). */
export interface CalendarEntry {
  readonly uid: string
  /** Milliseconds since the epoch; iCalendar keeps whole seconds, in UTC. */
  readonly start: number
  readonly hours: number
  readonly title: string
  readonly location: string
  readonly description: string
}

/** What an attachment's content is drawn from: the text of a QR code, or a calendar entry. */
export type Drawing = { readonly qrPng: string } | { readonly calendar: CalendarEntry }

/**
 * The calendar entry as an iCalendar file (RFC 5545): one VEVENT, its text escaped (\\ ; , and
 * line breaks) and its lines folded at 75 octets without splitting a character. Written here: the
 * packages made for it validate every call against a schema (`ics` with yup, `ical-generator`
 * likewise), 0.18 ms of the mail thread's CPU a confirmation against ~0.01 ms for these lines, for a
 * file of one fixed shape (docs/decisions/0031-tickets-in-the-confirmation.md). Its readers in the
 * tests are ical.js (Mozilla's parser) and mailparser. Self-contained, so that the mail thread runs
 * this very function from its source text.
 */
export const calendarFile = (entry: CalendarEntry, stamp: Date): string => {
  // TEXT: \\ ; , escaped, a line break as \n, other control characters (not allowed) left out.
  const text = (value: string) =>
    // eslint-disable-next-line no-control-regex
    value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, "\\n").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "")
  const time = (at: Date) => at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")
  const fold = (line: string) => {
    if (Buffer.byteLength(line) <= 75) return line
    const lines: Array<string> = []
    let current = ""
    let octets = 0
    for (const character of line) {
      const size = Buffer.byteLength(character)
      if (octets + size > (lines.length === 0 ? 75 : 74)) {
        lines.push(current)
        current = ""
        octets = 0
      }
      current += character
      octets += size
    }
    lines.push(current)
    return lines.join("\r\n ")
  }
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "CALSCALE:GREGORIAN",
    "PRODID:-//event-booking//confirmation//EN",
    "METHOD:PUBLISH",
    "BEGIN:VEVENT",
    `UID:${text(entry.uid)}`,
    `DTSTAMP:${time(stamp)}`,
    `DTSTART:${time(new Date(entry.start))}`,
    `DURATION:PT${entry.hours}H`,
    `SUMMARY:${text(entry.title)}`,
    `LOCATION:${text(entry.location)}`,
    `DESCRIPTION:${text(entry.description)}`,
    "STATUS:CONFIRMED",
    "END:VEVENT",
    "END:VCALENDAR",
    ""
  ].map((line) => line === "" ? line : fold(line)).join("\r\n")
}

/**
 * Defines `drawAttachments(attachments)`: each whose content is a Drawing gets the drawn file
 * instead (a Buffer for a PNG, a string for the .ics); the others are left as they are.
 */
export const DRAWINGS_SOURCE = `
  ${QR_PNG_SOURCE}
  const calendarFile = ${calendarFile.toString()}
  const drawAttachments = (attachments) => attachments.map((file) =>
    typeof file.content === "string" || file.content instanceof Uint8Array ? file
      : { ...file, content: "qrPng" in file.content ? qrPng(file.content.qrPng) : calendarFile(file.content.calendar, new Date()) })
`

interface Drawable {
  readonly attachments?: ReadonlyArray<{ readonly content: Uint8Array | string | Drawing }>
}

let drawHere: (<A>(attachments: A) => A) | undefined

/** `mail` with its drawings drawn, in this thread: the mail thread's renderer, for the in-memory mailer and benches. */
export const drawMail = <M extends Drawable>(mail: M): M => {
  if (mail.attachments === undefined) return mail
  drawHere ??= evaluateHere(DRAWINGS_SOURCE, "drawAttachments")
  return { ...mail, attachments: drawHere!(mail.attachments) }
}
