/**
 * The files of a confirmation that are drawn rather than written: a ticket's QR code as a PNG and
 * the event as an iCalendar file (docs/decisions/0031-tickets-in-the-confirmation.md). Drawing
 * them costs ~1 ms of CPU a ticket, so the job on the event loop only names what to draw (a code,
 * the event's fields: a few bytes to the thread) and the mail thread (Mailer.ts) draws it as it
 * builds the message. One renderer, kept as the CommonJS source that thread runs; `drawMail` runs
 * the same source in this thread, for the in-memory mailer and the benches.
 */
import { createRequire } from "node:module"
import { QR_OPTIONS } from "../Platform/QrCode.ts"

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

const resolve = createRequire(import.meta.url).resolve
const path = (name: string) => JSON.stringify(resolve(name))

/**
 * Defines `drawAttachments(attachments)`: each whose content is a Drawing gets the drawn file
 * instead (a Buffer for a PNG, a string for the .ics); the others are left as they are.
 * - The PNG: `qrcode` makes the symbol and `pngjs` writes the file, the pixels drawn here as 8-bit
 *   grey, rows unfiltered, 6 pixels a module (174 px for a ticket code), pngjs's deflate (level 9,
 *   run-length only): ~1,970 bytes. qrcode's own PNG output (RGBA, five filters tried on every row)
 *   cost 6.6x the CPU; 4 or 5 pixels a module cost no less; deflate level 6 with zlib's default
 *   strategy makes 464 bytes for 3–9% more CPU (docs/performance.md, the email section).
 * - The .ics: made by `ics` (it validates its input with yup; `ical-generator` cost the same).
 * The packages are required by the paths this thread resolved, as the bundle has no node_modules
 * of its own.
 */
export const DRAWINGS_SOURCE = `
  const QRCode = require(${path("qrcode")})
  const { PNG } = require(${path("pngjs")})
  const { createEvent } = require(${path("ics")})
  const QR = ${JSON.stringify(QR_OPTIONS)}
  const SCALE = 6
  const grayscale = { colorType: 0, inputColorType: 0, inputHasAlpha: false, filterType: 0 }
  const qrPng = (text) => {
    const { modules } = QRCode.create(text, { errorCorrectionLevel: QR.errorCorrectionLevel })
    const side = (modules.size + 2 * QR.margin) * SCALE
    const pixels = Buffer.alloc(side * side, 255)
    for (let row = 0; row < modules.size; row++) {
      for (let column = 0; column < modules.size; column++) {
        if (modules.data[row * modules.size + column] === 0) continue
        const left = (column + QR.margin) * SCALE
        for (let y = (row + QR.margin) * SCALE; y < (row + QR.margin + 1) * SCALE; y++) {
          pixels.fill(0, y * side + left, y * side + left + SCALE)
        }
      }
    }
    const png = new PNG({ width: side, height: side, ...grayscale })
    png.data = pixels
    return PNG.sync.write(png, grayscale)
  }
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

let inThisThread: (<A>(attachments: A) => A) | undefined

/** `mail` with its drawings drawn, in this thread: the mail thread's renderer, for the in-memory mailer and benches. */
export const drawMail = <M extends Drawable>(mail: M): M => {
  if (mail.attachments === undefined) return mail

  inThisThread ??= new Function("require", `${DRAWINGS_SOURCE}\nreturn drawAttachments`)(createRequire(import.meta.url))
  return { ...mail, attachments: inThisThread!(mail.attachments) }
}
