/** The fuzz set of issue 8 over in-memory persistence: 10,000 generated requests across every endpoint. */
import { describe, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { MemoryStore } from "../../src/Storage/MemoryStore.ts"
import { fuzz, fuzzCast, fuzzRequests } from "../support/fuzz.ts"
import { MemoryServer } from "../support/server.ts"

const CASES = 10_000

layer(MemoryServer(), { excludeTestServices: true })((it) => {
  describe("generated hostile requests", () => {
    it.effect(
      `${CASES} requests: never a 5xx or a hang, every error in the standard shape, refusals change nothing`,
      () =>
        Effect.gen(function*() {
          const tokens = yield* fuzzCast(20)
          const store = yield* MemoryStore
          const jobs = yield* EnqueuedJobs
          yield* fuzz(
            {
              tokens,
              eventIds: Effect.map(Ref.get(store), (tables) => [...tables.events.keys()]),
              // The tables are replaced, never mutated: the same object means nothing changed.
              snapshot: Effect.map(Effect.all([Ref.get(store), Ref.get(jobs)]), ([tables, enqueued]) => ({ tables, jobs: enqueued.length }))
            },
            fuzzRequests(),
            CASES
          )
        }),
      180_000
    )
  })
})
