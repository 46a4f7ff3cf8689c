/**
 * A text as a QR image made with `qrcode` (a maintained encoder): a ticket's code as SVG or PNG for
 * its endpoints (src/Tickets/), and as PNG in the confirmation email, drawn by the mail thread
 * (src/Notifications/Drawings.ts) with this same source. Error correction M (15% of the symbol may
 * be lost: a creased or dimmed phone screen still scans) and the quiet zone of two modules that
 * scanners need.
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import QRCode from "qrcode"
import { evaluateHere } from "./ThreadPool.ts"

const options = { errorCorrectionLevel: "M", margin: 2 } as const

/** The QR image as an SVG document. */
export const qrSvg = (text: string): Effect.Effect<string> => Effect.promise(() => QRCode.toString(text, { ...options, type: "svg" }))

const path = (name: string) => JSON.stringify(createRequire(import.meta.url).resolve(name))

/**
 * CommonJS source defining `qrPng(text)`: the QR image as a PNG (a Buffer), 6 pixels a module (174
 * px for a ticket code), black on white. `qrcode` makes the symbol and `pngjs` the file; the
 * pixels are drawn here as 8-bit grey, rows unfiltered, with pngjs's deflate (level 9, run-length
 * only): ~1,970 bytes. Measured against this (docs/performance.md, the email section): qrcode's
 * own PNG output (RGBA, five filters tried on every row) 6.6x the CPU; 4 or 5 pixels a module no
 * less; deflate level 6 with zlib's default strategy 464 bytes for 3-9% more CPU.
 * Source, not a function, so that the mail thread runs the very same code (it requires the
 * packages by the paths this thread resolved: the bundle has no node_modules of its own).
 */
export const QR_PNG_SOURCE = `
  const QRCode = require(${path("qrcode")})
  const { PNG } = require(${path("pngjs")})
  const qrPng = (text) => {
    const QR = ${JSON.stringify(options)}
    const SCALE = 6
    const grayscale = { colorType: 0, inputColorType: 0, inputHasAlpha: false, filterType: 0 }
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
`

let drawHere: ((text: string) => Buffer) | undefined

/** The QR image as a PNG, drawn in this thread (the endpoint's). */
export const qrPng = (text: string): Effect.Effect<Buffer> =>
  Effect.sync(() => (drawHere ??= evaluateHere<(text: string) => Buffer>(QR_PNG_SOURCE, "qrPng"))(text))
