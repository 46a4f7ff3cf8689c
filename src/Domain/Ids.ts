import { Schema } from "effect"
import { DecimalInt } from "./Payload.ts"

// Ids are PostgreSQL `integer` identities: capping them at int4 keeps an absurd id a 400/404
// instead of a database range error.
const Int4Id = Schema.Int.pipe(Schema.between(1, 2_147_483_647))

export const UserId = Int4Id.pipe(Schema.brand("UserId")).annotations({ identifier: "UserId" })
export type UserId = typeof UserId.Type

export const EventId = Int4Id.pipe(Schema.brand("EventId")).annotations({ identifier: "EventId" })
export type EventId = typeof EventId.Type

export const BookingId = Int4Id.pipe(Schema.brand("BookingId")).annotations({ identifier: "BookingId" })
export type BookingId = typeof BookingId.Type

/**
 * What an Idempotency-Key stands for while it is kept (a random UUID, see Platform/IdempotencyStore.ts):
 * recorded on what the keyed request created, so a retry finds it. Never chosen by a client.
 */
export const IdempotencyId = Schema.UUID.pipe(Schema.brand("IdempotencyId")).annotations({ identifier: "IdempotencyId" })
export type IdempotencyId = typeof IdempotencyId.Type

/** An id taken from a URL path segment (`/events/:id`): canonical decimal only, so one event has one URL. */
export const EventIdFromPath = DecimalInt.pipe(Schema.compose(EventId)).annotations({
  description: "A positive integer event id",
  jsonSchema: { type: "integer", minimum: 1, maximum: 2_147_483_647, description: "A positive integer event id" }
})
