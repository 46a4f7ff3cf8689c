/** The engine over the in-memory store against the serial model: random steps of concurrent operations. */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, FastCheck as fc, Ref } from "effect"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { MemoryStore, withEntry } from "../../src/Storage/MemoryStore.ts"
import { memoryEngine } from "../support/engines.ts"
import { CUSTOMERS, type Harness, LIMIT, lineStopper, play, reached, scenario, TOTAL, typedLine, TYPES } from "../support/inventoryModel.ts"

const Engine = memoryEngine(LIMIT)

const memory: Harness<MemoryStore> = {
  scene: Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(MemoryStore, (store) =>
      Ref.modify(store, (tables) => {
        const customers = Array.from({ length: CUSTOMERS }, (_, i) => tables.lastId + 1 + i)
        const users = new Map(tables.users)
        for (const id of customers) users.set(id, { id, email: `c${id}@example.com`, passwordHash: "x", role: "CUSTOMER" })
        const eventId = tables.lastId + CUSTOMERS + 1
        const at = new Date(now)
        const types = TYPES.map((_, i) => eventId + 1 + i)
        const ticketTypes = new Map(tables.ticketTypes)
        TYPES.forEach(({ isDefault, maxPerBooking, name, quota }, i) =>
          ticketTypes.set(types[i]!, {
            id: types[i]!,
            eventId,
            name,
            priceCents: 0,
            quota,
            taken: 0,
            salesStart: null,
            salesEnd: null,
            maxPerBooking,
            isDefault,
            createdAt: at,
            updatedAt: at
          })
        )
        const events = withEntry(tables.events, eventId, {
          id: eventId,
          organizerId: customers[0]!,
          title: "Model",
          description: "",
          location: "Hall",
          date: new Date(now + 86_400_000),
          totalTickets: TOTAL,
          availableTickets: TOTAL,
          createdAt: at,
          updatedAt: at,
          publishedAt: at,
          deletedAt: null,
          salesStart: null,
          salesEnd: null,
          currency: "EUR"
        })
        return [{ eventId: eventId as EventId, customers: customers as Array<UserId>, types }, {
          ...tables,
          users,
          events,
          ticketTypes,
          lastId: types[types.length - 1]!
        }] as const
      }))),
  makeDue: (holdIds) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(MemoryStore, (store) =>
        Ref.update(store, (tables) => ({
          ...tables,
          holds: new Map(
            [...tables.holds].map(([id, hold]) => [id, holdIds.includes(id) ? { ...hold, expiresAt: new Date(now - 1000) } : hold])
          )
        })))),
  read: (eventId) =>
    Effect.map(Effect.flatMap(MemoryStore, Ref.get), (tables) => {
      const of = <Row extends { readonly eventId: number; readonly id: number }>(rows: Iterable<Row>) =>
        [...rows].filter((row) => row.eventId === eventId).sort((a, b) => a.id - b.id)
      return {
        available: tables.events.get(eventId)!.availableTickets,
        taken: new Map(of(tables.ticketTypes.values()).map((t) => [t.id, t.taken])),
        bookings: of(tables.bookings.values()).map((b) => ({
          id: b.id,
          userId: b.userId,
          tickets: b.ticketsCount,
          status: b.status,
          items: b.items,
          issued: of(tables.tickets.values()).filter((t) => t.bookingId === b.id)
        })),
        holds: of(tables.holds.values()).map((h) => ({
          id: h.id,
          userId: h.userId,
          tickets: h.ticketsCount,
          status: h.status,
          entryId: h.entryId,
          items: h.items
        })),
        entries: of(tables.waitlist.values()).map((e) => ({
          id: e.id,
          userId: e.userId,
          tickets: e.ticketsCount,
          status: e.status,
          reserved: e.reserved,
          passed: e.passedOver,
          items: e.items
        }))
      }
    })
}

describe("the engine against the serial model (memory)", () => {
  it("random steps of concurrent operations: every answer and every row as the model has them", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, (steps) => Effect.runPromise(play(memory, steps).pipe(Effect.provide(Engine)))),
      { numRuns: 300, examples: [[lineStopper], [typedLine]] }
    )
    expect(reached.offers).toBeGreaterThan(0)
    expect(reached.passedOver).toBeGreaterThan(0)
    expect(reached.blocked).toBeGreaterThan(0)
    expect(reached.typeShort).toBeGreaterThan(0)
  }, 120_000)
})
