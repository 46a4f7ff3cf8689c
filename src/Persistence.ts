/** Where data lives: PostgreSQL (given a SqlClient: see Storage/Database.ts), or memory for the fast test tiers. */
import { Layer } from "effect"
import { UsersRepo } from "./Accounts/UsersRepo.ts"
import { AuditLog } from "./Audit/AuditLog.ts"
import { BookingsRepo } from "./Bookings/BookingsRepo.ts"
import { EventsRepo } from "./Events/EventsRepo.ts"
import { SalesRepo } from "./Events/SalesRepo.ts"
import { Readiness } from "./Health/Readiness.ts"
import { HoldsRepo } from "./Holds/HoldsRepo.ts"
import { IdempotencyStore } from "./Idempotency/IdempotencyStore.ts"
import { InventoryRepo } from "./Inventory/InventoryRepo.ts"
import { RateLimitStore } from "./RateLimits/RateLimitStore.ts"
import { MemoryStore } from "./Storage/MemoryStore.ts"
import { Transactions } from "./Storage/Transactions.ts"
import { TicketsRepo } from "./Tickets/TicketsRepo.ts"
import { TicketTypesRepo } from "./TicketTypes/TicketTypesRepo.ts"
import { WaitlistRepo } from "./Waitlist/WaitlistRepo.ts"
import { WebhooksRepo } from "./Webhooks/WebhooksRepo.ts"

export const PersistenceSql = Layer.mergeAll(
  UsersRepo.layer,
  EventsRepo.layer,
  SalesRepo.layer,
  TicketTypesRepo.layer,
  BookingsRepo.layer,
  HoldsRepo.layer,
  WaitlistRepo.layer,
  TicketsRepo.layer,
  WebhooksRepo.layer,
  InventoryRepo.layer,
  AuditLog.layer,
  Transactions.layer,
  Readiness.layer,
  IdempotencyStore.layer,
  // Redis when one is configured (needs AppConfig), else the database.
  RateLimitStore.layer
)

export const PersistenceMemory = Layer.mergeAll(
  UsersRepo.layerMemory,
  EventsRepo.layerMemory,
  SalesRepo.layerMemory,
  TicketTypesRepo.layerMemory,
  BookingsRepo.layerMemory,
  HoldsRepo.layerMemory,
  WaitlistRepo.layerMemory,
  TicketsRepo.layerMemory,
  WebhooksRepo.layerMemory,
  InventoryRepo.layerMemory,
  AuditLog.layerMemory,
  Transactions.layerMemory,
  Readiness.layerMemory,
  IdempotencyStore.layerMemory,
  RateLimitStore.layerMemory
  // The store stays visible to whoever provides this layer, so tests can see every table at once.
).pipe(Layer.provideMerge(MemoryStore.layer))
