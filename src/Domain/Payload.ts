import { Schema } from "effect"

/**
 * Parse options for request bodies: an unknown field is an error (a typo must not be silently
 * ignored), and every problem is reported at once rather than the first only.
 */
export const strictPayload = { parseOptions: { onExcessProperty: "error", errors: "all" } } as const

// C0 controls (NUL included: PostgreSQL refuses it in text), DEL and C1 controls: matching them is the point.
/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
// The same, but tab, line feed and carriage return are allowed (multi-line text).
const CONTROL_BUT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/
/* eslint-enable no-control-regex */
// A surrogate half without its pair: not text, and silently replaced when encoded to UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Refuses control characters and broken UTF-16 in client text; `multiline` lets tab and line breaks through. */
export const plainText = (options: { readonly multiline: boolean }) => <S extends Schema.Schema.Any>(self: S) =>
  self.pipe(
    Schema.filter((s: string) =>
      LONE_SURROGATE.test(s)
        ? "must be valid Unicode text"
        : (options.multiline ? CONTROL_BUT_LINE_BREAKS : CONTROL).test(s)
        ? options.multiline
          ? "must not contain control characters other than tab and line breaks"
          : "must not contain control characters or line breaks"
        : true
    )
  )

/**
 * A non-negative integer written the one canonical way, for URLs (`/events/:id`, `?limit=`): plain
 * decimal digits, no sign, leading zero, space, exponent, fraction or hex.
 */
export const DecimalInt = Schema.String.pipe(
  Schema.filter((s) => /^(0|[1-9][0-9]{0,14})$/.test(s), { message: () => "must be a whole number in plain decimal digits" }),
  Schema.compose(Schema.NumberFromString),
  Schema.int()
)

/**
 * A `DecimalInt` from `min` to `max`, for the query string. The OpenAPI document shows it as the
 * integer it stands for, with its bounds (the wire type, a string, says nothing useful).
 */
export const QueryInt = (min: number, max: number, description: string, defaultValue?: number) =>
  DecimalInt.pipe(
    Schema.between(min, max, { message: () => `must be a whole number from ${min} to ${max}` })
  ).annotations({
    jsonSchema: {
      type: "integer",
      minimum: min,
      maximum: max,
      description,
      ...(defaultValue === undefined ? {} : { default: defaultValue })
    }
  })
