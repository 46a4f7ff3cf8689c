/** The repositories' contract (test/support/repositories.ts) on the in-memory layers the fast tiers use. */
import { describe, layer } from "@effect/vitest"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { repositoryContract } from "../support/repositories.ts"

describe("repositories in memory", () => {
  layer(PersistenceMemory, { excludeTestServices: true })((it) => repositoryContract(it))
})
