/**
 * Paging of list endpoints: `limit` and `offset` in the query, the page itself as the JSON array it
 * always was, and the rest in headers: `X-Total-Count` and an RFC 8288 `Link` to the first,
 * previous, next and last pages.
 */
import { HttpApp, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { SqlClient, Statement } from "@effect/sql"
import { Effect, type ParseResult, Schema } from "effect"
import { QueryInt } from "../Domain/Payload.ts"

export const PAGE_SIZE = { default: 20, max: 100 } as const
const MAX_OFFSET = 1_000_000

/**
 * The paging fields of a list endpoint's query: spread them into its URL parameters. Optional in the
 * schema (the typed client need not name them); `pageRequest` applies the defaults.
 */
export const PageParams = {
  limit: Schema.optional(
    QueryInt(1, PAGE_SIZE.max, `Items per page, 1 to ${PAGE_SIZE.max} (default ${PAGE_SIZE.default})`, PAGE_SIZE.default)
  ),
  offset: Schema.optional(QueryInt(0, MAX_OFFSET, `Items to skip, 0 to ${MAX_OFFSET} (default 0)`, 0))
}

/** The query of a list endpoint that takes nothing but paging. */
export const PageQuery = Schema.Struct(PageParams)

export interface PageRequest {
  readonly limit: number
  readonly offset: number
}

/** The page asked for, defaults applied. */
export const pageRequest = (params: { readonly limit?: number | undefined; readonly offset?: number | undefined }): PageRequest => ({
  limit: params.limit ?? PAGE_SIZE.default,
  offset: params.offset ?? 0
})

/** One page of a list and how many items the whole list has. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly total: number
}

/**
 * A page and the size of the whole list in one statement and one round trip:
 * `SELECT t.total, p.* FROM (<count>) t LEFT JOIN LATERAL (<page>) p ON true ORDER BY <order>`.
 * Each part is planned on its own (the count from an index, the page from the ordered index with
 * its LIMIT), and the count comes back even with an empty page, as one row whose other columns are
 * NULL. `count` must answer one row with a column `total`; `order` orders the page's rows again.
 */
export const pageWithCount = (
  sql: SqlClient.SqlClient,
  parts: { readonly count: Statement.Fragment; readonly page: Statement.Fragment; readonly order: Statement.Fragment }
) => sql`SELECT t.total, p.* FROM (${parts.count}) t LEFT JOIN LATERAL (${parts.page}) p ON true ORDER BY ${parts.order}`

const decodeTotal = Schema.decodeUnknown(Schema.Struct({ total: Schema.Int }))

/**
 * The rows of `pageWithCount` decoded as a Page of `Item` (decoders built once, where this is
 * called); `key` is a column that is never NULL in a real row.
 */
export const pageRows = <A, I, R>(Item: Schema.Schema<A, I, R>, key: string) => {
  const decodeItems = Schema.decodeUnknown(Schema.Array(Item))
  return (rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Effect.Effect<Page<A>, ParseResult.ParseError, R> =>
    rows.length === 0
      ? Effect.succeed({ total: 0, items: [] })
      : Effect.zipWith(decodeTotal(rows[0]), decodeItems(rows.filter((row) => row[key] !== null)), ({ total }, items) => ({ total, items }))
}

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
