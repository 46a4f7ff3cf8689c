/**
 * The audit trail's store. Entries are written in the caller's transaction, sent with its COMMIT
 * (Storage/Transactions.ts `atCommit`): they exist exactly when the change committed, and cost no
 * round trip; a batch of them is one multi-row INSERT. Nothing here updates or deletes an entry
 * (the table refuses it: migration 0013).
 *
 *     yield* AuditLog.record({ action: "checkin.created", subject: { type: "ticket", id }, eventId, changes })
 *
 * inside the change's `transactions.run(...)` is all a feature writes: who and from where come
 * from the fiber (Origin.ts). `changedFields` (AuditEntry.ts) makes `changes` from the row before and after.
 */
import { SqlClient, type Statement } from "@effect/sql"
import { Clock, Context, Effect, Layer, Ref, Schema } from "effect"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { AppConfig } from "../Platform/Config.ts"
import { pageRows, pageWithCount } from "../Storage/PageQuery.ts"
import { jsonLiteral } from "../Storage/SqlLiteral.ts"
import { atCommit } from "../Storage/Transactions.ts"
import { type AuditChange, AuditEntry, type AuditFilter, isAction, matches } from "./AuditEntry.ts"
import { currentOrigin, type Origin } from "./Origin.ts"

/** A change and who made it from where: an entry to write. */
export interface NewAuditEntry extends AuditChange {
  readonly origin: Origin
}

export class AuditLog extends Context.Tag("AuditLog")<AuditLog, {
  /** Who is acting and from where, as the current fiber says (capture it where a change is asked for). */
  readonly origin: Effect.Effect<Origin>
  /** Writes `change` with the current origin, in the caller's transaction. */
  readonly record: (change: AuditChange) => Effect.Effect<void>
  /** Writes the entries, each with its own origin, in the caller's transaction: one statement. */
  readonly writeEach: (entries: ReadonlyArray<NewAuditEntry>) => Effect.Effect<void>
  /** Entries matching `filter`, newest first (by time, then by id: the order they were written). */
  readonly page: (filter: AuditFilter, page: PageRequest) => Effect.Effect<Page<AuditEntry>>
}>() {
  /** Writes `change` with the current origin, in the caller's transaction (see the module's comment). */
  static readonly record = (change: AuditChange): Effect.Effect<void, never, AuditLog> =>
    Effect.flatMap(AuditLog, (log) => log.record(change))

  static readonly layer = Layer.effect(
    AuditLog,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { rateLimits } = yield* AppConfig
      return makeSql(sql, currentOrigin(rateLimits.trustProxy))
    })
  )

  static readonly layerMemory = Layer.effect(
    AuditLog,
    Effect.gen(function*() {
      const { rateLimits } = yield* AppConfig
      return yield* makeMemory(currentOrigin(rateLimits.trustProxy))
    })
  )
}

/** An entry as audit_log_append's recordset names its fields. */
const toRow = ({ action, changes, eventId, origin: { actor, clientAddress, requestId }, subject }: NewAuditEntry, n: number) => ({
  n,
  actor_type: actor.type,
  actor_user_id: actor.type === "user" ? actor.userId : null,
  actor_role: actor.type === "user" ? actor.role : null,
  action,
  subject_type: subject.type,
  subject_id: subject.id,
  event_id: eventId,
  changes: changes ?? {},
  request_id: requestId,
  client_address: clientAddress
})

/**
 * The statement that writes `entries`, their values inline (a statement sent with the COMMIT takes
 * no parameters): one JSON array, unpacked in order by audit_log_append (migration 0013).
 */
const appendStatement = (entries: ReadonlyArray<NewAuditEntry>) => `SELECT audit_log_append(${jsonLiteral(entries.map(toRow))})`

const decodePage = pageRows(Schema.Struct({ entry: AuditEntry }), "entry")

function makeSql(sql: SqlClient.SqlClient, origin: Effect.Effect<Origin>): AuditLog["Type"] {
  const writeEach = (entries: ReadonlyArray<NewAuditEntry>) =>
    entries.length === 0 ? Effect.void : atCommit(sql, { text: appendStatement(entries), committed: () => {} })

  const conditions = ({ action, eventId, from, to }: AuditFilter) => {
    const all: Array<Statement.Fragment> = []
    if (eventId !== undefined) all.push(sql`a.event_id = ${eventId}`)
    if (action !== undefined) all.push(action.endsWith(".") ? sql`starts_with(a.action, ${action})` : sql`a.action = ${action}`)
    if (from !== undefined) all.push(sql`a.at >= ${from}`)
    // Times are answered to the millisecond: `to` keeps the whole of its millisecond.
    if (to !== undefined) all.push(sql`a.at < ${to}::timestamptz + interval '1 millisecond'`)
    return sql.and(all)
  }

  return {
    origin,
    record: (change) => Effect.flatMap(origin, (origin) => writeEach([{ ...change, origin }])),
    writeEach,
    page: (filter, { limit, offset }) => {
      const where = conditions(filter)
      return pageWithCount(sql, {
        count: sql`SELECT count(*)::int AS total FROM audit_log a WHERE ${where}`,
        page: sql`
          SELECT a.at, a.id, jsonb_build_object(
            'id', a.id, 'at', a.at,
            'actor', jsonb_build_object('type', a.actor_type, 'userId', a.actor_user_id, 'role', a.actor_role),
            'action', a.action, 'subject', jsonb_build_object('type', a.subject_type, 'id', a.subject_id),
            'eventId', a.event_id, 'changes', a.changes, 'requestId', a.request_id, 'clientAddress', a.client_address
          ) AS entry
          FROM audit_log a WHERE ${where}
          ORDER BY a.at DESC, a.id DESC LIMIT ${limit} OFFSET ${offset}`,
        order: sql`p.at DESC, p.id DESC`
      }).pipe(
        Effect.flatMap(decodePage),
        Effect.map(({ items, total }) => ({ total, items: items.map(({ entry }) => entry) })),
        Effect.orDie
      )
    }
  }
}

function makeMemory(origin: Effect.Effect<Origin>) {
  return Effect.map(Ref.make<ReadonlyArray<AuditEntry>>([]), (log): AuditLog["Type"] => {
    // The store applies each change atomically, without transactions: an entry is kept at once.
    const writeEach = (entries: ReadonlyArray<NewAuditEntry>) => {
      // The table's check refuses it too: a defect of the caller.
      const invalid = entries.find(({ action }) => !isAction(action))
      if (invalid !== undefined) return Effect.dieMessage(`an audit action that is not area.verb: ${invalid.action}`)
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(log, (written) => [
          ...written,
          ...entries.map(({ action, changes, eventId, origin: { actor, clientAddress, requestId }, subject }, i): AuditEntry => ({
            id: written.length + i + 1,
            at: new Date(now),
            actor: actor.type === "user"
              ? { type: "user", userId: actor.userId, role: actor.role }
              : { type: actor.type, userId: null, role: null },
            action,
            subject,
            eventId,
            // As the database keeps them: JSON (dates as ISO text).
            changes: JSON.parse(JSON.stringify(changes ?? {})),
            requestId,
            clientAddress
          }))
        ]))
    }
    return {
      origin,
      record: (change) => Effect.flatMap(origin, (origin) => writeEach([{ ...change, origin }])),
      writeEach,
      page: (filter, { limit, offset }) =>
        Effect.map(Ref.get(log), (written) => {
          const found = written.filter((entry) => matches(filter, entry))
            .sort((a, b) => b.at.getTime() - a.at.getTime() || b.id - a.id)
          return { total: found.length, items: found.slice(offset, offset + limit) }
        })
    }
  })
}
