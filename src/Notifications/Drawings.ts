/**
 * The files of a confirmation that are drawn rather than written: a ticket's QR code as a PNG and
 * the event as an iCalendar file (docs/decisions/0031-tickets-in-the-confirmation.md). Drawing
 * them costs ~1 ms of CPU a ticket, so the job on the event loop only names what to draw (a code,
 * the event's fields: a few bytes to the thread) and the mail thread (Mailer.ts) draws it as it
 * builds the message. One renderer, kept as the CommonJS source that thread runs; `drawMail` runs
 * the same source in this thread, for the in-memory mailer and the benches.
 */
import { createRequire } from "node:module"
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

const path = (name: string) => JSON.stringify(createRequire(import.meta.url).resolve(name))

/**
 * Defines `drawAttachments(attachments)`: each whose content is a Drawing gets the drawn file
 * instead (a Buffer for a PNG, a string for the .ics); the others are left as they are.
 * - The PNG: Platform/QrCode.ts's source, the one the ticket's endpoint draws with.
 * - The .ics: made by `ics` (it validates its input with yup; `ical-generator` cost the same,
 *   docs/performance.md, the email section).
 * The packages are required by the paths this thread resolved, as the bundle has no node_modules
 * of its own.
 */
export const DRAWINGS_SOURCE = `
  ${QR_PNG_SOURCE}
  const { createEvent } = require(${path("ics")})
  const calendar = (entry) => {
    const { error, value } = createEvent({
      productId: "event-booking",
      method: "PUBLISH",
      uid: entry.uid,
      start: entry.start,
      startInputType: "utc",
      startOutputType: "utc",
      duration: { hours: entry.hours },
      title: entry.title,
      location: entry.location,
      description: entry.description,
      status: "CONFIRMED"
    })
    if (!value) throw error ?? new Error("ics made no calendar")
    return value
  }
  const drawAttachments = (attachments) => attachments.map((file) =>
    typeof file.content === "string" || file.content instanceof Uint8Array ? file
      : { ...file, content: "qrPng" in file.content ? qrPng(file.content.qrPng) : calendar(file.content.calendar) })
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
