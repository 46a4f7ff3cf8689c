/**
 * A text as a QR image made with `qrcode` (a maintained encoder): a ticket's code as SVG for its
 * endpoint, and the options the confirmation email's PNGs are drawn with
 * (src/Notifications/Drawings.ts, on the mail thread). Error correction M (15% of the symbol may
 * be lost: a creased or dimmed phone screen still scans) and the quiet zone of two modules that
 * scanners need.
 */
import { Effect } from "effect"
import QRCode from "qrcode"

export const QR_OPTIONS = { errorCorrectionLevel: "M", margin: 2 } as const

/** The QR image as an SVG document. */
export const qrSvg = (text: string): Effect.Effect<string> => Effect.promise(() => QRCode.toString(text, { ...QR_OPTIONS, type: "svg" }))
