import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Effect, Layer, Option, Ref, Schema } from "effect"
import type { Event } from "../Domain/Event.ts"
import { EventId } from "../Domain/Ids.ts"
import { newTicketCode } from "../Domain/TicketCode.ts"
import { type HoldRow, isOpenEntry, type TicketTypeRow } from "../Domain/TicketRows.ts"
import { eventColumns, storedStatus, toEvent } from "../Storage/EventRow.ts"
import { MemoryStore, type StoredHold, type Tables, withEntry } from "../Storage/MemoryStore.ts"
import { escapeLiteral, jsonLiteral } from "../Storage/SqlLiteral.ts"
import { atCommit } from "../Storage/Transactions.ts"
import { recordInventoryBatch } from "../Telemetry/Metrics.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { limitedCustomer, makingKey, type Operation, takesOnly } from "./Operation.ts"
import { decide } from "./Operations.ts"
import { type NewIds, type Plan, type Rules, type SettledPlan, type Snapshot, withRealIds } from "./Plan.ts"
import {
  CLOCK_MARGIN_MS,
  CONTENDED_MS,
  countNewcomers,
  decidable,
  eventStateOf,
  forgetNewcomers,
  rememberable,
  rememberAfter,
  type Remembered,
  snapshotOf as rememberedSnapshot
} from "./Remembered.ts"
import {
  decodeCreatedRows,
  decodeLockAndRead,
  decodeLockReadAndVersions,
  decodeVersions,
  type EventVersion,
  type InventoryState,
  type LockedEvent
} from "./StateRows.ts"

/** A decided and written batch, and the event as the batch found it (for the answers). */
export interface Applied {
  readonly plan: SettledPlan
  readonly event: Event | undefined
  /** The event's ticket types' names, by id (what the answers' items show). */
  readonly typeNames: ReadonlyMap<number, string>
}

/** One event's operations in a batch, in arrival order. */
export interface EventOperations {
  readonly eventId: EventId
  readonly operations: ReadonlyArray<Operation>
}

export class InventoryRepo extends Context.Tag("InventoryRepo")<InventoryRepo, {
  /**
   * Locks the events (in id order, as every batch does, so that two never wait for each other in a
   * cycle), loads what their operations need, decides each event's operations in order
   * (Operations.ts) and writes the plans: one statement to lock and read, one to write, however
   * many events. Run it inside a transaction: the events' rows stay locked until commit, so
   * batches of one event, from any process, serialize. Answers in the order of `batch` (no event twice).
   * `remembered`: a batch may be decided on what is remembered of its events (Remembered.ts); the
   * caller then opens the transaction, and decides the batch again if it fails with `isStaleMemory`.
   */
  readonly applyEach: (
    batch: ReadonlyArray<EventOperations>,
    rules: Rules,
    options?: { readonly remembered?: boolean }
  ) => Effect.Effect<ReadonlyArray<Applied>>
  /** Events with an open hold whose time is up (the sweep's work), at most `limit`. */
  readonly eventsWithDueHolds: (limit: number) => Effect.Effect<ReadonlyArray<EventId>>
}>() {
  static readonly layer = Layer.effect(InventoryRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(InventoryRepo, {
    applyEach: (batch) => ({
      "inventory.events": batch.length,
      "inventory.batch_size": batch.reduce((n, { operations }) => n + operations.length, 0)
    }),
    eventsWithDueHolds: (limit) => ({ "inventory.limit": limit })
  }))
  static readonly layerMemory = Layer.effect(InventoryRepo, Effect.map(MemoryStore, makeMemory))
}

/** Applies one event's operations: `applyEach` for a batch of one. */
export const applyAll = (eventId: EventId, operations: ReadonlyArray<Operation>, rules: Rules) =>
  Effect.flatMap(InventoryRepo, (repo) => Effect.map(repo.applyEach([{ eventId, operations }], rules), ([applied]) => applied!))

/** What an event's operations must load besides its row. */
const needsOf = (operations: ReadonlyArray<Operation>) => ({
  customers: [...new Set(operations.flatMap((operation) => limitedCustomer(operation) ?? []))],
  bookings: operations.flatMap((operation) => "bookingId" in operation ? [operation.bookingId] : []),
  holds: operations.flatMap((operation) => "holdId" in operation ? [operation.holdId] : []),
  /** Idempotency-Key ids whose bookings or holds, if made already, answer their repeats. */
  keys: operations.flatMap((operation) => makingKey(operation) ?? []),
  line: !operations.every(takesOnly),
  /** Booking ids to draw before deciding: one per operation that may make a booking. */
  mint: operations.filter((operation) => operation._tag === "Book" || operation._tag === "Confirm").length
})

