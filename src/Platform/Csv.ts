/** CSV (RFC 4180) for exports that spreadsheets open: quoting, formula neutralization, negotiation. */
import { Chunk, Stream } from "effect"

export type CsvValue = string | number | Date

// A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/

/**
 * One field, always quoted (RFC 4180 allows it) and its quotes doubled: a field stays one cell
 * whatever a spreadsheet splits on (`;` in some locales, where `a;=1+1` unquoted opens a cell with
 * a formula). Text that would start a formula gets a leading apostrophe, which spreadsheets show
 * as text. Numbers are written as they are (a negative number is not a formula), dates as ISO 8601.
 */
export const csvField = (value: CsvValue): string => {
  const text = typeof value === "number"
    ? String(value)
    : value instanceof Date
    ? value.toISOString()
    : FORMULA_START.test(value)
    ? `'${value}`
    : value
  return `"${text.replaceAll("\"", "\"\"")}"`
}

/** One record, CRLF-terminated. */
export const csvRecord = (values: ReadonlyArray<CsvValue>): string => values.map(csvField).join(",") + "\r\n"

/**
 * The header record, then one record per row as the rows arrive, as UTF-8: each chunk of rows
 * pulled from the source becomes one write, and nothing else is held.
 */
export const csvStream = <A, E, R>(
  columns: ReadonlyArray<string>,
  rows: Stream.Stream<A, E, R>,
  values: (row: A) => ReadonlyArray<CsvValue>
): Stream.Stream<Uint8Array, E, R> =>
  Stream.concat(
    Stream.make(csvRecord(columns)),
    rows.pipe(Stream.mapChunks((chunk) => Chunk.of(Chunk.join(Chunk.map(chunk, (row) => csvRecord(values(row))), ""))))
  ).pipe(Stream.encodeText)

/** The media types an `Accept` header lists, with their weights (a missing or malformed q counts as 1). */
const weights = (accept: string) =>
  new Map(
    accept.split(",").map((part) => {
      const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase())
      const q = params.find((p) => p.startsWith("q="))
      const weight = q === undefined ? 1 : Number(q.slice(2))
      return [type, Number.isNaN(weight) ? 1 : weight] as const
    })
  )

/** Whether `Accept` prefers CSV to JSON: `text/csv` listed with a higher weight than `application/json` (JSON wins ties). */
export const prefersCsv = (accept: string | undefined): boolean => {
  if (accept === undefined || !accept.toLowerCase().includes("text/csv")) return false
  const listed = weights(accept)
  return (listed.get("text/csv") ?? 0) > (listed.get("application/json") ?? 0)
}
