/**
 * A ticket's code: what a customer carries (in the email, as a QR image) and a scanner reads at the
 * door. 100 random bits from `crypto` (unguessable: knowing one code tells nothing of another), in
 * Crockford's base32 (no I, L, O, U: read aloud or typed without confusion), in four groups of five:
 * `7K2QF-M9XRB-0C4TD-HW3NP`. `@scure/base` does the encoding (a maintained, dependency-free codec).
 */
import { base32crockford } from "@scure/base"
import { Option, ParseResult, Schema } from "effect"
import { randomBytes } from "node:crypto"

const length = 20 // characters: 100 bits
const groups = /.{5}/g

/** A new code (100 random bits; 13 bytes drawn, the last 4 bits dropped). */
export const newTicketCode = (): string => group(base32crockford.encode(randomBytes(13)).slice(0, length))

const group = (plain: string) => plain.match(groups)!.join("-")

/**
 * The code as stored, from what a person or a scanner sent: case, dashes and spaces do not matter,
 * and the letters Crockford reads as digits (O → 0, I and L → 1) are read so. `None`: not a code.
 */
export const normalizeTicketCode = (input: string): Option.Option<string> => {
  const plain = input.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1")
  return plain.length === length && /^[0-9A-HJKMNP-TV-Z]+$/.test(plain) ? Option.some(group(plain)) : Option.none()
}

/** A ticket code in a request (path or body), normalized; a 400 naming the expected shape otherwise. */
export const TicketCode = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (input, _, ast) =>
    Option.match(normalizeTicketCode(input), {
      onNone: () =>
        ParseResult.fail(new ParseResult.Type(ast, input, "must be a ticket code: 20 letters and digits like 7K2QF-M9XRB-0C4TD-HW3NP")),
      onSome: ParseResult.succeed
    }),
  encode: ParseResult.succeed
}).annotations({ identifier: "TicketCode", description: "A ticket's code, e.g. 7K2QF-M9XRB-0C4TD-HW3NP (case, dashes and spaces ignored)" })
