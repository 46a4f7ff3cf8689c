/** CSV for exports (Platform/Csv.ts): RFC 4180 quoting, formula neutralization, streaming, negotiation. */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { csvField, csvRecord, csvStream, prefersCsv } from "../../src/Platform/Csv.ts"

describe("csvField", () => {
  const cases: ReadonlyArray<[string | number | Date, string]> = [
    ["plain", "\"plain\""],
    ["a,b", "\"a,b\""],
    ["say \"hi\"", "\"say \"\"hi\"\"\""],
    ["two\nlines", "\"two\nlines\""],
    ["cr\r\nlf", "\"cr\r\nlf\""],
    ["=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""],
    ["+1+1", "\"'+1+1\""],
    ["-1+1", "\"'-1+1\""],
    ["@SUM(A1)", "\"'@SUM(A1)\""],
    ["\t=1", "\"'\t=1\""],
    ["=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""],
    // A spreadsheet that splits on `;` (a locale setting) must still see one cell, not one starting with `=`.
    ["a;=1+1@x.com", "\"a;=1+1@x.com\""],
    ["a\t=1", "\"a\t=1\""],
    ["a=b", "\"a=b\""],
    ["", "\"\""],
    [-5, "\"-5\""],
    [42, "\"42\""],
    [new Date("2030-12-01T10:00:00.000Z"), "\"2030-12-01T10:00:00.000Z\""]
  ]
  it("quotes every field (whatever separator a spreadsheet splits on, a field stays one cell) and defuses formulas", () => {
    for (const [value, written] of cases) expect({ value, written: csvField(value) }).toEqual({ value, written })
  })

  it("a record is its fields, comma-separated, CRLF-terminated", () => {
    expect(csvRecord([1, "=x", "a,b"])).toBe("\"1\",\"'=x\",\"a,b\"\r\n")
  })
})

describe("csvStream", () => {
  it.effect("the header, then one write per chunk of rows pulled from the source", () =>
    Effect.gen(function*() {
      const rows = Stream.fromChunks(Chunk.make({ n: 1 }, { n: 2 }), Chunk.make({ n: 3 }))
      const writes = yield* Stream.runCollect(csvStream(["n"], rows, (row) => [row.n]).pipe(Stream.decodeText()))
      expect(Chunk.toReadonlyArray(writes)).toEqual(["\"n\"\r\n", "\"1\"\r\n\"2\"\r\n", "\"3\"\r\n"])
    }))
})

describe("prefersCsv", () => {
  const cases: ReadonlyArray<[string | undefined, boolean]> = [
    [undefined, false],
    ["*/*", false],
    ["application/json", false],
    ["text/csv", true],
    ["TEXT/CSV; charset=utf-8", true],
    ["text/csv;q=0", false],
    ["application/json, text/csv", false],
    ["application/json;q=0.5, text/csv", true],
    ["text/csv;q=0.4, application/json;q=0.9", false],
    ["text/html,application/xhtml+xml,*/*;q=0.8", false]
  ]
  it("CSV when Accept weighs text/csv above application/json; JSON wins ties", () => {
    for (const [accept, csv] of cases) expect({ accept, csv: prefersCsv(accept) }).toEqual({ accept, csv })
  })
})
