/**
 * The rows of an event's tickets as the engine sees them: bookings, holds and waiting-list entries
 * with their statuses. The engine decides over them (Inventory/Operations.ts), the repositories
 * load and write them, the in-memory store keeps them (Storage/MemoryStore.ts).
 */
import { Schema } from "effect"
import { BookingStatus } from "./Booking.ts"

// The statuses as schemas, so that every row read from the database is decoded against these same
// lists (a booking's is the API's own).
export { BookingStatus }
export type BookingStatus = typeof BookingStatus.Type
export const HoldStatus = Schema.Literal("HELD", "CONFIRMED", "RELEASED", "EXPIRED")
export type HoldStatus = typeof HoldStatus.Type
export const EntryStatus = Schema.Literal("WAITING", "OFFERED", "ACCEPTED", "EXPIRED", "LEFT")
export type EntryStatus = typeof EntryStatus.Type
/** A ticket at the door: VALID until checked in (undone: VALID again) or cancelled. */
export const TicketStatus = Schema.Literal("VALID", "CANCELLED", "CHECKED_IN").annotations({ identifier: "TicketStatus" })
export type TicketStatus = typeof TicketStatus.Type

/**
 * Rows as the batch sees them. A row created by this batch has a provisional, negative id: the
 * n-th new row of its table is -n, until the repository knows its real id.
 */
export interface BookingRow {
  readonly id: number
  readonly userId: number
  readonly ticketsCount: number
  readonly status: BookingStatus
  readonly cancelledAt: Date | null
  readonly holdId: number | null
  readonly createdAt: Date
  /** The Idempotency-Key id of the request that made it (a booking or a hold's confirmation). */
  readonly idempotencyId: string | null
  /** The Idempotency-Key id of the request that cancelled it. */
  readonly cancelIdempotencyId: string | null
}

export interface HoldRow {
  readonly id: number
  readonly userId: number
  readonly ticketsCount: number
  readonly status: HoldStatus
  readonly expiresAt: Date
  /** The waiting-list entry this hold was offered to, if it is an offer. */
  readonly entryId: number | null
  readonly createdAt: Date
  readonly endedAt: Date | null
  /** The Idempotency-Key id of the request that placed it (an offer has none). */
  readonly idempotencyId: string | null
}

export interface EntryRow {
  readonly id: number
  readonly userId: number
  readonly ticketsCount: number
  readonly status: EntryStatus
  /** Tickets kept back for this entry while it blocks the line (always 0 unless WAITING). */
  readonly reserved: number
  /** How many offers went to entries behind it while it waited. */
  readonly passedOver: number
  readonly createdAt: Date
  readonly endedAt: Date | null
}

export const isOpenEntry = (entry: EntryRow) => entry.status === "WAITING" || entry.status === "OFFERED"
