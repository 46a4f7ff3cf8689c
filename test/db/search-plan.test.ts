/**
 * The catalogue's search over 100,000 events uses its indexes (migrations/0007_event_discovery.ts): PostgreSQL's own
 * plan for exactly the statements the repository runs. What they cost: docs/decisions/0006-catalogue-search-and-paging.md.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type { UserId } from "../../src/Domain/Ids.ts"
import { type EventSearch, listStatements } from "../../src/Events/EventsRepo.ts"
import { TestDatabaseLive } from "../support/database.ts"

const EVENTS = 100_000

/** Every index the plan reads, wherever it sits in the tree. */
const indexesIn = (plan: unknown): Array<string> => {
  if (Array.isArray(plan)) return plan.flatMap(indexesIn)
  if (typeof plan !== "object" || plan === null) return []
  const node = plan as Record<string, unknown>
  return [...(typeof node["Index Name"] === "string" ? [node["Index Name"]] : []), ...Object.values(node).flatMap(indexesIn)]
}

/** Scans of the whole table, wherever they sit in the tree. */
const seqScansIn = (plan: unknown): number => {
  if (Array.isArray(plan)) return plan.reduce((sum: number, item) => sum + seqScansIn(item), 0)
  if (typeof plan !== "object" || plan === null) return 0
  const node = plan as Record<string, unknown>
  return (node["Node Type"] === "Seq Scan" ? 1 : 0) + Object.values(node).reduce((sum: number, item) => sum + seqScansIn(item), 0)
}

const search = (criteria: Partial<EventSearch>): EventSearch => ({
  words: [],
  upcomingOnly: true,
  availableOnly: false,
  sort: "date",
  ...criteria
})

/** The plan PostgreSQL chooses for the repository's own statement. */
const planOf = (build: (statements: ReturnType<typeof listStatements>) => { compile: () => readonly [string, ReadonlyArray<unknown>] }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [text, params] = build(listStatements(sql)).compile()
    const [row] = yield* sql.unsafe<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params as Array<unknown>)
    return row!["QUERY PLAN"]
  }).pipe(Effect.orDie)

describe("the catalogue's indexes", () => {
  layer(TestDatabaseLive.pipe(Layer.orDie), { excludeTestServices: true, timeout: 120_000 })((it) => {
    it.effect(`a search over ${EVENTS.toLocaleString("en")} events reads its indexes, never the whole table`, () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [organizer] = yield* sql<{ id: UserId }>`
          INSERT INTO users (email, password_hash, role) VALUES ('plan@example.com', 'x', 'ORGANIZER') RETURNING id`
        // Ten genres by eight formats, a hundred cities, dates ten minutes apart; some drafts and cancellations.
        yield* sql`
          INSERT INTO events (organizer_id, title, description, location, date, total_tickets, available_tickets, published_at, deleted_at)
          SELECT ${organizer!.id},
                 (ARRAY['Jazz','Rock','Opera','Poetry','Comedy','Ballet','Techno','Folk','Blues','Choir'])[1 + i % 10] || ' ' ||
                   (ARRAY['Night','Festival','Evening','Matinee','Gala','Session','Marathon','Showcase'])[1 + (i / 10) % 8] || ' ' || i,
                 'An evening of ' || md5(i::text),
                 'City' || (i % 100) || ' Hall ' || (i % 13),
                 now() + make_interval(mins => i * 10),
                 100, i % 101,
                 CASE WHEN i % 50 = 0 THEN NULL ELSE now() END,
                 CASE WHEN i % 40 = 0 THEN now() END
          FROM generate_series(1, ${EVENTS}) AS i`
        // As autovacuum leaves a table that is read more than written: statistics, and a visibility
        // map that lets counts read the index alone.
        yield* sql`VACUUM ANALYZE events`
        const page = { limit: 20, offset: 0 }

        const trigrams = ["events_catalogue_text_idx", "events_catalogue_location_idx"]
        const cases: ReadonlyArray<[string, ReturnType<typeof planOf>, ReadonlyArray<string>]> = [
          ["q", planOf((s) => s.search(search({ words: ["festival", "4242"] }), page)), ["events_catalogue_text_idx"]],
          ["location", planOf((s) => s.search(search({ location: "city42 " }), page)), ["events_catalogue_location_idx"]],
          // Either trigram index narrows it; the planner picks by its estimates.
          ["q and location", planOf((s) => s.search(search({ words: ["opera"], location: "city7 hall 3" }), page)), trigrams],
          ["the default listing", planOf((s) => s.search(search({}), page)), ["events_catalogue_date_idx"]],
          ["a later page", planOf((s) => s.search(search({}), { limit: 20, offset: 1000 })), ["events_catalogue_date_idx"]],
          [
            "from and to",
            planOf((s) => s.search(search({ from: new Date(Date.now() + 86_400_000), to: new Date(Date.now() + 3 * 86_400_000) }), page)),
            ["events_catalogue_date_idx"]
          ],
          ["sort=-date", planOf((s) => s.search(search({ sort: "-date" }), page)), ["events_catalogue_date_idx"]],
          ["sort=title", planOf((s) => s.search(search({ sort: "title" }), page)), ["events_catalogue_title_idx"]]
        ]
        for (const [name, plan, indexes] of cases) {
          const found = yield* plan
          expect({ name, uses: indexesIn(found).some((index) => indexes.includes(index)), seqScans: seqScansIn(found) })
            .toEqual({ name, uses: true, seqScans: 0 })
        }
        // All 100,000 are this organizer's: the count reads the table, the page the index.
        expect(indexesIn(yield* planOf((s) => s.byOrganizer(organizer!.id, page)))).toContain("events_organizer_idx")
      }))
  })
})
