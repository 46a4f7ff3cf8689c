/**
 * The paging headers of a list response: `X-Total-Count` and an RFC 8288 `Link` to the first,
 * previous, next and last pages (the page itself is the body, a plain JSON array).
 */
import { HttpApp, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import type { Page, PageRequest } from "../Domain/Paging.ts"

/** The page's items; its total and links go on whatever response this request ends with. */
export const pageBody = <A>(request: HttpServerRequest.HttpServerRequest, pageRequest: PageRequest, page: Page<A>) =>
  HttpApp.appendPreResponseHandler((_, response) =>
    Effect.succeed(HttpServerResponse.setHeaders(response, pageHeaders(request.url, pageRequest, page.total)))
  ).pipe(Effect.as(page.items))

/** `X-Total-Count` and `Link` for a page of a list with `total` items, asked for at `requestUrl`. */
export const pageHeaders = (requestUrl: string, { limit, offset }: PageRequest, total: number) => ({
  "x-total-count": String(total),
  link: links(requestUrl, limit, offset, total)
})

/**
 * `first` and `last` always (the last page is the one holding the last item, in steps of `limit`
 * from the start; with no items, the first), `prev` unless this is the first page, `next` unless
 * nothing follows. Targets keep the request's other parameters and are relative references (RFC
 * 3986), so they hold behind any proxy or host name.
 */
export const links = (requestUrl: string, limit: number, offset: number, total: number): string => {
  const url = new URL(requestUrl, "http://localhost")
  const to = (target: number, rel: string) => {
    url.searchParams.set("limit", String(limit))
    url.searchParams.set("offset", String(target))
    return `<${url.pathname}?${url.searchParams}>; rel="${rel}"`
  }
  const last = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit
  const parts = [to(0, "first")]
  if (offset > 0) parts.push(to(Math.min(Math.max(offset - limit, 0), last), "prev"))
  if (offset + limit < total) parts.push(to(offset + limit, "next"))
  parts.push(to(last, "last"))
  return parts.join(", ")
}

const HEADERS = {
  "X-Total-Count": { description: "How many items the whole list has", schema: { type: "integer", minimum: 0 } },
  Link: {
    description: "RFC 8288 links to the `first`, `prev`, `next` and `last` pages (prev and next only where they exist)",
    schema: { type: "string" }
  }
}

/** OpenAPI: the operation's 200 response carries the paging headers. */
export const documentPageHeaders = (operation: Record<string, any>): Record<string, any> => {
  const ok = operation.responses?.["200"]
  if (ok !== undefined) ok.headers = { ...ok.headers, ...HEADERS }
  return operation
}
