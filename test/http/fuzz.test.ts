/** The fuzz set of issue 8 over in-memory persistence: 10,000 generated requests across every endpoint. */
import { describe, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { MemoryStore } from "../../src/Platform/MemoryStore.ts"
import { fuzz, fuzzRequests } from "../support/fuzz.ts"
import { createEvent, MemoryServer, signUp, tokenOfMissingUser } from "../support/server.ts"

const CASES = 10_000

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("generated hostile requests", () => {
    it.effect(`${CASES} requests: never a 5xx or a hang, every error in the standard shape, refusals change nothing`, () =>
      Effect.gen(function*() {
        const organizer = yield* signUp("ORGANIZER")
        const otherOrganizer = yield* signUp("ORGANIZER")
        const customer = yield* signUp("CUSTOMER")
        for (let i = 0; i < 20; i++) yield* createEvent(organizer.token, { totalTickets: 1 + (i % 4) * 5, daysAhead: 1 + i })
        const store = yield* MemoryStore
        const jobs = yield* EnqueuedJobs
        yield* fuzz(
          {
            tokens: {
              garbage: "not.a.jwt",
              organizer: organizer.token,
              otherOrganizer: otherOrganizer.token,
              customer: customer.token,
              ghostOrganizer: yield* tokenOfMissingUser("ORGANIZER"),
              ghostCustomer: yield* tokenOfMissingUser("CUSTOMER")
            },
            eventIds: Effect.map(Ref.get(store), (tables) => [...tables.events.keys()]),
            // The tables are replaced, never mutated: the same object means nothing changed.
            snapshot: Effect.map(Effect.all([Ref.get(store), Ref.get(jobs)]), ([tables, enqueued]) => ({ tables, jobs: enqueued.length }))
          },
          fuzzRequests(),
          CASES
        )
      }), 180_000)
  })
})
