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

// Built once: every response gets one of these two sets.
const API_HEADERS = { ...HEADERS, "content-security-policy": CSP }
const DOCS_HEADERS = { ...HEADERS, "content-security-policy": DOCS_CSP }

/** Security headers equivalent to helmet's defaults on every response. */
export const securityHeaders = <E, R>(app: HttpApp.HttpApp<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) =>
      Effect.map(app, (response) => HttpServerResponse.setHeaders(response, request.url.startsWith("/docs") ? DOCS_HEADERS : API_HEADERS))
  )
