/**
 * A text as a QR image made with `qrcode` (a maintained encoder): a ticket's code as SVG or PNG for
 * its endpoints (src/Tickets/), and as PNG in the confirmation email, drawn by the mail thread
 * (src/Notifications/Drawings.ts) with this same function. Error correction M (15% of the symbol
 * may be lost: a creased or dimmed phone screen still scans) and the quiet zone of two modules that
 * scanners need.
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import zlib from "node:zlib"
import QRCode from "qrcode"

const options = { errorCorrectionLevel: "M", margin: 2 } as const

/** The QR image as an SVG document. */
export const qrSvg = (text: string): Effect.Effect<string> => Effect.promise(() => QRCode.toString(text, { ...options, type: "svg" }))

/**
 * `qrPng(text)`: the QR image as a PNG, 6 pixels a module (174 px for a ticket code), black on
 * white. `qrcode` makes the symbol (choosing its mask by the standard's penalty rules, which keep
 * scanners from mistaking patterns: ~0.1 ms, most of the drawing, kept); the file is written here
 * with Node's zlib, as a 1-bit greyscale PNG (~310 bytes): the PNG writers at hand (pngjs, qrcode's
 * own) take 8 or 32 bits a pixel, 8 to 32 times the pixels to filter and deflate, and cost 3x and
 * 20x this (docs/performance.md, the email section). Self-contained (its packages are arguments),
 * so that the mail thread runs this very function from its source text (`QR_PNG_SOURCE`).
 */
export const makeQrPng = (qrcode: typeof QRCode, deflate: typeof zlib) => (text: string): Buffer => {
  const SCALE = 6
  const MARGIN = 2
  // A ticket's code (Crockford base32, dashes) is all in QR's alphanumeric set: given as one such
  // segment, qrcode skips searching for the best split into modes. The same symbol, ~25% less CPU.
  const alphanumeric = /^[0-9A-Z $%*+\-./:]+$/.test(text)
  const { modules } = qrcode.create(alphanumeric ? [{ data: text, mode: "alphanumeric" }] : text, { errorCorrectionLevel: "M" })
  const size = modules.size
  const side = (size + 2 * MARGIN) * SCALE
  // Each row: filter type 0 (none), then 1 bit a pixel, 1 = white; the row's last byte is padded.
  const stride = 1 + Math.ceil(side / 8)
  const pixels = Buffer.alloc(stride * side, 0xff)
  const line = Buffer.alloc(stride)
  for (let y = 0; y < side; y++) pixels[y * stride] = 0
  for (let row = 0; row < size; row++) {
    line.fill(0xff)
    line[0] = 0
    for (let column = 0; column < size; column++) {
      if (modules.data[row * size + column] === 0) continue
      for (let x = (column + MARGIN) * SCALE; x < (column + MARGIN + 1) * SCALE; x++) line[1 + (x >> 3)]! &= ~(0x80 >> (x & 7))
    }
    for (let y = (row + MARGIN) * SCALE; y < (row + MARGIN + 1) * SCALE; y++) line.copy(pixels, y * stride)
  }
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    out.write(type, 4, "latin1")
    data.copy(out, 8)
    out.writeUInt32BE(deflate.crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
    return out
  }
  const header = Buffer.alloc(13) // width, height, bit depth 1, greyscale, deflate, no filter set, no interlace
  header.writeUInt32BE(side, 0)
  header.writeUInt32BE(side, 4)
  header[8] = 1
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflate.deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0))
  ])
}

const path = (name: string) => JSON.stringify(createRequire(import.meta.url).resolve(name))

/**
 * CommonJS source defining `qrPng(text)` for the mail thread: `makeQrPng`'s own text, given the
 * packages this thread resolved (the bundle has no node_modules of its own).
 */
export const QR_PNG_SOURCE = `const qrPng = (${makeQrPng.toString()})(require(${path("qrcode")}), require("node:zlib"))`

const drawHere = makeQrPng(QRCode, zlib)

/** The QR image as a PNG, drawn in this thread (the endpoint's). */
export const qrPng = (text: string): Effect.Effect<Buffer> => Effect.sync(() => drawHere(text))
