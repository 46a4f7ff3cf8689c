/** Inline SQL literals (src/Storage/SqlLiteral.ts) are written exactly as the pg driver's escapeLiteral writes them. */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import pg from "pg"
import { escapeLiteral, jsonLiteral } from "../../src/Storage/SqlLiteral.ts"

describe("inline SQL literals", () => {
  it("escapeLiteral writes what pg.escapeLiteral writes, for any text (quotes, backslashes, any script)", () => {
    const tricky = fc.constantFrom("'", "\\", "''", "\\'", "E'", "\u0000", "é", "😀", "\n")
    const text = fc.oneof(fc.fullUnicodeString(), fc.array(fc.oneof(tricky, fc.string()), { maxLength: 20 }).map((parts) => parts.join("")))
    fc.assert(fc.property(text, (value) => escapeLiteral(value) === pg.escapeLiteral(value)), { numRuns: 2_000 })
  })

  it("jsonLiteral is the JSON text as a jsonb literal", () => {
    expect(jsonLiteral([{ title: "Rock 'n' roll \\ night" }])).toBe(` E'[{"title":"Rock ''n'' roll \\\\\\\\ night"}]'::jsonb`)
    expect(jsonLiteral({ n: 1 })).toBe(`'{"n":1}'::jsonb`)
  })
})
