/** The repositories' and stores' contracts (test/support/) on the in-memory layers the fast tiers use. */
import { describe, layer } from "@effect/vitest"
import { Layer } from "effect"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { auditLogContract } from "../support/auditLog.ts"
import { idempotencyStoreContract } from "../support/idempotencyStore.ts"
import { rateLimitStoreContract } from "../support/rateLimitStore.ts"
import { repositoryContract } from "../support/repositories.ts"
import { ticketsRepoContract } from "../support/ticketsRepo.ts"
import { memoryTicketFixtures, ticketTypesContract } from "../support/ticketTypes.ts"
import { webhooksRepoContract } from "../support/webhooks.ts"

describe("repositories in memory", () => {
  layer(PersistenceMemory.pipe(Layer.provide(AppConfig.layerTest())), { excludeTestServices: true })((it) => {
    repositoryContract(it)
    auditLogContract(it)
    ticketTypesContract(it, memoryTicketFixtures)
    ticketsRepoContract(it)
    idempotencyStoreContract(it)
    rateLimitStoreContract(it)
    webhooksRepoContract(it)
  })
})
