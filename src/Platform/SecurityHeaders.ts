import { type HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

// helmet's defaults (v8), written out: JSON responses need nothing looser.
const CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' https: 'unsafe-inline'",
  "upgrade-insecure-requests"
].join(";")

// The docs page (Scalar) inlines its script and the OpenAPI document, and compiles WebAssembly:
// it needs inline scripts and wasm, nothing remote.
const DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'")

const HEADERS: Record<string, string> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "origin-agent-cluster": "?1",
  "referrer-policy": "no-referrer",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-dns-prefetch-control": "off",
  "x-download-options": "noopen",
  "x-frame-options": "SAMEORIGIN",
  "x-permitted-cross-domain-policies": "none",
  "x-xss-protection": "0"
}

/** Security headers equivalent to helmet's defaults on every response. */
export const securityHeaders = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const response = yield* app
    const csp = request.url.startsWith("/docs") ? DOCS_CSP : CSP
    return HttpServerResponse.setHeaders(response, { ...HEADERS, "content-security-policy": csp })
  })
