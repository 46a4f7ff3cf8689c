/**
 * The row boundary: what PostgreSQL answers is decoded by a schema once, where it arrives (with
 * `SqlSchema` or a decoder built once per module), so nothing past a repository trusts a cast.
 *
 * The driver (pg) has typed the columns already: int4 → number, text → string, timestamptz → Date,
 * json → parsed JSON whose timestamps are ISO text. A row of plain columns is therefore checked
 * against the decoded side of its domain schema (`driverRow`: nothing converted), and JSON built
 * by a query or a function is decoded by the schema of what it holds (`Schema.Date` reads the text).
 * A row that does not decode is a defect (`storageDefects`): the query and its schema disagree.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, type ParseResult, Predicate, Schema } from "effect"

/** The schema of a row whose columns the driver has typed: `schema`'s decoded side, checked, nothing converted. */
export const driverRow = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.typeSchema(schema)

const isStorageFailure = (error: unknown): error is SqlError | ParseResult.ParseError =>
  Predicate.isTagged(error, "SqlError") || Predicate.isTagged(error, "ParseError")

/** A failing statement and a row that does not decode as defects; the repository's own errors stay. */
export const storageDefects = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError>, R> =>
  Effect.catchIf(self, isStorageFailure, Effect.die) as Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError>, R>
