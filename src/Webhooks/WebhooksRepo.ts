/**
 * Where webhook endpoints and their deliveries are kept: PostgreSQL, or memory for the fast tiers
 * (the same contract suite runs on both: test/support/webhooks.ts). Every read and change of an
 * endpoint is scoped to its organizer: another organizer's endpoint is none.
 */
import { SqlClient, SqlSchema, type Statement } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { WebhookEventType } from "../Announcements/Announcements.ts"
import type { EventId } from "../Domain/Ids.ts"
import { UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { MemoryStore } from "../Storage/MemoryStore.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { driverRow } from "../Storage/Rows.ts"
import { DeliveryState, WebhookDeliveryId, WebhookEndpointId } from "./Webhook.ts"

export const EndpointRow = driverRow(Schema.Struct({
  id: WebhookEndpointId,
  organizerId: UserId,
  url: Schema.String,
  description: Schema.NullOr(Schema.String),
  events: Schema.Array(WebhookEventType),
  enabled: Schema.Boolean,
  disabledReason: Schema.NullOr(Schema.String),
  secret: Schema.String,
  previousSecret: Schema.NullOr(Schema.String),
  previousSecretUntil: Schema.NullOr(Schema.DateFromSelf),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf
}))
export type EndpointRow = typeof EndpointRow.Type

export const DeliveryRow = driverRow(Schema.Struct({
  id: WebhookDeliveryId,
  endpointId: WebhookEndpointId,
  messageId: Schema.String,
  eventKey: Schema.String,
  eventType: WebhookEventType,
  body: Schema.String,
  state: DeliveryState,
  attempts: Schema.Int,
  roundStart: Schema.Int,
  lastStatus: Schema.NullOr(Schema.Int),
  lastError: Schema.NullOr(Schema.String),
  nextAttemptAt: Schema.NullOr(Schema.DateFromSelf),
  createdAt: Schema.DateFromSelf
}))
export type DeliveryRow = typeof DeliveryRow.Type

export interface NewEndpoint {
  readonly organizerId: UserId
  readonly url: string
  readonly description: string | null
  readonly events: ReadonlyArray<WebhookEventType>
  readonly secret: string
}

export interface EndpointChanges {
  readonly url?: string | undefined
  readonly events?: ReadonlyArray<WebhookEventType> | undefined
  readonly enabled?: boolean | undefined
}

/** One event to deliver: its key (one delivery per endpoint and key), type, and the body every attempt sends. */
export interface NewDeliveries {
  readonly eventKey: string
  readonly eventId: EventId
  readonly type: WebhookEventType
  readonly body: string
}

/** What an attempt came to. */
export interface AttemptRecord {
  readonly state: DeliveryState
  readonly lastStatus: number | null
  readonly lastError: string | null
  readonly nextAttemptAt: Date | null
}

/** A new webhook-id: `msg_` and 32 hex digits (Standard Webhooks ids are opaque strings). */
const messageId = () => `msg_${randomUUID().replaceAll("-", "")}`

export class WebhooksRepo extends Context.Tag("WebhooksRepo")<WebhooksRepo, {
  /** A new endpoint, unless its organizer has `max` already (None); in a transaction, creates of one organizer serialize. */
  readonly create: (endpoint: NewEndpoint, max: number) => Effect.Effect<Option.Option<EndpointRow>>
  /** The organizer's endpoints, oldest first. */
  readonly list: (organizerId: UserId, page: PageRequest) => Effect.Effect<Page<EndpointRow>>
  readonly find: (organizerId: UserId, id: WebhookEndpointId) => Effect.Effect<Option.Option<EndpointRow>>
  /** Any organizer's (for the delivery jobs). */
  readonly findById: (id: WebhookEndpointId) => Effect.Effect<Option.Option<EndpointRow>>
  /** Enabling clears why it was disabled. */
  readonly update: (organizerId: UserId, id: WebhookEndpointId, changes: EndpointChanges) => Effect.Effect<Option.Option<EndpointRow>>
  /** Deletes the endpoint and its deliveries; false if there was none. */
  readonly remove: (organizerId: UserId, id: WebhookEndpointId) => Effect.Effect<boolean>
  /** `secret` becomes the secret; the one before signs beside it until `previousUntil`. */
  readonly rotate: (
    organizerId: UserId,
    id: WebhookEndpointId,
    secret: string,
    previousUntil: Date
  ) => Effect.Effect<Option.Option<EndpointRow>>
  /** Disables an enabled endpoint: answers it only if this call disabled it (so its organizer is told once). */
  readonly disable: (id: WebhookEndpointId, reason: string) => Effect.Effect<Option.Option<EndpointRow>>
  /**
   * One pending delivery for each enabled endpoint of the event's organizer subscribed to its type,
   * none twice for one key (a fan-out run again adds nothing): answers those it added.
   */
  readonly fanOut: (event: NewDeliveries) => Effect.Effect<ReadonlyArray<DeliveryRow>>
  /** One pending delivery to one endpoint (a ping). */
  readonly addDelivery: (
    endpointId: WebhookEndpointId,
    event: Omit<NewDeliveries, "eventId">
  ) => Effect.Effect<DeliveryRow>
  readonly findDelivery: (id: WebhookDeliveryId) => Effect.Effect<Option.Option<DeliveryRow>>
  /**
   * Records attempt number `attempt` of a pending delivery that has made `attempt - 1` so far;
   * false if it stands elsewhere (another run recorded it, it was retried by hand, it is gone).
   */
  readonly recordAttempt: (id: WebhookDeliveryId, attempt: number, record: AttemptRecord) => Effect.Effect<boolean>
  /** Ends a pending delivery without an attempt (its endpoint is disabled). */
  readonly abandon: (id: WebhookDeliveryId, reason: string) => Effect.Effect<void>
  /** The endpoint's deliveries, newest first. */
  readonly deliveries: (endpointId: WebhookEndpointId, page: PageRequest) => Effect.Effect<Page<DeliveryRow>>
  /**
   * Makes a delivery that is not pending pending again, at once, for a new round of the schedule.
   * Left: "missing" (no such delivery of this endpoint) or "pending".
   */
  readonly requeue: (
    endpointId: WebhookEndpointId,
    id: WebhookDeliveryId
  ) => Effect.Effect<Either.Either<DeliveryRow, "missing" | "pending">>
}>() {
  static readonly layer = Layer.effect(WebhooksRepo, Effect.map(SqlClient.SqlClient, makeSql))
  static readonly layerMemory = Layer.effect(
    WebhooksRepo,
    Effect.flatMap(
      MemoryStore,
      (store) =>
        Effect.map(
          Ref.make<MemoryTables>({ endpoints: new Map(), deliveries: new Map(), lastId: 0 }),
          (tables) => makeMemory(store, tables)
        )
    )
  )
}

/** A request schema that passes the value on as it is. */
const asIs = <I>() => Schema.Unknown as unknown as Schema.Schema<I>

const decodeEndpointPage = pageRows(EndpointRow, "id")
const decodeDeliveryPage = pageRows(DeliveryRow, "id")

function makeSql(sql: SqlClient.SqlClient): WebhooksRepo["Type"] {
  const endpointColumns = sql.literal(`
    w.id, w.organizer_id AS "organizerId", w.url, w.description, w.events, w.enabled,
    w.disabled_reason AS "disabledReason", w.secret, w.previous_secret AS "previousSecret",
    w.previous_secret_until AS "previousSecretUntil", w.created_at AS "createdAt", w.updated_at AS "updatedAt"`)
  const deliveryColumns = sql.literal(`
    d.id, d.endpoint_id AS "endpointId", d.message_id AS "messageId", d.event_key AS "eventKey",
    d.event_type AS "eventType", d.body, d.state, d.attempts, d.round_start AS "roundStart",
    d.last_status AS "lastStatus", d.last_error AS "lastError", d.next_attempt_at AS "nextAttemptAt",
    d.created_at AS "createdAt"`)

  // Requests are typed by their callers here: nothing in them needs encoding.
  const oneEndpoint = <I>(execute: (request: I) => Statement.Statement<object>) =>
    SqlSchema.findOne({ Request: asIs<I>(), Result: EndpointRow, execute })
  const oneDelivery = <I>(execute: (request: I) => Statement.Statement<object>) =>
    SqlSchema.findOne({ Request: asIs<I>(), Result: DeliveryRow, execute })

  const create = oneEndpoint(({ endpoint: e, max }: { endpoint: NewEndpoint; max: number }) =>
    sql`
      INSERT INTO webhook_endpoints AS w (organizer_id, url, description, events, secret)
      SELECT ${e.organizerId}, ${e.url}, ${e.description}, ${[...e.events]}::text[], ${e.secret}
      WHERE (SELECT count(*) FROM webhook_endpoints WHERE organizer_id = ${e.organizerId}) < ${max}
      RETURNING ${endpointColumns}`
  )
  const find = oneEndpoint(({ id, organizerId }: { organizerId: UserId; id: WebhookEndpointId }) =>
    sql`SELECT ${endpointColumns} FROM webhook_endpoints w WHERE w.id = ${id} AND w.organizer_id = ${organizerId}`
  )
  const findById = oneEndpoint((id: WebhookEndpointId) => sql`SELECT ${endpointColumns} FROM webhook_endpoints w WHERE w.id = ${id}`)
  const update = oneEndpoint(({ changes, id, organizerId }: { organizerId: UserId; id: WebhookEndpointId; changes: EndpointChanges }) =>
    sql`
      UPDATE webhook_endpoints w SET
        url = COALESCE(${changes.url ?? null}, url),
        events = COALESCE(${changes.events === undefined ? null : [...changes.events]}::text[], events),
        enabled = COALESCE(${changes.enabled ?? null}, enabled),
        disabled_reason = CASE WHEN ${changes.enabled ?? null}::boolean THEN NULL ELSE disabled_reason END,
        updated_at = now()
      WHERE w.id = ${id} AND w.organizer_id = ${organizerId}
      RETURNING ${endpointColumns}`
  )
  const rotate = oneEndpoint((
    { id, organizerId, previousUntil, secret }: { organizerId: UserId; id: WebhookEndpointId; secret: string; previousUntil: Date }
  ) =>
    sql`
      UPDATE webhook_endpoints w SET previous_secret = secret, previous_secret_until = ${previousUntil},
        secret = ${secret}, updated_at = now()
      WHERE w.id = ${id} AND w.organizer_id = ${organizerId}
      RETURNING ${endpointColumns}`
  )
  const disable = oneEndpoint(({ id, reason }: { id: WebhookEndpointId; reason: string }) =>
    sql`
      UPDATE webhook_endpoints w SET enabled = false, disabled_reason = ${reason}, updated_at = now()
      WHERE w.id = ${id} AND w.enabled
      RETURNING ${endpointColumns}`
  )
  const fanOut = SqlSchema.findAll({
    Request: asIs<NewDeliveries>(),
    Result: DeliveryRow,
    execute: (event) =>
      sql`
        WITH added AS (
          INSERT INTO webhook_deliveries (endpoint_id, message_id, event_key, event_type, body, state, next_attempt_at)
          SELECT w.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), ${event.eventKey}, ${event.type}, ${event.body},
                 'pending', now()
          FROM events e JOIN webhook_endpoints w ON w.organizer_id = e.organizer_id
          WHERE e.id = ${event.eventId} AND w.enabled AND ${event.type} = ANY (w.events)
          ORDER BY w.id
          ON CONFLICT (endpoint_id, event_key) DO NOTHING
          RETURNING *
        )
        SELECT ${deliveryColumns} FROM added d ORDER BY d.id`
  })
  const addDelivery = SqlSchema.single({
    Request: asIs<{ endpointId: WebhookEndpointId; event: Omit<NewDeliveries, "eventId"> }>(),
    Result: DeliveryRow,
    execute: ({ endpointId, event }) =>
      sql`
        WITH added AS (
          INSERT INTO webhook_deliveries (endpoint_id, message_id, event_key, event_type, body, state, next_attempt_at)
          VALUES (${endpointId}, ${messageId()}, ${event.eventKey}, ${event.type}, ${event.body}, 'pending', now())
          RETURNING *
        )
        SELECT ${deliveryColumns} FROM added d`
  })
  const findDelivery = oneDelivery((id: WebhookDeliveryId) => sql`SELECT ${deliveryColumns} FROM webhook_deliveries d WHERE d.id = ${id}`)
  const requeue = oneDelivery(({ endpointId, id }: { endpointId: WebhookEndpointId; id: WebhookDeliveryId }) =>
    sql`
      UPDATE webhook_deliveries d SET state = 'pending', round_start = attempts, next_attempt_at = now(), updated_at = now()
      WHERE d.id = ${id} AND d.endpoint_id = ${endpointId} AND d.state <> 'pending'
      RETURNING ${deliveryColumns}`
  )

  return {
    // An organizer's creates queue on their user's row (held until commit; no key share is blocked,
    // so their events and bookings go on): the INSERT's count is then read after the previous
    // create committed. In one statement it would count from a snapshot taken before any wait, and
    // simultaneous creates would all pass the limit. Run it in a transaction.
    create: (endpoint, max) =>
      sql`SELECT 1 FROM users WHERE id = ${endpoint.organizerId} FOR NO KEY UPDATE`.pipe(
        Effect.zipRight(create({ endpoint, max })),
        Effect.orDie
      ),
    list: (organizerId, { limit, offset }) =>
      pageWithCount(sql, {
        count: sql`SELECT count(*)::int AS total FROM webhook_endpoints WHERE organizer_id = ${organizerId}`,
        page: sql`
          SELECT ${endpointColumns} FROM webhook_endpoints w
          WHERE w.organizer_id = ${organizerId}
          ORDER BY w.id LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p.id`
      }).pipe(Effect.flatMap(decodeEndpointPage), Effect.orDie),
    find: (organizerId, id) => find({ organizerId, id }).pipe(Effect.orDie),
    findById: (id) => findById(id).pipe(Effect.orDie),
    update: (organizerId, id, changes) => update({ organizerId, id, changes }).pipe(Effect.orDie),
    remove: (organizerId, id) =>
      sql`DELETE FROM webhook_endpoints WHERE id = ${id} AND organizer_id = ${organizerId} RETURNING id`.pipe(
        Effect.map((rows) => rows.length > 0),
        Effect.orDie
      ),
    rotate: (organizerId, id, secret, previousUntil) => rotate({ organizerId, id, secret, previousUntil }).pipe(Effect.orDie),
    disable: (id, reason) => disable({ id, reason }).pipe(Effect.orDie),
    fanOut: (event) => fanOut(event).pipe(Effect.orDie),
    addDelivery: (endpointId, event) => addDelivery({ endpointId, event }).pipe(Effect.orDie),
    findDelivery: (id) => findDelivery(id).pipe(Effect.orDie),
    recordAttempt: (id, attempt, record) =>
      sql`
        UPDATE webhook_deliveries SET attempts = ${attempt}, state = ${record.state}, last_status = ${record.lastStatus},
          last_error = ${record.lastError}, next_attempt_at = ${record.nextAttemptAt}, updated_at = now()
        WHERE id = ${id} AND state = 'pending' AND attempts = ${attempt - 1}
        RETURNING id`.pipe(Effect.map((rows) => rows.length > 0), Effect.orDie),
    abandon: (id, reason) =>
      sql`
        UPDATE webhook_deliveries SET state = 'failed', last_error = ${reason}, next_attempt_at = NULL, updated_at = now()
        WHERE id = ${id} AND state = 'pending'`.pipe(Effect.asVoid, Effect.orDie),
    deliveries: (endpointId, { limit, offset }) =>
      pageWithCount(sql, {
        count: sql`SELECT count(*)::int AS total FROM webhook_deliveries WHERE endpoint_id = ${endpointId}`,
        page: sql`
          SELECT ${deliveryColumns} FROM webhook_deliveries d
          WHERE d.endpoint_id = ${endpointId}
          ORDER BY d.id DESC LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p.id DESC`
      }).pipe(Effect.flatMap(decodeDeliveryPage), Effect.orDie),
    requeue: (endpointId, id) =>
      Effect.gen(function*() {
        const requeued = yield* requeue({ endpointId, id })
        if (Option.isSome(requeued)) return Either.right(requeued.value)
        const found = yield* findDelivery(id)
        return Either.left(Option.isSome(found) && found.value.endpointId === endpointId ? "pending" as const : "missing" as const)
      }).pipe(Effect.orDie)
  }
}

// ---- memory --------------------------------------------------------------------------------

interface MemoryTables {
  readonly endpoints: ReadonlyMap<number, EndpointRow>
  readonly deliveries: ReadonlyMap<number, DeliveryRow>
  readonly lastId: number
}

function makeMemory(store: MemoryStore["Type"], tables: Ref.Ref<MemoryTables>): WebhooksRepo["Type"] {
  const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))
  /** Changes the tables atomically; `change` answers its result and the new tables. */
  const modify = <A>(change: (t: MemoryTables, at: Date) => readonly [A, MemoryTables]) =>
    Effect.flatMap(now, (at) => Ref.modify(tables, (t) => change(t, at)))
  const set = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V) => new Map(map).set(key, value)
  const page = <A>(items: ReadonlyArray<A>, { limit, offset }: PageRequest): Page<A> => ({
    items: items.slice(offset, offset + limit),
    total: items.length
  })
  const own = (t: MemoryTables, organizerId: UserId, id: number) => {
    const found = t.endpoints.get(id)
    return found !== undefined && found.organizerId === organizerId ? found : undefined
  }
  const changeOwn = (organizerId: UserId, id: WebhookEndpointId, change: (row: EndpointRow, at: Date) => EndpointRow) =>
    modify((t, at): readonly [Option.Option<EndpointRow>, MemoryTables] => {
      const found = own(t, organizerId, id)
      if (found === undefined) return [Option.none(), t]
      const changed = change(found, at)
      return [Option.some(changed), { ...t, endpoints: set(t.endpoints, id, changed) }]
    })
  const newDelivery = (
    id: number,
    endpointId: WebhookEndpointId,
    event: Omit<NewDeliveries, "eventId">,
    at: Date
  ): DeliveryRow => ({
    id: id as WebhookDeliveryId,
    endpointId,
    messageId: messageId(),
    eventKey: event.eventKey,
    eventType: event.type,
    body: event.body,
    state: "pending",
    attempts: 0,
    roundStart: 0,
    lastStatus: null,
    lastError: null,
    nextAttemptAt: at,
    createdAt: at
  })
  const changeDelivery = (id: WebhookDeliveryId, change: (row: DeliveryRow) => DeliveryRow | undefined) =>
    Ref.modify(tables, (t): readonly [boolean, MemoryTables] => {
      const found = t.deliveries.get(id)
      const changed = found === undefined ? undefined : change(found)
      return changed === undefined ? [false, t] : [true, { ...t, deliveries: set(t.deliveries, id, changed) }]
    })

  return {
    create: (endpoint, max) =>
      modify((t, at) => {
        const mine = [...t.endpoints.values()].filter((row) => row.organizerId === endpoint.organizerId)
        if (mine.length >= max) return [Option.none(), t]
        const id = t.lastId + 1
        const row: EndpointRow = {
          id: id as WebhookEndpointId,
          ...endpoint,
          events: [...endpoint.events],
          enabled: true,
          disabledReason: null,
          previousSecret: null,
          previousSecretUntil: null,
          createdAt: at,
          updatedAt: at
        }
        return [Option.some(row), { ...t, lastId: id, endpoints: set(t.endpoints, id, row) }]
      }),
    list: (organizerId, request) =>
      Effect.map(Ref.get(tables), (t) => page([...t.endpoints.values()].filter((row) => row.organizerId === organizerId), request)),
    find: (organizerId, id) => Effect.map(Ref.get(tables), (t) => Option.fromNullable(own(t, organizerId, id))),
    findById: (id) => Effect.map(Ref.get(tables), (t) => Option.fromNullable(t.endpoints.get(id))),
    update: (organizerId, id, changes) =>
      changeOwn(organizerId, id, (row, at) => ({
        ...row,
        url: changes.url ?? row.url,
        events: changes.events === undefined ? row.events : [...changes.events],
        enabled: changes.enabled ?? row.enabled,
        disabledReason: changes.enabled === true ? null : row.disabledReason,
        updatedAt: at
      })),
    remove: (organizerId, id) =>
      Ref.modify(tables, (t): readonly [boolean, MemoryTables] => {
        if (own(t, organizerId, id) === undefined) return [false, t]
        const endpoints = new Map(t.endpoints)
        endpoints.delete(id)
        const deliveries = new Map([...t.deliveries].filter(([, row]) => row.endpointId !== id))
        return [true, { ...t, endpoints, deliveries }]
      }),
    rotate: (organizerId, id, secret, previousUntil) =>
      changeOwn(organizerId, id, (row, at) => ({
        ...row,
        secret,
        previousSecret: row.secret,
        previousSecretUntil: previousUntil,
        updatedAt: at
      })),
    disable: (id, reason) =>
      modify((t, at): readonly [Option.Option<EndpointRow>, MemoryTables] => {
        const found = t.endpoints.get(id)
        if (found === undefined || !found.enabled) return [Option.none(), t]
        const changed = { ...found, enabled: false, disabledReason: reason, updatedAt: at }
        return [Option.some(changed), { ...t, endpoints: set(t.endpoints, id, changed) }]
      }),
    fanOut: (event) =>
      Effect.flatMap(Ref.get(store), ({ events }) => {
        const organizerId = events.get(event.eventId)?.organizerId
        return modify((t, at) => {
          const added: Array<DeliveryRow> = []
          let deliveries = t.deliveries
          let lastId = t.lastId
          for (const endpoint of t.endpoints.values()) {
            if (endpoint.organizerId !== organizerId || !endpoint.enabled || !endpoint.events.includes(event.type)) continue
            const taken = [...deliveries.values()].some((row) => row.endpointId === endpoint.id && row.eventKey === event.eventKey)
            if (taken) continue
            const row = newDelivery(++lastId, endpoint.id, event, at)
            added.push(row)
            deliveries = set(deliveries, row.id, row)
          }
          return [added, { ...t, deliveries, lastId }]
        })
      }),
    addDelivery: (endpointId, event) =>
      modify((t, at) => {
        const row = newDelivery(t.lastId + 1, endpointId, event, at)
        return [row, { ...t, lastId: row.id, deliveries: set(t.deliveries, row.id, row) }]
      }),
    findDelivery: (id) => Effect.map(Ref.get(tables), (t) => Option.fromNullable(t.deliveries.get(id))),
    recordAttempt: (id, attempt, record) =>
      changeDelivery(
        id,
        (row) => row.state === "pending" && row.attempts === attempt - 1 ? { ...row, ...record, attempts: attempt } : undefined
      ),
    abandon: (id, reason) =>
      Effect.asVoid(
        changeDelivery(
          id,
          (row) => row.state === "pending" ? { ...row, state: "failed", lastError: reason, nextAttemptAt: null } : undefined
        )
      ),
    deliveries: (endpointId, request) =>
      Effect.map(
        Ref.get(tables),
        (t) => page([...t.deliveries.values()].filter((row) => row.endpointId === endpointId).sort((a, b) => b.id - a.id), request)
      ),
    requeue: (endpointId, id) =>
      modify((t, at): readonly [Either.Either<DeliveryRow, "missing" | "pending">, MemoryTables] => {
        const found = t.deliveries.get(id)
        if (found === undefined || found.endpointId !== endpointId) return [Either.left("missing"), t]
        if (found.state === "pending") return [Either.left("pending"), t]
        const changed: DeliveryRow = { ...found, state: "pending", roundStart: found.attempts, nextAttemptAt: at }
        return [Either.right(changed), { ...t, deliveries: set(t.deliveries, id, changed) }]
      })
  }
}
