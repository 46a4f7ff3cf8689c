/**
 * Reading back what a confirmation carries, with readers made for each format: a QR image by
 * `jsqr` (over `pngjs`'s decoded pixels), the `.ics` by `ical.js` (Mozilla's iCalendar parser), a
 * whole message as received over SMTP by `mailparser`.
 */
import ICAL from "ical.js"
import jsQRModule from "jsqr"
import { type ParsedMail, simpleParser } from "mailparser"
import { PNG } from "pngjs"

// jsqr is CommonJS with its function as `exports.default` (and as the module itself): NodeNext types see the former.
const jsQR = jsQRModule.default

/** The PNG file signature. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** The text a QR image (PNG) holds, as a phone's scanner would read it; undefined if none is found. */
export const scanQr = (png: Uint8Array) => {
  const image = PNG.sync.read(Buffer.from(png))
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength), image.width, image.height)
    ?.data
}

/** The calendar's METHOD and its one event, as a calendar application reads them. */
export const readCalendar = (text: string) => {
  const calendar = new ICAL.Component(ICAL.parse(text))
  const vevents = calendar.getAllSubcomponents("vevent")
  if (vevents.length !== 1) throw new Error(`expected one VEVENT, found ${vevents.length}`)
  const event = new ICAL.Event(vevents[0]!)
  return {
    method: calendar.getFirstPropertyValue("method"),
    uid: event.uid,
    summary: event.summary,
    location: event.location,
    description: event.description,
    start: event.startDate.toJSDate(),
    end: event.endDate.toJSDate()
  }
}

/** A whole message; its HTML keeps the `cid:` links as sent (mailparser would inline the images). */
export const parseMail = (raw: string): Promise<ParsedMail> => simpleParser(raw, { keepCidLinks: true })