// ---- PostgreSQL ----------------------------------------------------------------------------

/** How many booking ids a process keeps drawn ahead, so that a batch decided on a remembered state need not draw them (one a booking). */
const IDS_AHEAD = 200

/** Events remembered per process at most (Remembered.ts). */
const MAX_EVENTS = 1_000

/** When a write's rows are stamped: SQL for a `timestamptz`. */
type TimeOfWrite = string

/** One event's part of a batch, decided. */
interface Decided {
  readonly eventId: EventId
  readonly plan: Plan
  readonly event: Event | undefined
  readonly types: ReadonlyArray<TicketTypeRow>
  readonly snapshot: Snapshot
  /** Whether to remember the event as the batch leaves it. */
  readonly rememberable: boolean
  /** What was remembered of the event, if still true when the batch was decided. */
  readonly earlier: Remembered | undefined
  /** When what is remembered of it after the batch may be decided on (`Remembered.quietFrom`). */
  readonly quietFrom: number
}

/**
 * Whether a batch failed because what it was decided on changed since it was remembered
 * (`inventory_unchanged`'s SQLSTATE, migration 0016): nothing was written, and it may be decided again.
 */
export const isStaleMemory = (defect: unknown) =>
  defect instanceof SqlError && (defect.cause as { readonly code?: unknown } | undefined)?.code === "IV001"

/** What the read loaded for an event. */
type Loaded = Omit<InventoryState, "eventId">

type Needs = ReturnType<typeof needsOf> & { readonly id: EventId }

