/** The repositories' and stores' contracts (test/support/) on PostgreSQL: the same answers as in memory. */
import { describe, layer } from "@effect/vitest"
import { Layer } from "effect"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { auditLogContract } from "../support/auditLog.ts"
import { TestDatabaseLive } from "../support/database.ts"
import { idempotencyStoreContract } from "../support/idempotencyStore.ts"
import { rateLimitStoreContract } from "../support/rateLimitStore.ts"
import { repositoryContract } from "../support/repositories.ts"
import { ticketsRepoContract } from "../support/ticketsRepo.ts"
import { sqlTicketFixtures, ticketTypesContract } from "../support/ticketTypes.ts"
import { webhooksRepoContract } from "../support/webhooks.ts"

describe("repositories on PostgreSQL", () => {
  // AppConfig.layerTest names no Redis: the rate-limit counters are the database's (their Redis run is in rate-limits.test.ts).
  // The database stays visible: test/support/tickets.ts writes tickets through it.
  layer(PersistenceSql.pipe(Layer.provideMerge(TestDatabaseLive), Layer.provide(AppConfig.layerTest())), { excludeTestServices: true })(
    (it) => {
      repositoryContract(it)
      auditLogContract(it)
      ticketTypesContract(it, sqlTicketFixtures)
      ticketsRepoContract(it)
      idempotencyStoreContract(it)
      rateLimitStoreContract(it)
      webhooksRepoContract(it)
    }
  )
})
