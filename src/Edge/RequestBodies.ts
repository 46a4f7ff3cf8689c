/**
 * What a request body may be before the platform parses it: JSON only, and shallow.
 *
 * The platform would otherwise parse multipart and urlencoded bodies too (a multipart body can
 * fail as a defect, or wait forever when empty), and those content types are CORS-simple: any web
 * page could post them cross-site. Deeply nested JSON overflows the stack when a decode error
 * quotes the value, so it is refused before it reaches the decoder.
 */
import type { HttpServerRequest } from "@effect/platform"
import { HttpMethod } from "@effect/platform"

/** Nesting allowed in a body (the body itself is level 1); every payload of this API is a flat object. */
export const MAX_JSON_DEPTH = 32

/** Whether the request carries a body at all (a length, even 0, or a chunked one). */
const hasBody = (request: HttpServerRequest.HttpServerRequest) => {
  const length = request.headers["content-length"]
  return (length !== undefined && length.trim() !== "0") || request.headers["transfer-encoding"] !== undefined
}

/** `application/json`, with at most a UTF-8 charset among its parameters (the body is always read as UTF-8). */
export const isJsonContentType = (header: string) => {
  const [essence, ...parameters] = header.split(";").map((part) => part.trim().toLowerCase())
  return essence === "application/json" &&
    parameters.every((parameter) => {
      const [name, value = ""] = parameter.split("=").map((part) => part.trim())
      return name !== "charset" || ["utf-8", "utf8", "\"utf-8\""].includes(value)
    })
}

/**
 * Why the request's body is refused before reading it (a 415), or undefined. Only methods the
 * platform reads a body for are checked: they need `application/json`, or neither a body nor a
 * content type.
 */
export const unsupportedBody = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  if (!HttpMethod.hasBody(request.method)) return undefined
  const contentType = request.headers["content-type"]
  if (contentType === undefined) {
    return hasBody(request) ? "A request body needs Content-Type: application/json" : undefined
  }
  return isJsonContentType(contentType)
    ? undefined
    : "The request body must be JSON, sent as Content-Type: application/json"
}

/** Whether the body should be read and checked for depth before the platform parses it. */
export const isJsonBody = (request: HttpServerRequest.HttpServerRequest) =>
  HttpMethod.hasBody(request.method) && request.headers["content-type"] !== undefined && hasBody(request)

const OPEN_BRACE = 0x7b
const OPEN_BRACKET = 0x5b
const CLOSE_BRACE = 0x7d
const CLOSE_BRACKET = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a

const MAX_NAME = 64

/** The JSON text of a string (between its quotes) as the string, shortened for a message. */
const nameOf = (raw: string) => {
  let name: string
  try {
    name = JSON.parse(`"${raw}"`)
  } catch {
    name = raw
  }
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}…` : name
}

/**
 * When `text` nests arrays or objects deeper than `max`: the top-level field it happens in ("" when
 * not inside a field of an object). Undefined when it does not. A linear scan that only follows
 * strings and brackets; whether the text is valid JSON is left to the parser.
 */
export const tooDeepAt = (text: string, max: number): string | undefined => {
  let depth = 0
  let stringStart = -1
  let lastString = ""
  let field = ""
  let inObject = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (stringStart >= 0) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) {
        if (depth === 1) lastString = text.slice(stringStart, i)
        stringStart = -1
      }
      continue
    }
    if (c === QUOTE) stringStart = i + 1
    else if (c === COLON && depth === 1) field = lastString
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 0) inObject = c === OPEN_BRACE
      if (++depth > max) return inObject ? nameOf(field) : ""
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
      if (depth === 1) field = ""
    }
  }
  return undefined
}
