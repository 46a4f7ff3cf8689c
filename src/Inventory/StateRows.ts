/**
 * What the engine's statements answer, as schemas (the row boundary, Storage/Rows.ts): the
 * events it locks (`events` rows, their timestamps Dates already, and the transaction's `now`),
 * the state `inventory_state` reads for each (migration 0014: types, bookings, tickets, holds and waiting list as
 * JSON, their timestamps as text) and the ids of the rows a write creates. This runs for every
 * booking batch: the decoders are built once, here.
 */
import { Schema } from "effect"
import { EventId } from "../Domain/Ids.ts"
import { BookingStatus, EntryStatus, HoldStatus, TicketStatus } from "../Domain/TicketRows.ts"
import { EventRow } from "../Storage/EventRow.ts"

/** A row's id, a user's, a count of tickets: int4 columns. */
const Int = Schema.Int
/** A timestamptz inside JSON: ISO 8601 text. */
const JsonTime = Schema.Date

const Item = Schema.Struct({ ticketTypeId: Int, count: Int })
const EntryItem = Schema.Struct({ ticketTypeId: Int, count: Int, reserved: Int })

const TypeState = Schema.Struct({
  id: Int,
  name: Schema.String,
  quota: Schema.NullOr(Int),
  taken: Int,
  salesStart: Schema.NullOr(JsonTime),
  salesEnd: Schema.NullOr(JsonTime),
  maxPerBooking: Schema.NullOr(Int),
  isDefault: Schema.Boolean
})

const TicketState = Schema.Struct({
  id: Int,
  bookingId: Int,
  code: Schema.String,
  ticketTypeId: Int,
  status: TicketStatus
})

const BookingState = Schema.Struct({
  id: Int,
  userId: Int,
  ticketsCount: Int,
  items: Schema.Array(Item),
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
  items: Schema.Array(Item),
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
  items: Schema.Array(EntryItem),
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
  /** The event's ticket types, in id order. */
  types: Schema.Array(TypeState),
  bookings: Schema.Array(BookingState),
  /** The tickets of the bookings named by id, in issue order (locked). */
  tickets: Schema.Array(TicketState),
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

/** An event's version and its open holds' first expiry (`inventory_versions`, migration 0016). */
export const EventVersion = Schema.Struct({ id: EventId, version: Schema.String, nextExpiry: Schema.NullOr(Schema.DateFromSelf) })
export type EventVersion = typeof EventVersion.Type

/** The lock and the read, and the events' versions read with them (a batch that may be remembered: Remembered.ts). */
export const decodeLockReadAndVersions = Schema.decodeUnknown(
  Schema.Tuple(Schema.Array(LockedEvent), Schema.Array(InventoryState), Schema.Array(EventVersion))
)

/** The versions read with a COMMIT: rows the driver has parsed, decoded without failing after a commit. */
export const decodeVersions = Schema.decodeUnknownOption(Schema.Array(EventVersion))

/** The ids of the holds and waiting-list entries a write created, with their customers. */
export const decodeCreatedRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({
  kind: Schema.Literal("bookings", "holds", "entries"),
  id: Int,
  user_id: Int
})))
