import { SqlClient, type Statement } from "@effect/sql"
import { Clock, Context, Effect, Layer, Ref } from "effect"
import type { EventId } from "../Domain/Ids.ts"
import type { Event } from "../Events/Event.ts"
import { decodeEventRow, eventColumns, storedStatus, toEvent } from "../Events/EventRow.ts"
import { MemoryStore, type StoredHold, type Tables, withEntry } from "../Platform/MemoryStore.ts"
import { traced } from "../Telemetry/Tracing.ts"
import {
  type BookingRow,
  decide,
  type EntryRow,
  type EventState,
  type HoldRow,
  isOpenEntry,
  limitedCustomer,
  makingKey,
  type NewIds,
  type Operation,
  type Plan,
  type Rules,
  type SettledPlan,
  type Snapshot,
  takesOnly,
  withRealIds
} from "./Operations.ts"

/** A decided and written batch, and the event as the batch found it (for the answers). */
export interface Applied {
  readonly plan: SettledPlan
  readonly event: Event | undefined
}

export class InventoryRepo extends Context.Tag("InventoryRepo")<InventoryRepo, {
  /**
   * Locks the event, loads what `operations` need, decides them in order (Operations.ts) and
   * writes the plan. Run it inside a transaction: the event's row stays locked until commit, so
   * batches of one event, from any process, serialize.
   */
  readonly applyAll: (eventId: EventId, operations: ReadonlyArray<Operation>, rules: Rules) => Effect.Effect<Applied>
  /** Events with an open hold whose time is up (the sweep's work), at most `limit`. */
  readonly eventsWithDueHolds: (limit: number) => Effect.Effect<ReadonlyArray<EventId>>
}>() {
  static readonly layer = Layer.effect(InventoryRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(InventoryRepo, {
    applyAll: (eventId, operations) => ({ "event.id": eventId, "inventory.batch_size": operations.length }),
    eventsWithDueHolds: (limit) => ({ "inventory.limit": limit })
  }))
  static readonly layerMemory = Layer.effect(InventoryRepo, Effect.map(MemoryStore, makeMemory))
}

/** What a batch must load besides the event row. */
const needsOf = (operations: ReadonlyArray<Operation>) => ({
  customers: [...new Set(operations.flatMap((operation) => limitedCustomer(operation) ?? []))],
  bookings: operations.flatMap((operation) => "bookingId" in operation ? [operation.bookingId] : []),
  holds: operations.flatMap((operation) => "holdId" in operation ? [operation.holdId] : []),
  /** Idempotency-Key ids whose bookings or holds, if made already, answer their repeats. */
  keys: operations.flatMap((operation) => makingKey(operation) ?? []),
  line: !operations.every(takesOnly)
})

// ---- PostgreSQL ----------------------------------------------------------------------------

type Json<Row> = { readonly [K in keyof Row]: Row[K] extends Date ? string : Row[K] extends Date | null ? string | null : Row[K] }

interface StateRow {
  readonly knownUsers: ReadonlyArray<number>
  readonly bookings: ReadonlyArray<Json<BookingRow>>
  readonly holds: ReadonlyArray<Json<HoldRow>>
  readonly line: ReadonlyArray<Json<EntryRow>> | null
  readonly customerTickets: Readonly<Record<string, number>>
}

type LockedRow = Event & StateRow & {
  readonly now: Date
  /** False when the lock waited for a batch that committed after this statement's snapshot was taken. */
  readonly fresh: boolean
}

const date = (value: string) => new Date(value)
const dateOrNull = (value: string | null) => value === null ? null : new Date(value)

