/** The engine selling ticket types (test/support/ticketTypesEngine.ts) on the memory store. */
import { describe, layer } from "@effect/vitest"
import { Clock, Effect, Ref } from "effect"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { MemoryStore } from "../../src/Storage/MemoryStore.ts"
import { memoryEngine } from "../support/engines.ts"
import { ticketTypesEngineContract, TYPES_LIMIT, type TypesFixture } from "../support/ticketTypesEngine.ts"

const Engine = memoryEngine(TYPES_LIMIT)

const memory: TypesFixture<MemoryStore> = {
  scene: (total, specs) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(MemoryStore, (store) =>
        Ref.modify(store, (tables) => {
          let lastId = tables.lastId
          const at = new Date(now)
          const customers = [++lastId, ++lastId] as const
          const users = new Map(tables.users)
          for (const id of customers) users.set(id, { id, email: `c${id}@example.com`, passwordHash: "x", role: "CUSTOMER" })
          const eventId = ++lastId
          const events = new Map(tables.events).set(eventId, {
            id: eventId,
            organizerId: customers[0],
            title: "Types",
            description: "",
            location: "Hall",
            date: new Date(now + 86_400_000),
            totalTickets: total,
            availableTickets: total,
            createdAt: at,
            updatedAt: at,
            publishedAt: at,
            deletedAt: null,
            salesStart: null,
            salesEnd: null,
            currency: "EUR"
          })
          const ticketTypes = new Map(tables.ticketTypes)
          const types = specs.map((spec) => {
            const id = ++lastId
            ticketTypes.set(id, {
              id,
              eventId,
              name: spec.name,
              priceCents: 0,
              quota: spec.quota ?? null,
              taken: 0,
              salesStart: spec.salesStart ?? null,
              salesEnd: spec.salesEnd ?? null,
              maxPerBooking: spec.maxPerBooking ?? null,
              isDefault: spec.isDefault ?? false,
              createdAt: at,
              updatedAt: at
            })
            return id
          })
          return [
            { eventId: eventId as EventId, customers: customers as unknown as readonly [UserId, UserId], types },
            { ...tables, users, events, ticketTypes, lastId }
          ] as const
        }))),
  counts: (eventId) =>
    Effect.map(Effect.flatMap(MemoryStore, Ref.get), (tables) => ({
      available: tables.events.get(eventId)!.availableTickets,
      taken: new Map(
        [...tables.ticketTypes.values()].filter((t) => t.eventId === eventId).sort((a, b) => a.id - b.id).map((t) => [t.id, t.taken])
      )
    })),
  tickets: (bookingId) =>
    Effect.map(
      Effect.flatMap(MemoryStore, Ref.get),
      (tables) =>
        [...tables.tickets.values()].filter((t) => t.bookingId === bookingId).sort((a, b) => a.id - b.id)
          .map(({ code, id, status, ticketTypeId }) => ({ id, code, ticketTypeId, status }))
    ),
  checkIn: (ticketId) =>
    Effect.flatMap(MemoryStore, (store) =>
      Ref.update(store, (tables) => ({
        ...tables,
        tickets: new Map(tables.tickets).set(ticketId, { ...tables.tickets.get(ticketId)!, status: "CHECKED_IN", checkedInAt: new Date() })
      })))
}

describe("the engine selling ticket types (memory)", () => {
  layer(Engine, { excludeTestServices: true })((it) => {
    ticketTypesEngineContract(it, memory)
  })
})
