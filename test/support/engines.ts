/**
 * The booking engine (Inventory) as the engine tests run it, with a customer's ticket limit of
 * `limit`: on the memory store, or as the server runs it (outbox, audit trail) on a fresh database.
 */
import { Layer, Logger, LogLevel } from "effect"
import { AuditLog } from "../../src/Audit/AuditLog.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { InventoryRepo } from "../../src/Inventory/InventoryRepo.ts"
import { JobCatalogueLive } from "../../src/Jobs.ts"
import { JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Outbox } from "../../src/Jobs/Outbox.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { Transactions } from "../../src/Storage/Transactions.ts"
import { TestDatabaseLive } from "./database.ts"

const settings = (limit: number) => AppConfig.layerTest({ MAX_TICKETS_PER_CUSTOMER_PER_EVENT: limit })

export const memoryEngine = (limit: number) =>
  Inventory.layer.pipe(
    Layer.provideMerge(PersistenceMemory),
    Layer.provideMerge(JobQueue.layerMemory),
    Layer.provideMerge(settings(limit)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

export const postgresEngine = (limit: number) =>
  Inventory.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(JobQueue.layer, Transactions.layer, InventoryRepo.layer, AuditLog.layer)),
    Layer.provideMerge(Outbox.layer.pipe(Layer.provide(JobCatalogueLive))),
    Layer.provideMerge(settings(limit)),
    Layer.provideMerge(TestDatabaseLive),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