function makeSql(sql: SqlClient.SqlClient): InventoryRepo["Type"] {
  /** A value for the statements sent with the COMMIT: inline (escaped: Storage/SqlLiteral.ts), not a parameter. */
  const json = (rows: ReadonlyArray<object>) => sql.literal(jsonLiteral(rows))

  const lockedEvent = eventColumns(sql, "e")

  /** Events' ids as an inline `int[]` literal. */
  const idArray = (ids: ReadonlyArray<EventId>) => {
    for (const id of ids) if (!Number.isSafeInteger(id)) throw new Error(`an event id that is not an integer: ${id}`)
    return `'{${ids.join(",")}}'::int[]`
  }

  /**
   * Locks the events in id order and reads what each needs (`inventory_state`, migration 0010):
   * two statements in one message, with the values inline (no parameters), so that the
   * transaction's BEGIN travels with them (Storage/Transactions.ts). The read is a statement of its
   * own, so its snapshot is taken once the locks are held: it sees every batch that held them before.
   * `withVersions`: the events' versions are read as well (a third statement, after the locks), to
   * know whether what was remembered of them still holds.
   */
  const lockAndRead = (batch: ReadonlyArray<Needs>, withVersions: boolean) => {
    const ids = idArray(batch.map(({ id }) => id))
    const statements = sql`
        SELECT ${lockedEvent}, now() AS now FROM events e
        WHERE e.id = ANY(${sql.literal(ids)})
        ORDER BY e.id
        FOR UPDATE OF e;
        SELECT * FROM inventory_state(${sql.literal(jsonLiteral(batch))})${sql.literal(withVersions ? `;\n${versionsOf(ids)}` : "")}`
    return withVersions
      ? Effect.flatMap(statements, decodeLockReadAndVersions)
      : Effect.map(Effect.flatMap(statements, decodeLockAndRead), ([locked, loaded]) => [locked, loaded, []] as const)
  }

  /** The events' versions and their open holds' first expiry, in id order (migration 0016). */
  const versionsOf = (ids: string) => `SELECT * FROM inventory_versions(${ids})`

  const snapshotOf = (locked: LockedEvent | undefined, loaded: Loaded, needs: Needs, now: Date): Snapshot => ({
    now,
    event: locked && eventStateOf(eventOf(locked)),
    types: loaded.types,
    bookings: loaded.bookings,
    tickets: loaded.tickets,
    holds: loaded.holds,
    line: loaded.line ?? undefined,
    customerTickets: new Map(needs.customers.map((id) => [id, loaded.customerTickets[id] ?? 0])),
    accounts: new Set(loaded.knownUsers)
  })

  /**
   * One statement for every row the plans create or change; answers the new holds' and entries'
   * ids, per plan (bookings come with theirs, drawn before). Each plan numbers its new rows
   * -1, -2...; here they are numbered across the batch, in its order. A write that creates no hold
   * and no entry has nothing to answer: it is sent with the COMMIT (Storage/Transactions.ts), so a
   * booking's transaction is two round trips, or one when decided on a remembered state.
   */
  const write = (plans: ReadonlyArray<readonly [EventId, Plan]>, at: TimeOfWrite) =>
    Effect.gen(function*() {
      const changed = plans.filter(([, plan]) => plan.changed)
      const none: NewIds = { bookings: [], holds: [], entries: [] }
      if (changed.length === 0) return plans.map(() => none)
      // Every time a plan sets is the snapshot's `now`: the transaction's now() written as now() to
      // keep its microseconds (JavaScript dates have milliseconds), so rows and jobs of one batch
      // agree; or the service's clock a remembered state was decided by (Remembered.ts).
      const time = sql.literal(at)
      const now = (column: string) => sql.literal(`CASE WHEN r.${column} IS NULL THEN NULL ELSE ${at} END`)
      const inserts = <Row extends object>(pick: (plan: Plan) => ReadonlyArray<Row>, row: (eventId: EventId, row: Row) => object) =>
        changed.flatMap(([eventId, plan]) => pick(plan).map((r) => ({ event_id: eventId, ...snake(row(eventId, r)) })))
          .map((r, n) => ({ n, ...r }))
      const updates = <Row extends object>(pick: (plan: Plan) => ReadonlyArray<Row>) => changed.flatMap(([, plan]) => pick(plan).map(snake))

      // The event's row is rewritten whenever its plan changed anything (its count may be unchanged).
      const steps = [sql`touched AS (
        UPDATE events e SET available_tickets = r.available
        FROM jsonb_to_recordset(${
        json(changed.map(([id, plan]) => ({ id, available: plan.availableTickets })))
      }) AS r(id int, available int)
        WHERE e.id = r.id)`]
      const created: Array<Statement.Fragment> = []

      // Each type's tickets taken move with the event's tickets left, in the same statement.
      const typeRows = changed.flatMap(([, plan]) => plan.types)
      if (typeRows.length > 0) {
        steps.push(sql`types_taken AS (
          UPDATE ticket_types t SET taken = r.taken
          FROM jsonb_to_recordset(${json(typeRows)}) AS r(id int, taken int)
          WHERE t.id = r.id)`)
      }
      // A ticket per ticket of each new booking, its code drawn here (Domain/TicketCode.ts).
      const ticketRows = changed.flatMap(([eventId, plan]) =>
        plan.tickets.issued.flatMap(({ bookingId, count, ticketTypeId }) =>
          Array.from(
            { length: count },
            () => ({ code: newTicketCode(), booking_id: bookingId, event_id: eventId, ticket_type_id: ticketTypeId })
          )
        )
      ).map((r, n) => ({ n, ...r }))
      if (ticketRows.length > 0) {
        if (ticketRows.some((row) => row.booking_id < 0)) return yield* Effect.dieMessage("a ticket of a booking without a drawn id")
        steps.push(sql`new_tickets AS (
          INSERT INTO tickets (code, booking_id, event_id, ticket_type_id, status, created_at)
          SELECT r.code, r.booking_id, r.event_id, r.ticket_type_id, 'VALID', ${time}
          FROM jsonb_to_recordset(${json(ticketRows)}) AS r(n int, code text, booking_id int, event_id int, ticket_type_id int)
          ORDER BY r.n)`)
      }
      const cancelledTickets = changed.flatMap(([, plan]) => plan.tickets.cancelled)
      if (cancelledTickets.length > 0) {
        steps.push(sql`cancelled_tickets AS (
          UPDATE tickets k SET status = 'CANCELLED', cancelled_at = ${time}
          WHERE k.id = ANY(${sql.literal(`'{${cancelledTickets.join(",")}}'`)}::int[]))`)
      }

      // An offer to an entry created in this batch names it by its place among the event's new
      // entries (-1, -2...): here, by its place among the batch's.
      let entriesBefore = 0
      const entryOffsets = changed.map(([, plan]) => {
        const offset = entriesBefore
        entriesBefore += plan.entries.inserts.length
        return offset
      })
      const entryRows = inserts((plan) => plan.entries.inserts, (_, row) => row)
      if (entryRows.length > 0) {
        steps.push(sql`new_entries AS (
          INSERT INTO waitlist_entries (event_id, user_id, tickets_count, items, status, reserved, passed_over, created_at, ended_at)
          SELECT r.event_id, r.user_id, r.tickets_count, r.items, r.status, r.reserved, r.passed_over, ${time}, ${now("ended_at")}
          FROM jsonb_to_recordset(${json(entryRows)})
               AS r(n int, event_id int, user_id int, tickets_count int, items jsonb, status text, reserved int, passed_over int,
                    created_at timestamptz, ended_at timestamptz)
          ORDER BY r.n
          RETURNING id, user_id)`)
        created.push(sql`SELECT 'entries' AS kind, id, user_id FROM new_entries`)
      }
      const holdRows = changed.flatMap(([eventId, plan], i) =>
        plan.holds.inserts.map((row) => ({
          event_id: eventId,
          ...snake(row.entryId !== null && row.entryId < 0 ? { ...row, entryId: row.entryId - entryOffsets[i]! } : row)
        }))
      ).map((r, n) => ({ n, ...r }))
      if (holdRows.length > 0) {
        const entryId = entryRows.length > 0
          ? sql`CASE WHEN r.entry_id < 0
                  THEN (SELECT n.id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM new_entries) n WHERE n.k = -r.entry_id)
                  ELSE r.entry_id END`
          : sql`r.entry_id`
        steps.push(sql`new_holds AS (
          INSERT INTO holds (event_id, user_id, tickets_count, items, status, expires_at, waitlist_entry_id, created_at, ended_at,
                             idempotency_id)
          SELECT r.event_id, r.user_id, r.tickets_count, r.items, r.status, r.expires_at, ${entryId}, ${time}, ${now("ended_at")},
                 r.idempotency_id
          FROM jsonb_to_recordset(${json(holdRows)})
               AS r(n int, event_id int, user_id int, tickets_count int, items jsonb, status text, expires_at timestamptz, entry_id int,
                    created_at timestamptz, ended_at timestamptz, idempotency_id uuid)
          ORDER BY r.n
          RETURNING id, user_id)`)
        created.push(sql`SELECT 'holds' AS kind, id, user_id FROM new_holds`)
      }
      const bookingRows = inserts((plan) => plan.bookings.inserts, (_, row) => row)
      if (bookingRows.length > 0) {
        // A booking is made from a hold that existed before the batch (nobody confirms a hold they have not seen).
        if (changed.some(([, plan]) => plan.bookings.inserts.some((row) => row.holdId !== null && row.holdId < 0))) {
          return yield* Effect.dieMessage("a booking was made from a hold of its own batch")
        }
        if (changed.some(([, plan]) => plan.bookings.inserts.some((row) => row.id < 0))) {
          return yield* Effect.dieMessage("a booking without a drawn id")
        }
        steps.push(sql`new_bookings AS (
          INSERT INTO bookings (id, user_id, event_id, tickets_count, items, status, cancelled_at, hold_id, created_at, idempotency_id)
          OVERRIDING SYSTEM VALUE
          SELECT r.id, r.user_id, r.event_id, r.tickets_count, r.items, r.status, ${now("cancelled_at")}, r.hold_id, ${time},
                 r.idempotency_id
          FROM jsonb_to_recordset(${json(bookingRows)})
               AS r(n int, id int, event_id int, user_id int, tickets_count int, items jsonb, status text, cancelled_at timestamptz, hold_id int,
                    created_at timestamptz, idempotency_id uuid)
          ORDER BY r.n)`)
      }
      const bookingUpdates = updates((plan) => plan.bookings.updates)
      if (bookingUpdates.length > 0) {
        steps.push(sql`changed_bookings AS (
          UPDATE bookings b SET tickets_count = r.tickets_count, items = r.items, status = r.status,
                                cancelled_at = COALESCE(b.cancelled_at, ${now("cancelled_at")}),
                                cancel_idempotency_id = r.cancel_idempotency_id
          FROM jsonb_to_recordset(${json(bookingUpdates)})
               AS r(id int, tickets_count int, items jsonb, status text, cancelled_at timestamptz, cancel_idempotency_id uuid)
          WHERE b.id = r.id)`)
      }
      const holdUpdates = updates((plan) => plan.holds.updates)
      if (holdUpdates.length > 0) {
        steps.push(sql`changed_holds AS (
          UPDATE holds h SET status = r.status, ended_at = ${now("ended_at")}
          FROM jsonb_to_recordset(${json(holdUpdates)}) AS r(id int, status text, ended_at timestamptz)
          WHERE h.id = r.id)`)
      }
      const entryUpdates = updates((plan) => plan.entries.updates)
      if (entryUpdates.length > 0) {
        steps.push(sql`changed_entries AS (
          UPDATE waitlist_entries w SET status = r.status, items = r.items, reserved = r.reserved, passed_over = r.passed_over,
                                        ended_at = ${now("ended_at")}
          FROM jsonb_to_recordset(${json(entryUpdates)})
               AS r(id int, status text, items jsonb, reserved int, passed_over int, ended_at timestamptz)
          WHERE w.id = r.id)`)
      }
      if (created.length === 0) {
        const [text, params] = sql`WITH ${sql.csv(steps)} SELECT`.compile()
        if (params.length > 0) return yield* Effect.dieMessage("a write to send with the COMMIT has parameters")
        yield* atCommit(sql, { text, committed: () => {} })
        return plans.map(() => none)
      }
      const rows = yield* Effect.flatMap(sql`WITH ${sql.csv(steps)} ${sql.join(" UNION ALL ", false)(created)}`, decodeCreatedRows)

      // Identities are drawn in insertion order, which is the batch's order: each plan takes its share.
      const drawn = (kind: keyof NewIds) => rows.filter((row) => row.kind === kind).sort((a, b) => a.id - b.id)
      const taken = { bookings: 0, holds: 0, entries: 0 }
      const idsOf = (
        kind: keyof NewIds,
        inserts: ReadonlyArray<{ readonly userId: number }>,
        all: ReadonlyArray<{ id: number; user_id: number }>
      ) => {
        const share = all.slice(taken[kind], taken[kind] += inserts.length)
        return share.length === inserts.length && share.every((row, i) => row.user_id === inserts[i]!.userId)
          ? share.map((row) => row.id)
          : undefined
      }
      const all = { bookings: [], holds: drawn("holds"), entries: drawn("entries") }
      const ids = plans.map(([, plan]): NewIds | undefined => {
        if (!plan.changed) return none
        const holds = idsOf("holds", plan.holds.inserts, all.holds)
        const entries = idsOf("entries", plan.entries.inserts, all.entries)
        return holds && entries && { bookings: [], holds, entries }
      })
      if (ids.some((plan) => plan === undefined) || Object.entries(taken).some(([kind, n]) => n !== all[kind as keyof NewIds].length)) {
        return yield* Effect.dieMessage("new rows were not inserted in plan order")
      }
      return ids as ReadonlyArray<NewIds>
    })

  /**
   * What this process remembers of events (Remembered.ts), and booking ids drawn ahead (in
   * ascending order), so that a batch decided on what is remembered need not draw them.
   */
  const remembered = new Map<EventId, Remembered>()
  const drawnIds: Array<number> = []
  /** The state each event's latest batch decided on it was taken from, with the customers it took to be new. */
  const decidedOn = new Map<EventId, { readonly state: Remembered; readonly newcomers: ReadonlyArray<number> }>()

  /**
   * Sent with the COMMIT of batches that leave a state worth remembering: the events' versions as
   * the batch leaves them (read under its locks), remembered once it committed; and booking ids
   * for the next batches, drawn ahead. Ids drawn and never used are gaps, as a rolled-back insert leaves.
   */
  const rememberAtCommit = (decided: ReadonlyArray<Decided>) =>
    Effect.gen(function*() {
      const kept = decided.filter((d) => d.rememberable)
      if (kept.length === 0) return
      yield* atCommit(sql, {
        text: versionsOf(idArray(kept.map((d) => d.eventId))),
        committed: (rows) => {
          const versions = Option.getOrElse(decodeVersions(rows), (): ReadonlyArray<EventVersion> => [])
          for (const d of kept) {
            decidedOn.delete(d.eventId) // committed: nothing to undo
            const version = versions.find((row) => row.id === d.eventId)
            if (version === undefined || d.event === undefined) continue
            remembered.set(d.eventId, rememberAfter({ ...d, event: d.event }, d.earlier, version))
            // The events booked longest ago are forgotten first (a Map keeps insertion order).
            if (remembered.size > MAX_EVENTS) remembered.delete(remembered.keys().next().value!)
          }
        }
      })
      // Drawn by the hundred once half are used (not a statement every batch), so that there are
      // always as many as a batch of BOOKING_BATCH_MAX (100) takes.
      if (drawnIds.length >= IDS_AHEAD / 2) return
      const wanted = IDS_AHEAD - drawnIds.length
      yield* atCommit(sql, {
        text: `SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('bookings', 'id'))::int FROM generate_series(1, ${wanted})) AS ids`,
        committed: ([row]) => {
          const ids = (row as { readonly ids?: unknown } | undefined)?.ids
          if (!Array.isArray(ids)) return
          for (const id of ids) if (Number.isSafeInteger(id)) drawnIds.push(id)
          drawnIds.sort((a, b) => a - b)
        }
      })
    })

  /** The answers of a decided batch. */
  const appliedOf = (decided: ReadonlyArray<Decided>, ids: ReadonlyArray<NewIds>) =>
    decided.map(({ event, plan, types }, i): Applied => ({
      plan: withRealIds(plan, ids[i]!),
      event,
      typeNames: new Map(types.map((type) => [type.id, type.name]))
    }))

  /** Reads the events under their locks, then decides: two round trips. */
  const readAndApply = (batch: ReadonlyArray<EventOperations>, rules: Rules, earlier: ReadonlyArray<Remembered | undefined>) =>
    Effect.gen(function*() {
      // Booking ids come from those drawn ahead when there are enough; else they are drawn by the
      // read, and those drawn ahead are dropped: a process never uses an id older than one it used.
      const needs = batch.map(({ eventId, operations }): Needs => ({ id: eventId, ...needsOf(operations) }))
      const drawnAhead = needs.reduce((n, { mint }) => n + mint, 0) <= drawnIds.length
      if (drawnAhead) needs.forEach((need, i) => needs[i] = { ...need, mint: 0 })
      else drawnIds.length = 0
      // Only a batch of one event is remembered: one of several (bookings spread over many events)
      // could be decided on what is remembered only if every one of its events were, which a
      // spread rush seldom finds; remembering them all cost it statements, memory and ~8% of its
      // rate (docs/performance.md).
      const remembering = batch.length === 1 && batch[0]!.operations.every(takesOnly)
      const [locked, loaded, versions] = yield* lockAndRead(needs, remembering)
      const now = locked[0]?.now ?? new Date(yield* Clock.currentTimeMillis)
      const nothing: Loaded = {
        knownUsers: [],
        types: [],
        bookings: [],
        tickets: [],
        holds: [],
        line: [],
        customerTickets: {},
        bookingIds: []
      }
      const decided = batch.map(({ eventId, operations }, i): Decided => {
        const row = locked.find((row) => row.id === eventId)
        const state = row === undefined ? nothing : loaded.find((state) => state.eventId === eventId)!
        const snapshot = snapshotOf(row, state, needs[i]!, now)
        const plan = decide(eventId, snapshot, operations, rules)
        const version = versions.find((version) => version.id === eventId)?.version
        const bookings = drawnAhead ? drawnIds.splice(0, plan.bookings.inserts.length) : state.bookingIds
        // Another process wrote the event since it was remembered here: the next batch reads again.
        const contended = earlier[i] !== undefined && earlier[i]!.version !== version
        return {
          eventId,
          plan: withRealIds(plan, { bookings, holds: [], entries: [] }),
          event: row === undefined ? undefined : eventOf(row),
          types: state.types,
          snapshot,
          rememberable: version !== undefined && rememberable(operations, snapshot),
          earlier: earlier[i]?.version === version ? earlier[i] : undefined,
          quietFrom: contended ? now.getTime() + CONTENDED_MS : 0
        }
      })
      const ids = yield* write(decided.map(({ eventId, plan }) => [eventId, plan]), "now()")
      yield* rememberAtCommit(decided)
      return appliedOf(decided, ids)
    })

  /**
   * Decides on what was remembered of the events, and sends a guard, the write and the COMMIT in
   * one message: one round trip. The guard rolls the transaction back if the events changed since.
   */
  const applyRemembered = (batch: ReadonlyArray<EventOperations>, rules: Rules, states: ReadonlyArray<Remembered>, now: Date) =>
    Effect.gen(function*() {
      /** The service's clock, the batch's time: what the guard compares with the database's, and what its rows are stamped with. */
      const at = `'${now.toISOString()}'::timestamptz`
      const byId = batch.map(({ eventId }, i) => [eventId, states[i]!.version] as const).sort(([a], [b]) => a - b)
      const keys = batch.flatMap(({ operations }) => operations.flatMap((operation) => makingKey(operation) ?? []))
      const newcomers = batch.flatMap(({ eventId, operations }, i) => {
        const state = states[i]!
        const customers = countNewcomers(state, operations)
        decidedOn.set(eventId, { state, newcomers: customers })
        return customers.map((customer) => ({ event: eventId, customer }))
      })
      yield* atCommit(sql, {
        text: `SELECT inventory_unchanged(${idArray(byId.map(([id]) => id))}, ARRAY[${
          byId.map(([, version]) => escapeLiteral(version)).join(",")
        }]::text[], ${at}, '${CLOCK_MARGIN_MS} milliseconds', ${jsonLiteral(newcomers)}, ${escapeLiteral(`{${keys.join(",")}}`)})`,
        committed: () => {}
      })
      const decided = batch.map(({ eventId, operations }, i): Decided => {
        const state = states[i]!
        const snapshot = rememberedSnapshot(state, now)
        const plan = decide(eventId, snapshot, operations, rules)
        const bookings = drawnIds.splice(0, plan.bookings.inserts.length)
        return {
          eventId,
          plan: withRealIds(plan, { bookings, holds: [], entries: [] }),
          event: state.event,
          types: state.types,
          snapshot,
          rememberable: true,
          earlier: state,
          quietFrom: state.quietFrom
        }
      })
      // Bookings alone create no hold or entry: the write waits for the COMMIT, behind the guard.
      const ids = yield* write(decided.map(({ eventId, plan }) => [eventId, plan]), at)
      yield* rememberAtCommit(decided)
      return appliedOf(decided, ids)
    })

  /**
   * Each event's remembered state is taken out for the batch and put back (as the batch leaves it)
   * only once the batch committed: a batch that fails leaves nothing remembered of its events.
   */
  const applyEach = (batch: ReadonlyArray<EventOperations>, rules: Rules, mayRemember: boolean) =>
    Effect.gen(function*() {
      // A state taken for a batch that did not commit (its guard found it changed) may still serve
      // a read's batch: the read tells whether it still holds, once the customers it took to be
      // new are forgotten. Such a batch is never decided on it again.
      let retried = false
      const states = batch.map(({ eventId }) => {
        const state = remembered.get(eventId)
        const tried = decidedOn.get(eventId)
        remembered.delete(eventId)
        decidedOn.delete(eventId)
        if (state !== undefined || tried === undefined) return state
        forgetNewcomers(tried.state, tried.newcomers)
        retried = true
        return tried.state
      })
      const now = new Date(yield* Clock.currentTimeMillis)
      const bookings = batch.reduce((n, { operations }) => n + operations.length, 0)
      const known = mayRemember && !retried &&
        states.every((state, i) => state !== undefined && decidable(state, batch[i]!.operations, now))
      if (known && bookings <= drawnIds.length) {
        yield* recordInventoryBatch("remembered")
        return yield* applyRemembered(batch, rules, states as ReadonlyArray<Remembered>, now)
      }
      yield* recordInventoryBatch("read")
      return yield* readAndApply(batch, rules, states)
    })

  const eventsWithDueHolds = SqlSchema.findAll({
    Request: Schema.Int,
    Result: Schema.Struct({ eventId: EventId }),
    execute: (limit) =>
      sql`
        SELECT DISTINCT event_id AS "eventId" FROM holds
        WHERE status = 'HELD' AND expires_at <= now()
        LIMIT ${limit}`
  })

  return {
    applyEach: (batch, rules, options) => applyEach(batch, rules, options?.remembered ?? false).pipe(Effect.orDie),
    eventsWithDueHolds: (limit) => eventsWithDueHolds(limit).pipe(Effect.map((rows) => rows.map((row) => row.eventId)), Effect.orDie)
  }
}

