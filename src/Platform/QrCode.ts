/**
 * A text as a QR image, SVG or PNG, made with `qrcode` (a maintained encoder): a ticket's code for
 * its endpoint (src/Tickets/) and for the confirmation email (src/Notifications/). Error
 * correction M (15% of the symbol may be lost: a creased or dimmed phone screen still scans) and
 * the quiet zone of two modules that scanners need.
 */
import { Effect } from "effect"
import { PNG } from "pngjs"
import QRCode from "qrcode"

const options = { errorCorrectionLevel: "M", margin: 2 } as const

/** The QR image as an SVG document. */
export const qrSvg = (text: string): Effect.Effect<string> => Effect.promise(() => QRCode.toString(text, { ...options, type: "svg" }))

/** 8-bit grayscale, each row unfiltered: a two-tone image needs no more, and deflate packs it as well. */
const grayscale = { colorType: 0, inputColorType: 0, inputHasAlpha: false, filterType: 0 } as const

/**
 * The QR image as a PNG, `scale` pixels a module (6: 174 px for a ticket code), black on white.
 * `qrcode` makes the symbol and `pngjs` the file; the pixels are drawn here as one byte each,
 * where qrcode's own PNG output draws RGBA and lets pngjs try five filters on every row: the same
 * image cost 2.6–3.2 ms of CPU that way against 0.6–1.1 ms this way (a busy machine, 300 images).
 * Each email carries one per ticket (src/Notifications/Emails.ts).
 */
export const qrPng = (text: string, scale = 6): Effect.Effect<Buffer> =>
  Effect.sync(() => {
    const { modules } = QRCode.create(text, { errorCorrectionLevel: options.errorCorrectionLevel })
    const side = (modules.size + 2 * options.margin) * scale
    const pixels = Buffer.alloc(side * side, 255)
    for (let row = 0; row < modules.size; row++) {
      for (let column = 0; column < modules.size; column++) {
        if (modules.data[row * modules.size + column] === 0) continue
        const left = (column + options.margin) * scale
        for (let y = (row + options.margin) * scale; y < (row + options.margin + 1) * scale; y++) {
          pixels.fill(0, y * side + left, y * side + left + scale)
        }
      }
    }
    const png = new PNG({ width: side, height: side, ...grayscale })
    png.data = pixels
    return PNG.sync.write(png, grayscale)
  })
