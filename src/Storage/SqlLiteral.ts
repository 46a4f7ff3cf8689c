/**
 * Values written inline in a statement's text, for the statements sent with a COMMIT (they take no
 * parameters: Storage/Transactions.ts).
 */

/**
 * A text as a SQL string literal, exactly as `pg.escapeLiteral` writes it (quotes doubled; where
 * there is a backslash, backslashes doubled in an E'' literal), by native replaces: pg's builds the
 * literal a character at a time, and on the engine's JSON of a batch (tens of KB) that was 7% of
 * all the bytes the main thread allocated at 64 connections (a sampling allocation profile).
 */
export const escapeLiteral = (text: string): string => {
  const quoted = `'${text.replaceAll("'", "''")}'`
  return text.includes("\\") ? ` E${quoted.replaceAll("\\", "\\\\")}` : quoted
}

/** `value` as a jsonb literal. */
export const jsonLiteral = (value: unknown): string => `${escapeLiteral(JSON.stringify(value))}::jsonb`