function makeSql(sql: SqlClient.SqlClient): InventoryRepo["Type"] {
  const lockedEvent = eventColumns(sql, "e")

  // Whether the batch needs the waiting list: anything but taking tickets, or a hold that is due
  // (its tickets may go to the line).
  const line = (eventId: EventId, needs: ReturnType<typeof needsOf>) =>
    sql`(SELECT ${needs.line}::boolean OR EXISTS (
           SELECT FROM holds h WHERE h.event_id = ${eventId} AND h.status = 'HELD' AND h.expires_at <= now()) AS loaded) l`

  /** Everything a batch is decided on but the event row, as of the statement's snapshot. */
  const state = (eventId: EventId, needs: ReturnType<typeof needsOf>) => {
    const customers = sql`${needs.customers}::int[]`
    // Rows the batch names by id or made under one of its keys. Only the conditions it needs: the
    // planner may scan a whole (partial) index to rule out an empty `= ANY('{}')` in an OR.
    const named = (alias: "b" | "h", ids: ReadonlyArray<number>) => {
      const conditions = [
        ...(ids.length === 0 ? [] : [sql`${sql.literal(alias)}.id = ANY(${ids}::int[])`]),
        ...(needs.keys.length === 0 ? [] : [sql`${sql.literal(alias)}.idempotency_id = ANY(${needs.keys}::uuid[])`])
      ]
      return conditions.length === 0 ? sql.literal("false") : sql.or(conditions)
    }
    return sql`
      ARRAY(SELECT u.id FROM users u WHERE u.id = ANY(${customers})) AS "knownUsers",
      (SELECT COALESCE(json_agg(json_build_object(
          'id', b.id, 'userId', b.user_id, 'ticketsCount', b.tickets_count, 'status', b.status,
          'cancelledAt', b.cancelled_at, 'holdId', b.hold_id, 'createdAt', b.created_at,
          'idempotencyId', b.idempotency_id, 'cancelIdempotencyId', b.cancel_idempotency_id)), '[]')
        FROM bookings b
        WHERE b.event_id = ${eventId} AND ${named("b", needs.bookings)}) AS bookings,
      (SELECT COALESCE(json_agg(json_build_object(
          'id', h.id, 'userId', h.user_id, 'ticketsCount', h.tickets_count, 'status', h.status,
          'expiresAt', h.expires_at, 'entryId', h.waitlist_entry_id, 'createdAt', h.created_at, 'endedAt', h.ended_at,
          'idempotencyId', h.idempotency_id)), '[]')
        FROM holds h
        WHERE h.event_id = ${eventId}
          AND (${named("h", needs.holds)}
               OR (h.status = 'HELD' AND (h.expires_at <= now() OR (l.loaded AND h.waitlist_entry_id IS NOT NULL))))) AS holds,
      CASE WHEN l.loaded THEN (
        SELECT COALESCE(json_agg(json_build_object(
            'id', w.id, 'userId', w.user_id, 'ticketsCount', w.tickets_count, 'status', w.status, 'reserved', w.reserved,
            'passedOver', w.passed_over, 'createdAt', w.created_at, 'endedAt', w.ended_at) ORDER BY w.id), '[]')
        FROM waitlist_entries w WHERE w.event_id = ${eventId} AND w.status IN ('WAITING', 'OFFERED')) END AS line,
      (SELECT COALESCE(json_object_agg(t.user_id, t.tickets), '{}') FROM (
        SELECT x.user_id, sum(x.tickets)::int AS tickets FROM (
          SELECT b.user_id, b.tickets_count AS tickets FROM bookings b
          WHERE b.event_id = ${eventId} AND b.user_id = ANY(${customers}) AND b.status = 'CONFIRMED'
          UNION ALL
          SELECT h.user_id, h.tickets_count FROM holds h
          WHERE h.event_id = ${eventId} AND h.user_id = ANY(${customers}) AND h.status = 'HELD'
          UNION ALL
          SELECT w.user_id, w.tickets_count FROM waitlist_entries w
          WHERE w.event_id = ${eventId} AND w.user_id = ANY(${customers}) AND w.status = 'WAITING'
        ) x GROUP BY x.user_id) t) AS "customerTickets"`
  }

  const snapshotOf = (locked: LockedRow | undefined, loaded: StateRow, needs: ReturnType<typeof needsOf>, now: Date): Snapshot => ({
    now,
    event: locked && {
      availableTickets: locked.availableTickets,
      date: locked.date,
      cancelled: locked.status === "CANCELLED",
      draft: locked.status === "DRAFT",
      salesStart: locked.salesStart,
      salesEnd: locked.salesEnd
    } satisfies EventState,
    bookings: loaded.bookings.map((row) => ({ ...row, cancelledAt: dateOrNull(row.cancelledAt), createdAt: date(row.createdAt) })),
    holds: loaded.holds.map((row) => ({
      ...row,
      expiresAt: date(row.expiresAt),
      createdAt: date(row.createdAt),
      endedAt: dateOrNull(row.endedAt)
    })),
    line: loaded.line?.map((row) => ({ ...row, createdAt: date(row.createdAt), endedAt: dateOrNull(row.endedAt) })),
    customerTickets: new Map(needs.customers.map((id) => [id, loaded.customerTickets[id] ?? 0])),
    accounts: new Set(loaded.knownUsers)
  })

  /** One statement for every row the plan creates or changes; answers the new rows' ids. */
  const write = (eventId: EventId, plan: Plan) =>
    Effect.gen(function*() {
      if (!plan.changed) return { bookings: [], holds: [], entries: [] } satisfies NewIds
      const json = (rows: ReadonlyArray<object>) => sql`${JSON.stringify(rows)}::jsonb`
      // Every time a plan sets is the snapshot's `now`, the transaction's now(): written as now() to
      // keep its microseconds (JavaScript dates have milliseconds), so rows and jobs of one batch agree.
      const now = (column: string) => sql.literal(`CASE WHEN r.${column} IS NULL THEN NULL ELSE now() END`)
      // Always rewrite the event's row, even with its count unchanged: the next batch that waited
      // for this one's lock tells from the row's new version that its snapshot is stale.
      const steps = [sql`touched AS (UPDATE events SET available_tickets = ${plan.availableTickets} WHERE id = ${eventId})`]
      const created: Array<Statement.Fragment> = []
      const { bookings, entries, holds } = plan

      if (entries.inserts.length > 0) {
        steps.push(sql`new_entries AS (
          INSERT INTO waitlist_entries (event_id, user_id, tickets_count, status, reserved, passed_over, created_at, ended_at)
          SELECT ${eventId}, r.user_id, r.tickets_count, r.status, r.reserved, r.passed_over, now(), ${now("ended_at")}
          FROM jsonb_to_recordset(${json(entries.inserts.map((row, n) => ({ n, ...snake(row) })))})
               AS r(n int, user_id int, tickets_count int, status text, reserved int, passed_over int, created_at timestamptz, ended_at timestamptz)
          ORDER BY r.n
          RETURNING id, user_id)`)
        created.push(sql`SELECT 'entries' AS kind, id, user_id FROM new_entries`)
      }
      if (holds.inserts.length > 0) {
        // An offer to an entry created in this batch names it by its place among the new entries.
        const entryId = entries.inserts.length > 0
          ? sql`CASE WHEN r.entry_id < 0
                  THEN (SELECT n.id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM new_entries) n WHERE n.k = -r.entry_id)
                  ELSE r.entry_id END`
          : sql`r.entry_id`
        steps.push(sql`new_holds AS (
          INSERT INTO holds (event_id, user_id, tickets_count, status, expires_at, waitlist_entry_id, created_at, ended_at, idempotency_id)
          SELECT ${eventId}, r.user_id, r.tickets_count, r.status, r.expires_at, ${entryId}, now(), ${now("ended_at")}, r.idempotency_id
          FROM jsonb_to_recordset(${json(holds.inserts.map((row, n) => ({ n, ...snake(row) })))})
               AS r(n int, user_id int, tickets_count int, status text, expires_at timestamptz, entry_id int, created_at timestamptz,
                    ended_at timestamptz, idempotency_id uuid)
          ORDER BY r.n
          RETURNING id, user_id)`)
        created.push(sql`SELECT 'holds' AS kind, id, user_id FROM new_holds`)
      }
      if (bookings.inserts.length > 0) {
        // A booking is made from a hold that existed before the batch (nobody confirms a hold they have not seen).
        if (bookings.inserts.some((row) => row.holdId !== null && row.holdId < 0)) {
          return yield* Effect.dieMessage("a booking was made from a hold of its own batch")
        }
        steps.push(sql`new_bookings AS (
          INSERT INTO bookings (user_id, event_id, tickets_count, status, cancelled_at, hold_id, created_at, idempotency_id)
          SELECT r.user_id, ${eventId}, r.tickets_count, r.status, ${now("cancelled_at")}, r.hold_id, now(), r.idempotency_id
          FROM jsonb_to_recordset(${json(bookings.inserts.map((row, n) => ({ n, ...snake(row) })))})
               AS r(n int, user_id int, tickets_count int, status text, cancelled_at timestamptz, hold_id int, created_at timestamptz,
                    idempotency_id uuid)
          ORDER BY r.n
          RETURNING id, user_id)`)
        created.push(sql`SELECT 'bookings' AS kind, id, user_id FROM new_bookings`)
      }
      if (bookings.updates.length > 0) {
        steps.push(sql`changed_bookings AS (
          UPDATE bookings b SET tickets_count = r.tickets_count, status = r.status,
                                cancelled_at = COALESCE(b.cancelled_at, ${now("cancelled_at")}),
                                cancel_idempotency_id = r.cancel_idempotency_id
          FROM jsonb_to_recordset(${json(bookings.updates.map(snake))})
               AS r(id int, tickets_count int, status text, cancelled_at timestamptz, cancel_idempotency_id uuid)
          WHERE b.id = r.id)`)
      }
      if (holds.updates.length > 0) {
        steps.push(sql`changed_holds AS (
          UPDATE holds h SET status = r.status, ended_at = ${now("ended_at")}
          FROM jsonb_to_recordset(${json(holds.updates.map(snake))}) AS r(id int, status text, ended_at timestamptz)
          WHERE h.id = r.id)`)
      }
      if (entries.updates.length > 0) {
        steps.push(sql`changed_entries AS (
          UPDATE waitlist_entries w SET status = r.status, reserved = r.reserved, passed_over = r.passed_over,
                                        ended_at = ${now("ended_at")}
          FROM jsonb_to_recordset(${json(entries.updates.map(snake))})
               AS r(id int, status text, reserved int, passed_over int, ended_at timestamptz)
          WHERE w.id = r.id)`)
      }
      const results = created.length > 0
        ? sql.join(" UNION ALL ", false)(created)
        : sql`SELECT NULL::text AS kind, NULL::int AS id, NULL::int AS user_id WHERE false`
      const rows = yield* sql<{ kind: keyof NewIds; id: number; user_id: number }>`WITH ${sql.csv(steps)} ${results}`
      // Identities are drawn in insertion order, which is the plan's order.
      const idsOf = (kind: keyof NewIds, inserts: ReadonlyArray<{ readonly userId: number }>) => {
        const inserted = rows.filter((row) => row.kind === kind).sort((a, b) => a.id - b.id)
        return inserted.length === inserts.length && inserted.every((row, i) => row.user_id === inserts[i]!.userId)
          ? inserted.map((row) => row.id)
          : undefined
      }
      const ids = {
        bookings: idsOf("bookings", bookings.inserts),
        holds: idsOf("holds", holds.inserts),
        entries: idsOf("entries", entries.inserts)
      }
      if (ids.bookings === undefined || ids.holds === undefined || ids.entries === undefined) {
        return yield* Effect.dieMessage("new rows were not inserted in plan order")
      }
      return ids as NewIds
    })

  const applyAll = (eventId: EventId, operations: ReadonlyArray<Operation>, rules: Rules) =>
    Effect.gen(function*() {
      const needs = needsOf(operations)
      // Lock the event once for the batch and read what it needs, in one statement. If the lock
      // waited for another batch (another process's line), the state columns were read from a
      // snapshot older than that batch's commit: read them again, now that the lock is ours.
      const [locked] = yield* sql<LockedRow>`
        SELECT ${lockedEvent}, now() AS now,
               e.xmin = (SELECT x.xmin FROM events x WHERE x.id = e.id) AS fresh,
               ${state(eventId, needs)}
        FROM events e, ${line(eventId, needs)}
        WHERE e.id = ${eventId}
        FOR UPDATE OF e`
      const loaded = locked === undefined || locked.fresh
        ? locked
        : (yield* sql<StateRow>`SELECT ${state(eventId, needs)} FROM ${line(eventId, needs)}`)[0]!
      const now = locked?.now ?? new Date(yield* Clock.currentTimeMillis)
      const snapshot = snapshotOf(locked, loaded ?? { knownUsers: [], bookings: [], holds: [], line: [], customerTickets: {} }, needs, now)
      const plan = decide(eventId, snapshot, operations, rules)
      const ids = yield* write(eventId, plan)
      const event = locked === undefined ? undefined : decodeEventRow(locked)
      return { plan: withRealIds(plan, ids), event } satisfies Applied
    })

  return {
    applyAll: (eventId, operations, rules) => applyAll(eventId, operations, rules).pipe(Effect.orDie),
    eventsWithDueHolds: (limit) =>
      sql<{ eventId: EventId }>`
        SELECT DISTINCT event_id AS "eventId" FROM holds
        WHERE status = 'HELD' AND expires_at <= now()
        LIMIT ${limit}`.pipe(Effect.map((rows) => rows.map((row) => row.eventId)), Effect.orDie)
  }
}

