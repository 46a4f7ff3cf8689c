/** A page of a list and the size of the whole list, read from PostgreSQL in one round trip. */
import type { SqlClient, Statement } from "@effect/sql"
import type { Page } from "../Domain/Paging.ts"

/**
 * A page and the size of the whole list in one statement and one round trip:
 * `SELECT t.total, p.* FROM (<count>) t LEFT JOIN LATERAL (<page>) p ON true ORDER BY <order>`.
 * Each part is planned on its own (the count from an index, the page from the ordered index with
 * its LIMIT), and the count comes back even with an empty page, as one row whose other columns are
 * NULL. `count` must answer one row with a column `total`; `order` orders the page's rows again.
 */
export const pageWithCount = <A extends object>(
  sql: SqlClient.SqlClient,
  parts: { readonly count: Statement.Fragment; readonly page: Statement.Fragment; readonly order: Statement.Fragment }
) =>
  sql<
    A & { readonly total: number }
  >`SELECT t.total, p.* FROM (${parts.count}) t LEFT JOIN LATERAL (${parts.page}) p ON true ORDER BY ${parts.order}`

/** The rows of `pageWithCount` as a Page; `key` is a column that is never NULL in a real row. */
export const toPage = <A extends object>(key: keyof A) => (rows: ReadonlyArray<A & { readonly total: number }>): Page<A> => ({
  total: rows[0]?.total ?? 0,
  items: rows.filter((row) => row[key] !== null).map(({ total: _, ...item }) => item as unknown as A)
})
