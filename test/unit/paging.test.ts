/** The Link header of paged lists (Domain/Paging.ts, RFC 8288). */
import { describe, expect, it } from "@effect/vitest"
import { links } from "../../src/Edge/PageHeaders.ts"

const rels = (header: string) =>
  Object.fromEntries(
    header.split(", ").map((part) => {
      const [, target, rel] = /^<([^>]*)>; rel="(\w+)"$/.exec(part)!
      return [rel, target]
    })
  )

describe("links", () => {
  it("first and last always; prev and next where they exist", () => {
    expect(rels(links("/api/events", 10, 0, 0))).toEqual({
      first: "/api/events?limit=10&offset=0",
      last: "/api/events?limit=10&offset=0"
    })
    expect(rels(links("/api/events", 10, 0, 25))).toEqual({
      first: "/api/events?limit=10&offset=0",
      next: "/api/events?limit=10&offset=10",
      last: "/api/events?limit=10&offset=20"
    })
    expect(rels(links("/api/events", 10, 20, 25))).toEqual({
      first: "/api/events?limit=10&offset=0",
      prev: "/api/events?limit=10&offset=10",
      last: "/api/events?limit=10&offset=20"
    })
    expect(rels(links("/api/events", 10, 10, 20))).toMatchObject({ last: "/api/events?limit=10&offset=10" })
    expect(rels(links("/api/events", 10, 10, 20)).next).toBeUndefined()
  })

  it("prev from an offset between pages or past the end lands on a real page", () => {
    expect(rels(links("/api/events", 10, 5, 25)).prev).toBe("/api/events?limit=10&offset=0")
    expect(rels(links("/api/events", 10, 500, 25)).prev).toBe("/api/events?limit=10&offset=20")
  })

  it("keeps the request's other parameters, encoded, and replaces limit and offset", () => {
    const header = links("/api/events?q=jazz%20night&limit=5&sort=-date&offset=5", 5, 5, 12)
    expect(rels(header).next).toBe("/api/events?q=jazz+night&limit=5&sort=-date&offset=10")
    // Nothing in a target can close the angle brackets or split the header.
    expect(links("/api/events?q=%3E%2C%20x", 5, 0, 1)).not.toMatch(/q=[^&]*[>,\s]/)
  })
})