/** The event of a locked row, as the batch found it. */
const eventOf = ({ now: _, ...event }: LockedEvent): Event => event

/** A row's fields as the SQL recordsets name them. */
const snake = (row: object) =>
  Object.fromEntries(Object.entries(row).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]))

// ---- Memory --------------------------------------------------------------------------------

function makeMemory(store: MemoryStore["Type"]): InventoryRepo["Type"] {
  const snapshotOf = (tables: Tables, eventId: EventId, operations: ReadonlyArray<Operation>, now: Date): Snapshot => {
    const stored = tables.events.get(eventId)
    const needs = needsOf(operations)
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
      types: [...tables.ticketTypes.values()].filter((t) => t.eventId === eventId).sort((a, b) => a.id - b.id).map((t) => ({
        id: t.id,
        name: t.name,
        quota: t.quota,
        taken: t.taken,
        salesStart: t.salesStart,
        salesEnd: t.salesEnd,
        maxPerBooking: t.maxPerBooking,
        isDefault: t.isDefault
      })),
      bookings: [...tables.bookings.values()].filter((b) => b.eventId === eventId).map(({ eventId: _, ...row }) => row),
      tickets: [...tables.tickets.values()]
        .filter((t) => needs.bookings.includes(t.bookingId))
        .sort((a, b) => a.id - b.id)
        .map(({ bookingId, code, id, status, ticketTypeId }) => ({ id, bookingId, code, ticketTypeId, status })),
      holds: [...tables.holds.values()].filter((h) => h.eventId === eventId),
      line: [...tables.waitlist.values()].filter((w) => w.eventId === eventId && isOpenEntry(w)).sort((a, b) => a.id - b.id),
      customerTickets: new Map(needs.customers.map((id) => [id, ticketsOf(id)])),
      accounts: new Set(tables.users.keys())
    }
  }

  const applyOne = (eventId: EventId, operations: ReadonlyArray<Operation>, rules: Rules) =>
    Effect.flatMap(Clock.currentTimeMillis, (millis) =>
      Ref.modify(store, (tables): readonly [Applied, Tables] => {
        const stored = tables.events.get(eventId)
        const now = new Date(millis)
        const snapshot = snapshotOf(tables, eventId, operations, now)
        const plan = decide(eventId, snapshot, operations, rules)
        // Ids in the order the SQL statement draws them: entries, holds, bookings.
        let lastId = tables.lastId
        const ids: NewIds = {
          entries: plan.entries.inserts.map(() => ++lastId),
          holds: plan.holds.inserts.map(() => ++lastId),
          bookings: plan.bookings.inserts.map(() => ++lastId)
        }
        const settled = withRealIds(plan, ids)
        const applied: Applied = {
          plan: settled,
          event: stored && toEvent(stored),
          typeNames: new Map(snapshot.types.map((type) => [type.id, type.name]))
        }
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
        const ticketTypes = new Map(tables.ticketTypes)
        for (const { id, taken } of settled.types) {
          const type = ticketTypes.get(id)!
          if (type.quota !== null && taken > type.quota) throw new Error(`ticket type ${id} oversold (a CHECK in PostgreSQL)`)
          ticketTypes.set(id, { ...type, taken })
        }
        const tickets = new Map(tables.tickets)
        for (const id of settled.tickets.cancelled) tickets.set(id, { ...tickets.get(id)!, status: "CANCELLED", cancelledAt: now })
        for (const { bookingId, count, ticketTypeId } of settled.tickets.issued) {
          for (let i = 0; i < count; i++) {
            const id = ++lastId
            tickets.set(id, {
              id,
              code: newTicketCode(),
              bookingId,
              eventId,
              ticketTypeId,
              status: "VALID",
              checkedInAt: null,
              cancelledAt: null,
              createdAt: now
            })
          }
        }
        return [applied, {
          ...tables,
          lastId,
          events: withEntry(tables.events, eventId, { ...stored, availableTickets: settled.availableTickets }),
          bookings: put(tables.bookings, all(settled.bookings)),
          holds: put<HoldRow>(tables.holds as ReadonlyMap<number, StoredHold>, all(settled.holds)),
          waitlist: put(tables.waitlist, all(settled.entries)),
          ticketTypes,
          tickets
        }]
      }))

  return {
    // Each event on its own: the store applies each change atomically.
    applyEach: (batch, rules) => Effect.forEach(batch, ({ eventId, operations }) => applyOne(eventId, operations, rules)),

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