/** A row's fields as the SQL recordsets name them. */
const snake = (row: object) =>
  Object.fromEntries(Object.entries(row).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]))

// ---- Memory --------------------------------------------------------------------------------

function makeMemory(store: MemoryStore["Type"]): InventoryRepo["Type"] {
  const snapshotOf = (tables: Tables, eventId: EventId, operations: ReadonlyArray<Operation>, now: Date): Snapshot => {
    const stored = tables.events.get(eventId)
    const customers = needsOf(operations).customers
    const ticketsOf = (userId: number) =>
      [...tables.bookings.values()]
        .filter((b) => b.eventId === eventId && b.userId === userId && b.status === "CONFIRMED")
        .reduce((sum, b) => sum + b.ticketsCount, 0) +
      [...tables.holds.values()]
        .filter((h) => h.eventId === eventId && h.userId === userId && h.status === "HELD")
        .reduce((sum, h) => sum + h.ticketsCount, 0) +
      [...tables.waitlist.values()]
        .filter((w) => w.eventId === eventId && w.userId === userId && w.status === "WAITING")
        .reduce((sum, w) => sum + w.ticketsCount, 0)
    return {
      now,
      event: stored && {
        availableTickets: stored.availableTickets,
        date: stored.date,
        cancelled: stored.deletedAt !== null,
        draft: storedStatus(stored) === "DRAFT",
        salesStart: stored.salesStart,
        salesEnd: stored.salesEnd
      },
      bookings: [...tables.bookings.values()].filter((b) => b.eventId === eventId).map(({ eventId: _, ...row }) => row),
      holds: [...tables.holds.values()].filter((h) => h.eventId === eventId),
      line: [...tables.waitlist.values()].filter((w) => w.eventId === eventId && isOpenEntry(w)).sort((a, b) => a.id - b.id),
      customerTickets: new Map(customers.map((id) => [id, ticketsOf(id)])),
      accounts: new Set(tables.users.keys())
    }
  }

  return {
    applyAll: (eventId, operations, rules) =>
      Effect.flatMap(Clock.currentTimeMillis, (millis) =>
        Ref.modify(store, (tables): readonly [Applied, Tables] => {
          const stored = tables.events.get(eventId)
          const plan = decide(eventId, snapshotOf(tables, eventId, operations, new Date(millis)), operations, rules)
          // Ids in the order the SQL statement draws them: entries, holds, bookings.
          let lastId = tables.lastId
          const ids: NewIds = {
            entries: plan.entries.inserts.map(() => ++lastId),
            holds: plan.holds.inserts.map(() => ++lastId),
            bookings: plan.bookings.inserts.map(() => ++lastId)
          }
          const settled = withRealIds(plan, ids)
          const applied: Applied = { plan: settled, event: stored && toEvent(stored) }
          if (stored === undefined || !plan.changed) return [applied, tables]
          const put = <Row extends { readonly id: number }>(
            map: ReadonlyMap<number, Row & { eventId: number }>,
            rows: ReadonlyArray<Row>
          ) => {
            const next = new Map(map)
            for (const row of rows) next.set(row.id, { ...row, eventId })
            return next
          }
          const all = <Row>(
            changes: { inserts: ReadonlyArray<Row>; updates: ReadonlyArray<Row> }
          ) => [...changes.inserts, ...changes.updates]
          return [applied, {
            ...tables,
            lastId,
            events: withEntry(tables.events, eventId, { ...stored, availableTickets: settled.availableTickets }),
            bookings: put(tables.bookings, all(settled.bookings)),
            holds: put<HoldRow>(tables.holds as ReadonlyMap<number, StoredHold>, all(settled.holds)),
            waitlist: put(tables.waitlist, all(settled.entries))
          }]
        })),

    eventsWithDueHolds: (limit) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.map(Ref.get(store), (tables) =>
            [
              ...new Set(
                [...tables.holds.values()].filter((h) => h.status === "HELD" && h.expiresAt.getTime() <= now).map((h) => h.eventId)
              )
            ]
              .slice(0, limit) as Array<EventId>)
      )
  }
}
