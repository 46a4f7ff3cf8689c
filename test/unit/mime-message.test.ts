/**
 * The files the mail thread writes, read back by the readers made for them: the MIME message
 * (src/Notifications/MimeMessage.ts) by `mailparser`, as a mail program would (organizers' text in
 * headers cannot add a header, every body and file comes back byte for byte, no line longer than
 * RFC 5322 allows), and the `.ics` (Drawings.ts) by ical.js, as a calendar would.
 */
import { describe, expect, it } from "@effect/vitest"
import zlib from "node:zlib"
import QRCode from "qrcode"
import { calendarFile } from "../../src/Notifications/Drawings.ts"
import { composeMessage } from "../../src/Notifications/MimeMessage.ts"
import { makeQrPng } from "../../src/Platform/QrCode.ts"
import { parseMail, readCalendar, scanQr } from "../support/mailParts.ts"

const png = makeQrPng(QRCode, zlib)("7K2QF-M9XRB-0C4TD-HW3NP")
const text = [
  "Café night — 2 tickets, 50% = sold out.",
  ".a line starting with a dot, and one ending in spaces   ",
  `a long line: ${"déjà vu = 100 € ".repeat(20)}`,
  "\ttabbed\u0000nul"
].join("\n")
const html = `<p>${"<b>Ünïcödé</b> = ".repeat(30)}</p>`
const date = new Date("2026-12-05T18:30:00Z")

const compose = (subject: string) =>
  composeMessage({
    from: "Événements <no-reply@event-booking.local>",
    to: "ann@example.com",
    subject,
    text,
    html,
    messageId: "<booking-confirmed-7.ns@event-booking.local>",
    attachments: [
      { filename: "ticket-7K2QF.png", contentType: "image/png", content: png, cid: "qr-7K2QF@event-booking" },
      {
        filename: "event.ics",
        contentType: "text/calendar; charset=utf-8; method=PUBLISH",
        content: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
      }
    ]
  }, date)

describe("the MIME message", () => {
  it("reads back as it was given: headers, text, HTML, inline image, attachment", async () => {
    const raw = compose("Booking confirmed: Jazz in the Garden")
    const mail = await parseMail(raw)
    expect(mail.from?.value).toEqual([{ name: "Événements", address: "no-reply@event-booking.local" }])
    expect(mail.to).toMatchObject({ value: [{ address: "ann@example.com" }] })
    expect(mail.subject).toBe("Booking confirmed: Jazz in the Garden")
    expect(mail.messageId).toBe("<booking-confirmed-7.ns@event-booking.local>")
    expect(mail.date?.toISOString()).toBe(date.toISOString())
    expect(mail.text?.replace(/\r\n/g, "\n").trimEnd()).toBe(text.trimEnd())
    expect(mail.html).toBe(html)
    const [image, calendar] = mail.attachments
    expect(image).toMatchObject({
      contentType: "image/png",
      cid: "qr-7K2QF@event-booking",
      contentDisposition: "inline",
      filename: "ticket-7K2QF.png"
    })
    expect(Buffer.compare(image!.content, png)).toBe(0)
    expect(scanQr(image!.content)).toBe("7K2QF-M9XRB-0C4TD-HW3NP")
    expect(calendar).toMatchObject({ contentDisposition: "attachment", filename: "event.ics" })
    expect(calendar!.content.toString("utf8")).toBe("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    expect(raw.split("\r\n").every((line) => line.length <= 78)).toBe(true)
    expect(raw.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/)
  })

  it("a subject with line breaks and other scripts stays one header: no header can be added through it", async () => {
    const subject = "Booking confirmed: Fado Ø\r\nBcc: everyone@example.com\r\n\r\nnot a body ".repeat(3)
    const raw = compose(subject)
    const mail = await parseMail(raw)
    expect(mail.subject).toBe(subject.replace(/[\r\n]+/g, " "))
    expect(mail.bcc).toBeUndefined()
    expect(mail.headers.has("bcc")).toBe(false)
    expect(raw.split("\r\n").every((line) => line.length <= 78)).toBe(true)
  })
})

describe("the calendar file", () => {
  it("organizers' text reads back as given: escapes, line breaks, long lines of other scripts; no control characters", () => {
    const entry = {
      uid: "booking-7-1700000000000@event-booking",
      start: Date.UTC(2099, 5, 1, 19, 0),
      hours: 2,
      title: `Jazz, night; \\ café — ${"Ünïcödé 🎷 ".repeat(12)}`,
      location: "Hall 7, Lisbon\u0000",
      description: "Booking #7: 2 tickets\nVIP: 7K2QF-M9XRB-0C4TD-HW3NP\r\nStandard: Q0D4K-8XW2M-HT7R9-BC1FA"
    }
    const file = calendarFile(entry, new Date("2026-12-05T18:30:00Z"))
    expect(readCalendar(file)).toEqual({
      method: "PUBLISH",
      uid: entry.uid,
      summary: entry.title,
      location: "Hall 7, Lisbon",
      description: entry.description.replace("\r\n", "\n"),
      start: new Date(entry.start),
      end: new Date(entry.start + 2 * 3_600_000)
    })
    const lines = file.split("\r\n")
    expect(lines.every((line) => Buffer.byteLength(line) <= 75)).toBe(true)
    expect(lines.filter((line) => line.startsWith(" ")).length).toBeGreaterThan(2)
    // eslint-disable-next-line no-control-regex
    expect(file).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/)
  })
})
