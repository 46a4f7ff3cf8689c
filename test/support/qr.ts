/**
 * Reading QR images back, as a scanner at the door would: `jsqr` decodes the pixels of a PNG
 * (`pngjs`), and an SVG is first rendered to pixels by `@resvg/resvg-js`. `undefined`: no QR found.
 */
import { Resvg } from "@resvg/resvg-js"
import jsQRModule from "jsqr"
import { PNG } from "pngjs"

// jsqr is CommonJS with a `default` export: under NodeNext its types name the module, not the function.
const jsQR = jsQRModule.default

export const readQrPng = (png: Uint8Array): string | undefined => {
  const image = PNG.sync.read(Buffer.from(png))
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data
}

export const readQrSvg = (svg: string): string | undefined =>
  readQrPng(new Resvg(svg, { fitTo: { mode: "width", value: 300 }, background: "white" }).render().asPng())
