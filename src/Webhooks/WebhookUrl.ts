/**
 * A receiver's URL, checked without the network: what registration answers 400 to, and what
 * every attempt checks again before resolving the host (the settings may have changed since).
 */
import { Either } from "effect"
import { isIP } from "node:net"
import { addressRefusal } from "./ReceiverAddress.ts"

export interface UrlPolicy {
  /** `http://` accepted (WEBHOOK_ALLOW_HTTP); otherwise only `https://`. */
  readonly allowHttp: boolean
  /** IP literals of private ranges and `localhost` accepted (WEBHOOK_ALLOW_PRIVATE). */
  readonly allowPrivate: boolean
}

/** Longer URLs are refused: they are stored and shown, and no receiver needs one. */
export const MAX_URL_LENGTH = 2048

/** The host of a URL as a name or an address: WHATWG URLs keep IPv6 literals in brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, "")

/**
 * `url` parsed (Right), or why it may not receive webhooks (Left, a sentence for a 400): not an
 * absolute http(s) URL, `http` where only `https` is allowed, or a host that is a non-public IP
 * address or `localhost`. Decimal, octal and hex IPv4 forms (`http://2130706433/`,
 * `http://0x7f.1/`) are already dotted quads once parsed, so they are judged as such.
 */
export const checkUrl = (url: string, policy: UrlPolicy): Either.Either<URL, string> => {
  if (url.length > MAX_URL_LENGTH) return Either.left(`the URL is longer than ${MAX_URL_LENGTH} characters`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Either.left("the URL is not an absolute URL")
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return Either.left(`the URL's scheme must be https (not ${parsed.protocol.slice(0, -1)})`)
  }
  if (parsed.protocol === "http:" && !policy.allowHttp) return Either.left("the URL's scheme must be https")
  const host = hostOf(parsed)
  if (host === "") return Either.left("the URL has no host")
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, policy)
    return refusal === undefined ? Either.right(parsed) : Either.left(`the URL's host ${refusal}`)
  }
  if (!policy.allowPrivate && /(^|\.)localhost\.?$/i.test(host)) return Either.left("the URL's host is localhost")
  return Either.right(parsed)
}
