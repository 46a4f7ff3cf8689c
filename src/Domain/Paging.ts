/**
 * Paging of list endpoints: `limit` and `offset` in the query, and a page as its items and the size
 * of the whole list. The page itself goes out as the JSON array it always was, the rest in headers
 * (Edge/PageHeaders.ts); Storage/PageQuery.ts reads a page and its count in one statement.
 */
import { Schema } from "effect"
import { QueryInt } from "./Payload.ts"

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
