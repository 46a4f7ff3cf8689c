/**
 * The engine selling ticket types on PostgreSQL: the shared suite (test/support/ticketTypesEngine.ts),
 * and concurrency: many customers at once on a type with a small quota inside a bigger event.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Either } from "effect"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { Inventory } from "../../src/Inventory/Inventory.ts"
import { postgresEngine } from "../support/engines.ts"
import { ticketTypesEngineContract, TYPES_LIMIT, type TypesFixture } from "../support/ticketTypesEngine.ts"

const EngineTest = postgresEngine(TYPES_LIMIT)

const query = <A>(run: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, run).pipe(Effect.orDie)

let scenes = 0
const customersOf = (sql: SqlClient.SqlClient, n: number) =>
  Effect.map(
    sql<{ id: UserId }>`
      INSERT INTO users (email, password_hash, role)
      SELECT 'types' || ${++scenes} || '-' || k || '@example.com', 'x', 'CUSTOMER' FROM generate_series(1, ${n}) k
      RETURNING id`,
    (rows) => rows.map((row) => row.id).sort((a, b) => a - b)
  )

const postgres: TypesFixture<SqlClient.SqlClient> = {
  scene: (total, specs) =>
    query((sql) =>
      Effect.gen(function*() {
        const customers = yield* customersOf(sql, 2)
        const [event] = yield* sql<{ id: EventId }>`
          INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets)
          VALUES (${customers[0]!}, 'Types', 'Hall', now() + interval '1 day', ${total}, ${total}) RETURNING id`
        const types = yield* Effect.forEach(specs, (spec) =>
          sql<{ id: number }>`
            INSERT INTO ticket_types (event_id, name, price_cents, quota, sales_start, sales_end, max_per_booking, is_default)
            VALUES (${event!.id}, ${spec.name}, 0, ${spec.quota ?? null}, ${spec.salesStart ?? null}, ${spec.salesEnd ?? null},
                    ${spec.maxPerBooking ?? null}, ${spec.isDefault ?? false})
            RETURNING id`.pipe(Effect.map(([row]) => row!.id)))
        return { eventId: event!.id, customers: [customers[0]!, customers[1]!] as const, types }
      })
    ),
  counts: (eventId) =>
    query((sql) =>
      Effect.all({
        available: sql<{ n: number }>`SELECT available_tickets AS n FROM events WHERE id = ${eventId}`.pipe(Effect.map(([row]) => row!.n)),
        taken: sql<{ id: number; taken: number }>`SELECT id, taken FROM ticket_types WHERE event_id = ${eventId} ORDER BY id`.pipe(
          Effect.map((rows) => new Map(rows.map((row) => [row.id, row.taken])))
        )
      })
    ),
  tickets: (bookingId) =>
    query((sql) =>
      sql<{ id: number; code: string; ticketTypeId: number; status: string }>`
        SELECT id, code, ticket_type_id AS "ticketTypeId", status FROM tickets WHERE booking_id = ${bookingId} ORDER BY id`
    ),
  checkIn: (ticketId) =>
    query((sql) => sql`UPDATE tickets SET status = 'CHECKED_IN', checked_in_at = now() WHERE id = ${ticketId}`).pipe(Effect.asVoid)
}

describe("the engine selling ticket types on PostgreSQL", () => {
  layer(EngineTest, { excludeTestServices: true, timeout: 120_000 })((it) => {
    ticketTypesEngineContract(it, postgres)

    it.effect("80 customers at once on a type of 7 inside an event of 50: exactly 7 sold, each with its ticket; the rest of the event untouched", () =>
      Effect.gen(function*() {
        const inventory = yield* Inventory
        const { eventId, types: [general, vip] } = yield* postgres.scene(50, [
          { name: "General admission", quota: 50, isDefault: true },
          { name: "VIP", quota: 7 }
        ])
        const crowd = yield* query((sql) => customersOf(sql, 80))
        const outcomes = yield* Effect.forEach(
          crowd,
          (userId, i) =>
            Effect.either(inventory.submit(eventId, {
              _tag: "Book",
              userId,
              // Every fourth asks for a general ticket too: all or nothing.
              items: i % 4 === 0
                ? [{ ticketTypeId: "default", count: 1 }, { ticketTypeId: vip!, count: 1 }]
                : [{ ticketTypeId: vip!, count: 1 }]
            })),
          { concurrency: "unbounded" }
        )
        const sold = outcomes.filter(Either.isRight)
        expect(sold.length).toBe(7)
        expect(outcomes.filter(Either.isLeft).every((o) => o.left._tag === "NotEnoughTickets")).toBe(true)
        const generalSold = sold.filter((o) => o.right.items.length === 2).length
        expect(yield* postgres.counts(eventId)).toEqual({
          available: 50 - 7 - generalSold,
          taken: new Map([[general!, generalSold], [vip!, 7]])
        })
        const [tickets] = yield* query((sql) =>
          sql<{ vip: number; all: number; codes: number }>`
            SELECT count(*) FILTER (WHERE ticket_type_id = ${vip!})::int AS vip, count(*)::int AS all, count(DISTINCT code)::int AS codes
            FROM tickets WHERE event_id = ${eventId} AND status = 'VALID'`
        )
        expect(tickets).toEqual({ vip: 7, all: 7 + generalSold, codes: 7 + generalSold })
      }))

    it.effect("the CHECK backs the engine up: a type's taken cannot pass its quota", () =>
      Effect.gen(function*() {
        const { types: [, vip] } = yield* postgres.scene(10, [
          { name: "General admission", quota: 10, isDefault: true },
          { name: "VIP", quota: 2 }
        ])
        const refused = yield* Effect.either(
          Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE ticket_types SET taken = 3 WHERE id = ${vip!}`)
        )
        expect(Either.isLeft(refused)).toBe(true)
      }))
  })
})
