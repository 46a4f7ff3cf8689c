/** Finding and running events (issue 10) over HTTP, on the in-memory repositories. */
import { describe, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { MemoryStore, withEntry } from "../../src/Storage/MemoryStore.ts"
import { discoverySuite } from "../support/discovery.ts"
import { MemoryServer } from "../support/server.ts"

describe("in memory", () => {
  // One customer books many tickets here: the per-customer limit is not the subject.
  layer(MemoryServer({ maxTicketsPerCustomerPerEvent: 1_000 }), { excludeTestServices: true })((it) => {
    discoverySuite(it, {
      setEventDate: (id, date) =>
        Effect.flatMap(
          MemoryStore,
          (store) =>
            Ref.update(store, (tables) => ({ ...tables, events: withEntry(tables.events, id, { ...tables.events.get(id)!, date }) }))
        ),
      setBookingTime: (id, createdAt) =>
        Effect.flatMap(MemoryStore, (store) =>
          Ref.update(store, (tables) => ({
            ...tables,
            bookings: withEntry(tables.bookings, id, { ...tables.bookings.get(id)!, createdAt })
          })))
    })
  })
})
