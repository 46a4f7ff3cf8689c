/**
 * An entry of the audit trail: who (the actor), did what (the action, on a subject, of an event),
 * changing which fields from what to what, in which request and from which address, when. The
 * schema the API answers and both stores decode; what a writer gives (`AuditChange`); the filters
 * of the reads.
 */
import { Schema } from "effect"
import { EventId, EventIdFromPath, UserId } from "../Domain/Ids.ts"
import { PageParams } from "../Domain/Paging.ts"
import { Role } from "../Domain/Role.ts"

export const ActorType = Schema.Literal("user", "system", "admin").annotations({
  description: "user: a signed-in user (userId, role); system: the service on its own (hold expiries, sweeps, " +
    "waiting-list offers); admin: a call with the ADMIN_TOKEN"
})
export type ActorType = typeof ActorType.Type

/** Who acted. */
export type Actor =
  | { readonly type: "user"; readonly userId: UserId; readonly role: Role }
  | { readonly type: "system" }
  | { readonly type: "admin" }

export const SYSTEM: Actor = { type: "system" }
export const ADMIN: Actor = { type: "admin" }

/** `area.verb`, lower case: `booking.created`, `webhook.secret_rotated` (the table checks it too). */
const ACTION = /^[a-z_]+\.[a-z_]+$/
export const isAction = (action: string) => ACTION.test(action)

export const AuditAction = Schema.String.pipe(Schema.pattern(ACTION)).annotations({
  description: "What was done, as area.verb: event.created|updated|published|cancelled, booking.created|cancelled|reduced, " +
    "hold.placed|confirmed|released|expired, waitlist.joined|left|offered|accepted|expired, ticket_type.created|updated|deleted, " +
    "checkin.created|undone, webhook.created|updated|secret_rotated|deleted"
})

/** A changed field: its value before (null: none, as for a new row) and after. */
export const FieldChange = Schema.Struct({ before: Schema.Unknown, after: Schema.Unknown })
export const AuditChanges = Schema.Record({ key: Schema.String, value: FieldChange }).annotations({
  description: "The fields the change set, each with its value before and after (null before: a new row)"
})
export type AuditChanges = typeof AuditChanges.Type

export const AuditEntry = Schema.Struct({
  id: Schema.Int,
  at: Schema.Date.annotations({ description: "The time of the change's transaction (ISO 8601, UTC)" }),
  actor: Schema.Struct({
    type: ActorType,
    userId: Schema.NullOr(UserId),
    role: Schema.NullOr(Role)
  }),
  action: AuditAction,
  subject: Schema.Struct({
    type: Schema.String.annotations({ description: "event, booking, hold, waitlist_entry, ticket, webhook..." }),
    id: Schema.NullOr(Schema.Int)
  }),
  eventId: Schema.NullOr(EventId),
  changes: AuditChanges,
  requestId: Schema.NullOr(Schema.String).annotations({ description: "The X-Request-Id of the request that made the change" }),
  clientAddress: Schema.NullOr(Schema.String).annotations({
    description: "The caller's address, as rate limits see it (TRUST_PROXY); IPv6 by its /64"
  })
}).annotations({ identifier: "AuditEntry" })
export type AuditEntry = typeof AuditEntry.Type

/** What a change tells the trail; who and where from come from its origin (Origin.ts). */
export interface AuditChange {
  readonly action: string
  readonly subject: { readonly type: string; readonly id: number | null }
  readonly eventId: EventId | null
  readonly changes?: AuditChanges | undefined
}

/** The changes of the fields that differ between `before` and `after` (dates compared by instant). */
export const changedFields = <A extends object>(
  before: A | undefined,
  after: A,
  fields: ReadonlyArray<keyof A & string>
): AuditChanges => {
  const changes: Record<string, { before: unknown; after: unknown }> = {}
  for (const field of fields) {
    const was = before?.[field] ?? null
    const is = after[field] ?? null
    if (!sameValue(was, is)) changes[field] = { before: was, after: is }
  }
  return changes
}

const sameValue = (a: unknown, b: unknown) => a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b

// ---- Reads ---------------------------------------------------------------------------------

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

const Instant = (description: string) =>
  Schema.String.pipe(
    Schema.maxLength(40, { message: () => "must be at most 40 characters" }),
    Schema.filter((s) => ISO_INSTANT.test(s) && !Number.isNaN(Date.parse(s)), {
      message: () => "must be an ISO 8601 date-time with a time zone, e.g. 2030-12-01T10:00:00Z"
    }),
    Schema.compose(Schema.Date)
  ).annotations({ jsonSchema: { type: "string", format: "date-time", maxLength: 40, description } })

const ActionFilter = Schema.String.pipe(
  Schema.maxLength(64, { message: () => "must be at most 64 characters" }),
  Schema.filter((s) => /^[a-z_]+\.([a-z_]+)?$/.test(s), {
    message: () => "must be an action (booking.created) or the prefix of one ending with a dot (booking.)"
  })
).annotations({
  jsonSchema: {
    type: "string",
    maxLength: 64,
    description: "An action (booking.created), or a prefix ending with a dot (booking.) for all of its area"
  }
})

const filterParams = {
  action: Schema.optional(ActionFilter),
  from: Schema.optional(Instant("Only entries at or after this time")),
  to: Schema.optional(Instant("Only entries at or before this time")),
  ...PageParams
}

const fromBeforeTo = <A extends { readonly from?: Date | undefined; readonly to?: Date | undefined }>(params: A) =>
  params.from === undefined || params.to === undefined || params.from <= params.to || "to: must not be before from"

/** GET /events/:id/audit's query. */
export const EventAuditParams = Schema.Struct(filterParams).pipe(Schema.filter(fromBeforeTo))
/** GET /admin/audit's query: the same, and an event. */
export const AuditParams = Schema.Struct({
  ...filterParams,
  eventId: Schema.optional(
    EventIdFromPath.annotations({
      jsonSchema: { type: "integer", minimum: 1, maximum: 2_147_483_647, description: "Only this event's entries" }
    })
  )
}).pipe(Schema.filter(fromBeforeTo))

/** What a read keeps: all of these that are given. */
export interface AuditFilter {
  readonly eventId?: EventId | undefined
  /** Exact, or a prefix when it ends with a dot. */
  readonly action?: string | undefined
  readonly from?: Date | undefined
  readonly to?: Date | undefined
}

/** Whether `entry` passes `filter` (the memory store's read; the SQL one says the same in SQL). */
export const matches = (filter: AuditFilter, entry: AuditEntry) =>
  (filter.eventId === undefined || entry.eventId === filter.eventId) &&
  (filter.action === undefined ||
    (filter.action.endsWith(".") ? entry.action.startsWith(filter.action) : entry.action === filter.action)) &&
  (filter.from === undefined || entry.at >= filter.from) &&
  (filter.to === undefined || entry.at <= filter.to)
