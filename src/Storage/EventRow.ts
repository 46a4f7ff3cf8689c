/**
 * The event's row boundary, written once: the SQL projection of `events` as an Event (flat, or as
 * one JSON object beside another entity's columns), the schemas such rows decode with, and the
 * in-memory store's row as an Event. Every repository that reads events goes through here.
 */
import type { SqlClient } from "@effect/sql"
import { Schema } from "effect"
import { Event, type EventStatus } from "../Domain/Event.ts"
import type { EventId, UserId } from "../Domain/Ids.ts"
import type { StoredEvent } from "./MemoryStore.ts"
import { driverRow } from "./Rows.ts"

/** An event's status from its row; `alias` names the table in the query. */
export const eventStatus = (alias: string) =>
  `CASE WHEN ${alias}.deleted_at IS NOT NULL THEN 'CANCELLED' WHEN ${alias}.published_at IS NULL THEN 'DRAFT' ELSE 'PUBLISHED' END`

/** Each field of an Event and the SQL that reads it from `events` named `alias`. */
const projection = (alias: string): ReadonlyArray<readonly [keyof Event, string]> => [
  ["id", `${alias}.id`],
  ["title", `${alias}.title`],
  ["description", `${alias}.description`],
  ["date", `${alias}.date`],
  ["location", `${alias}.location`],
  ["totalTickets", `${alias}.total_tickets`],
  ["availableTickets", `${alias}.available_tickets`],
  ["organizerId", `${alias}.organizer_id`],
  ["status", eventStatus(alias)],
  ["salesStart", `${alias}.sales_start`],
  ["salesEnd", `${alias}.sales_end`],
  ["currency", `${alias}.currency`],
  ["createdAt", `${alias}.created_at`],
  ["updatedAt", `${alias}.updated_at`]
]

/** The columns of `events` as an Event's fields (decode the rows with `EventRow`). */
export const eventColumns = (sql: SqlClient.SqlClient, alias: string) =>
  sql.literal(projection(alias).map(([field, column]) => `${column} AS "${field}"`).join(", "))

/** The same as one JSON object, for a row that carries its event beside its own columns (decode it with `Event`). */
export const eventObject = (sql: SqlClient.SqlClient, alias: string) =>
  sql.literal(`json_build_object(${projection(alias).map(([field, column]) => `'${field}', ${column}`).join(", ")})`)

/** A row of `eventColumns`: the driver has made its timestamps Dates already. */
export const EventRow = driverRow(Event)

/** Built once; a row that is not an Event is a defect (the query and the schema disagree). Other columns are dropped. */
export const decodeEventRow = Schema.decodeUnknown(EventRow)

/** What `eventStatus` answers for a row of the in-memory store. */
export const storedStatus = (stored: StoredEvent): EventStatus =>
  stored.deletedAt !== null ? "CANCELLED" : stored.publishedAt === null ? "DRAFT" : "PUBLISHED"

/** The public view of a stored event. */
export const toEvent = (stored: StoredEvent): Event => ({
  id: stored.id as EventId,
  title: stored.title,
  description: stored.description,
  date: stored.date,
  location: stored.location,
  totalTickets: stored.totalTickets,
  availableTickets: stored.availableTickets,
  organizerId: stored.organizerId as UserId,
  status: storedStatus(stored),
  salesStart: stored.salesStart,
  salesEnd: stored.salesEnd,
  currency: stored.currency,
  createdAt: stored.createdAt,
  updatedAt: stored.updatedAt
})
