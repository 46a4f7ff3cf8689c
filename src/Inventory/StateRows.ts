/**
 * What the engine's statements answer, as schemas (the row boundary, Storage/Rows.ts): the
 * events it locks (`events` rows, their timestamps Dates already, and the transaction's `now`),
 * the state `inventory_state` reads for each (migration 0010: bookings, holds and waiting list as
 * JSON, their timestamps as text) and the ids of the rows a write creates. This runs for every
 * booking batch: the decoders are built once, here.
 */
import { Schema } from "effect"
import { EventId } from "../Domain/Ids.ts"
import { BookingStatus, EntryStatus, HoldStatus } from "../Domain/TicketRows.ts"
import { EventRow } from "../Storage/EventRow.ts"

/** A row's id, a user's, a count of tickets: int4 columns. */
const Int = Schema.Int
/** A timestamptz inside JSON: ISO 8601 text. */
const JsonTime = Schema.Date

const BookingState = Schema.Struct({
  id: Int,
  userId: Int,
  ticketsCount: Int,
  status: BookingStatus,
  cancelledAt: Schema.NullOr(JsonTime),
  holdId: Schema.NullOr(Int),
  createdAt: JsonTime,
  idempotencyId: Schema.NullOr(Schema.String),
  cancelIdempotencyId: Schema.NullOr(Schema.String)
})

const HoldState = Schema.Struct({
  id: Int,
  userId: Int,
  ticketsCount: Int,
  status: HoldStatus,
  expiresAt: JsonTime,
  entryId: Schema.NullOr(Int),
  createdAt: JsonTime,
  endedAt: Schema.NullOr(JsonTime),
  idempotencyId: Schema.NullOr(Schema.String)
})

const EntryState = Schema.Struct({
  id: Int,
  userId: Int,
  ticketsCount: Int,
  status: EntryStatus,
  reserved: Int,
  passedOver: Int,
  createdAt: JsonTime,
  endedAt: Schema.NullOr(JsonTime)
})

/** A locked event, with the transaction's time (one instant for the whole batch). */
export const LockedEvent = Schema.extend(EventRow, Schema.Struct({ now: Schema.DateFromSelf }))
export type LockedEvent = typeof LockedEvent.Type

/** What `inventory_state` reads for one event. */
export const InventoryState = Schema.Struct({
  eventId: EventId,
  knownUsers: Schema.Array(Int),
  bookings: Schema.Array(BookingState),
  holds: Schema.Array(HoldState),
  /** NULL unless the waiting list was needed. */
  line: Schema.NullOr(Schema.Array(EntryState)),
  /** Tickets by customer id (JSON keys are text). */
  customerTickets: Schema.Record({ key: Schema.String, value: Int }),
  /** Booking ids drawn for the batch's bookings (`mint` of them). */
  bookingIds: Schema.Array(Int)
})
export type InventoryState = typeof InventoryState.Type

/** The answers of the lock and the read, sent as one message: the locked events, then their states. */
export const decodeLockAndRead = Schema.decodeUnknown(Schema.Tuple(Schema.Array(LockedEvent), Schema.Array(InventoryState)))

/** The ids of the holds and waiting-list entries a write created, with their customers. */
export const decodeCreatedRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({
  kind: Schema.Literal("bookings", "holds", "entries"),
  id: Int,
  user_id: Int
})))
