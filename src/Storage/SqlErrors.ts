import { SqlError } from "@effect/sql/SqlError"

/** PostgreSQL's SQLSTATE of the driver error behind a SqlError, if any. */
const sqlState = (error: unknown): string | undefined =>
  error instanceof SqlError && typeof error.cause === "object" && error.cause !== null && "code" in error.cause
    ? String(error.cause.code)
    : undefined

export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === "23505"

/** A foreign key violation, e.g. a row pointing at a user that no longer exists. */
export const isForeignKeyViolation = (error: unknown): boolean => sqlState(error) === "23503"
