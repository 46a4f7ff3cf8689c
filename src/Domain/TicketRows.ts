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

/** Tickets of one type in a booking, a hold or a waiting-list entry. */
export interface ItemRow {
  readonly ticketTypeId: number
  readonly count: number
}

/** A waiting-list entry's item, with the tickets of that type kept back for it (see Inventory/Offers.ts). */
export interface EntryItemRow extends ItemRow {
  readonly reserved: number
}

/** One ticket of a booking, as the engine needs it to cancel some (Reduce, Cancel). */
export interface TicketRow {
  readonly id: number
  readonly bookingId: number
  readonly code: string
  readonly ticketTypeId: number
  readonly status: TicketStatus
}

/** A ticket type as the engine decides on it (the `ticket_types` row). */
export interface TicketTypeRow {
  readonly id: number
  readonly name: string
  /** null: only the event's capacity limits it. */
  readonly quota: number | null
  /** Tickets of the type no longer on sale: sold, held, kept back for the waiting list. */
  readonly taken: number
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
  readonly maxPerBooking: number | null
  readonly isDefault: boolean
}

/**
 * Rows as the batch sees them. A row created by this batch has a provisional, negative id: the
 * n-th new row of its table is -n, until the repository knows its real id.
 */
export interface BookingRow {
  readonly id: number
  readonly userId: number
  readonly ticketsCount: number
  /**
   * Its tickets by type, in the order they were asked for (none: an event without ticket types).
   * A cancelled booking keeps those it had when cancelled.
   */
  readonly items: ReadonlyArray<ItemRow>
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
  readonly items: ReadonlyArray<ItemRow>
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
  readonly items: ReadonlyArray<EntryItemRow>
  readonly status: EntryStatus
  /** Tickets kept back for this entry while it blocks the line (always 0 unless WAITING): the sum of its items'. */
  readonly reserved: number
  /** How many offers went to entries behind it while it waited. */
  readonly passedOver: number
  readonly createdAt: Date
  readonly endedAt: Date | null
}

export const isOpenEntry = (entry: EntryRow) => entry.status === "WAITING" || entry.status === "OFFERED"
