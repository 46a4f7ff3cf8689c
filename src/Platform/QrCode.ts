/**
 * A text as a QR image, SVG or PNG, made with `qrcode` (a maintained encoder): a ticket's code for
 * its endpoint (src/Tickets/) and for the confirmation email (src/Notifications/). Error
 * correction M (15% of the symbol may be lost: a creased or dimmed phone screen still scans) and
 * the quiet zone of two modules that scanners need.
 */
import { Effect } from "effect"
import QRCode from "qrcode"

const options = { errorCorrectionLevel: "M", margin: 2 } as const

/** The QR image as an SVG document. */
export const qrSvg = (text: string): Effect.Effect<string> => Effect.promise(() => QRCode.toString(text, { ...options, type: "svg" }))

/** The QR image as a PNG, `scale` pixels a module (6: ~170 px for a ticket code). */
export const qrPng = (text: string, scale = 6): Effect.Effect<Buffer> =>
  Effect.promise(() => QRCode.toBuffer(text, { ...options, type: "png", scale }))
