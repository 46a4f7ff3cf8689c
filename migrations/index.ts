/** Every migration, by `<number>_<name>`: add new ones here, never edit an applied one. */
import createTables from "./0001_create_tables.ts"
import outboxAndDeliveries from "./0002_outbox_and_deliveries.ts"
import outboxJobIds from "./0003_outbox_job_ids.ts"
import rateLimits from "./0004_rate_limits.ts"
import queueNamespace from "./0005_queue_namespace.ts"
import idempotencyKeys from "./0006_idempotency_keys.ts"
import eventDiscovery from "./0007_event_discovery.ts"
import ticketLifecycle from "./0008_ticket_lifecycle.ts"
import deliveryClaims from "./0009_delivery_claims.ts"
import inventoryState from "./0010_inventory_state.ts"
import ticketTypesAndTickets from "./0011_ticket_types_and_tickets.ts"
import webhooks from "./0012_webhooks.ts"
import auditLog from "./0013_audit_log.ts"
import ticketTypesInEngine from "./0014_ticket_types_in_engine.ts"
import ticketCheckInKey from "./0015_ticket_check_in_key.ts"
import rememberedInventory from "./0016_remembered_inventory.ts"

export const migrations = {
  "0001_create_tables": createTables,
  "0002_outbox_and_deliveries": outboxAndDeliveries,
  "0003_outbox_job_ids": outboxJobIds,
  "0004_rate_limits": rateLimits,
  "0005_queue_namespace": queueNamespace,
  "0006_idempotency_keys": idempotencyKeys,
  "0007_event_discovery": eventDiscovery,
  "0008_ticket_lifecycle": ticketLifecycle,
  "0009_delivery_claims": deliveryClaims,
  "0010_inventory_state": inventoryState,
  "0011_ticket_types_and_tickets": ticketTypesAndTickets,
  "0012_webhooks": webhooks,
  "0013_audit_log": auditLog,
  "0014_ticket_types_in_engine": ticketTypesInEngine,
  "0015_ticket_check_in_key": ticketCheckInKey,
  "0016_remembered_inventory": rememberedInventory
}
