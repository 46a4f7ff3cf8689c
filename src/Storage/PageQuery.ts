/** A page of a list and the size of the whole list, read from PostgreSQL in one round trip. */
import type { SqlClient, Statement } from "@effect/sql"
import { Effect, type ParseResult, Schema } from "effect"
import type { Page } from "../Domain/Paging.ts"

/**
 * A page and the size of the whole list in one statement and one round trip:
 * `SELECT t.total, p.* FROM (<count>) t LEFT JOIN LATERAL (<page>) p ON true ORDER BY <order>`.
 * Each part is planned on its own (the count from an index, the page from the ordered index with
 * its LIMIT), and the count comes back even with an empty page, as one row whose other columns are
 * NULL. `count` must answer one row with a column `total`; `order` orders the page's rows again.
 * Decode its rows with `pageRows`.
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
