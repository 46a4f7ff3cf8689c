import { Schema } from "effect"
import { DecimalInt } from "./Payload.ts"

// Ids are PostgreSQL `integer` identities: capping them at int4 keeps an absurd id a 400/404
// instead of a database range error.
export const Int4Id = Schema.Int.pipe(Schema.between(1, 2_147_483_647))

export const UserId = Int4Id.pipe(Schema.brand("UserId")).annotations({ identifier: "UserId" })
export type UserId = typeof UserId.Type

export const EventId = Int4Id.pipe(Schema.brand("EventId")).annotations({ identifier: "EventId" })
export type EventId = typeof EventId.Type

export const BookingId = Int4Id.pipe(Schema.brand("BookingId")).annotations({ identifier: "BookingId" })
export type BookingId = typeof BookingId.Type

export const HoldId = Int4Id.pipe(Schema.brand("HoldId")).annotations({ identifier: "HoldId" })
export type HoldId = typeof HoldId.Type

export const WaitlistEntryId = Int4Id.pipe(Schema.brand("WaitlistEntryId")).annotations({ identifier: "WaitlistEntryId" })
export type WaitlistEntryId = typeof WaitlistEntryId.Type

export const TicketTypeId = Int4Id.pipe(Schema.brand("TicketTypeId")).annotations({ identifier: "TicketTypeId" })
export type TicketTypeId = typeof TicketTypeId.Type

/**
 * What an Idempotency-Key stands for while it is kept (a random UUID, see Idempotency/IdempotencyStore.ts):
 * recorded on what the keyed request created, so a retry finds it. Never chosen by a client.
 */
export const IdempotencyId = Schema.UUID.pipe(Schema.brand("IdempotencyId")).annotations({ identifier: "IdempotencyId" })
export type IdempotencyId = typeof IdempotencyId.Type

/** An id taken from a URL path segment (`/events/:id`): canonical decimal only, so one resource has one URL. */
export const fromPath = <A>(id: Schema.Schema<A, number>, what: string) => {
  const description = `A positive integer ${what} id`
  return DecimalInt.pipe(Schema.compose(id)).annotations({
    description,
    jsonSchema: { type: "integer", minimum: 1, maximum: 2_147_483_647, description }
  })
}

export const EventIdFromPath = fromPath(EventId, "event")
export const BookingIdFromPath = fromPath(BookingId, "booking")
export const HoldIdFromPath = fromPath(HoldId, "hold")
export const TicketTypeIdFromPath = fromPath(TicketTypeId, "ticket type")
