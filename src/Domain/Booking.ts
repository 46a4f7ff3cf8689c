import { Schema } from "effect"
import { Event } from "./Event.ts"
import { BookingId, EventId, TicketTypeId, UserId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"

export const BookingStatus = Schema.Literal("CONFIRMED", "CANCELLED").annotations({
  identifier: "BookingStatus",
  description: "CANCELLED once its customer cancelled it (its tickets went back on sale)"
})

/** Tickets of one type in a booking, a hold or a waiting-list entry. */
export const TicketsOfType = Schema.Struct({
  ticketTypeId: TicketTypeId,
  name: Schema.String.annotations({ description: "The ticket type's name" }),
  count: Schema.Int
}).annotations({ identifier: "TicketsOfType" })
export type TicketsOfType = typeof TicketsOfType.Type

const ItemsOut = Schema.Array(TicketsOfType).annotations({
  description: "Its tickets by type, in the order asked for (ticketsCount is their sum)"
})

export const Booking = Schema.Struct({
  id: BookingId,
  userId: UserId,
  eventId: EventId,
  ticketsCount: Schema.Int.annotations({ description: "Tickets it holds now (a cancelled booking: those it held when cancelled)" }),
  items: ItemsOut,
  status: BookingStatus,
  cancelledAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  event: Event
}).annotations({ identifier: "Booking" })
export type Booking = typeof Booking.Type

const TicketsCount = Schema.Int.pipe(Schema.positive()).annotations({
  message: () => "must be a positive integer",
  description: "1 to MAX_TICKETS_PER_BOOKING (default 10)"
})

/** Tickets of one type asked for. */
export const ItemRequest = Schema.Struct({
  ticketTypeId: TicketTypeId.annotations({ message: () => "must be a positive integer" }),
  count: Schema.Int.pipe(Schema.positive()).annotations({ message: () => "must be a positive integer" })
}).annotations({ identifier: "TicketItem", ...strictPayload })
export type ItemRequest = typeof ItemRequest.Type

/**
 * What a booking, a hold or a waiting-list entry asks for: `ticketsCount` of the event's default
 * type (the seed's contract), or of `ticketTypeId`; or `items`, several types at once (all or
 * nothing), each type once. A filter, so that a wrong combination is a 400 naming the field.
 */
export const TicketsAsked = {
  ticketsCount: Schema.optional(TicketsCount),
  ticketTypeId: Schema.optional(
    TicketTypeId.annotations({
      message: () => "must be a positive integer",
      description: "The ticket type (default: the event's default type)"
    })
  ),
  items: Schema.optional(
    Schema.Array(ItemRequest).pipe(Schema.minItems(1, { message: () => "must list at least one ticket type" })).annotations({
      description: "Several ticket types at once, each once (instead of ticketsCount and ticketTypeId): all of them or nothing"
    })
  )
}

interface Asked {
  readonly ticketsCount?: number | undefined
  readonly ticketTypeId?: number | undefined
  readonly items?: ReadonlyArray<ItemRequest> | undefined
}

/** Why this combination of ticketsCount, ticketTypeId and items is refused, naming the field; nothing if it is fine. */
export const askedProblem = (asked: Asked): { readonly path: ReadonlyArray<string | number>; readonly message: string } | undefined => {
  if (asked.items !== undefined) {
    if (asked.ticketsCount !== undefined) {
      return { path: ["ticketsCount"], message: "must not be given with items (items carry their counts)" }
    }
    if (asked.ticketTypeId !== undefined) {
      return { path: ["ticketTypeId"], message: "must not be given with items (items name their types)" }
    }
    const seen = new Set<number>()
    for (const [i, item] of asked.items.entries()) {
      if (seen.has(item.ticketTypeId)) {
        return { path: ["items", i, "ticketTypeId"], message: `ticket type ${item.ticketTypeId} is listed twice: list each type once` }
      }
      seen.add(item.ticketTypeId)
    }
    return undefined
  }
  return asked.ticketsCount === undefined
    ? { path: ["ticketsCount"], message: "is missing (or give items)" }
    : undefined
}

/** A filter over a payload with the fields of `TicketsAsked`. */
export const checkAsked = (asked: Asked) => {
  const problem = askedProblem(asked)
  return problem === undefined ? true : { path: problem.path, message: problem.message }
}

/** The items a valid request asks for (`ticketTypeId` absent: the default type). */
export const itemsAsked = (asked: Asked): ReadonlyArray<{ readonly ticketTypeId: number | "default"; readonly count: number }> =>
  asked.items ?? [{ ticketTypeId: asked.ticketTypeId ?? "default", count: asked.ticketsCount! }]

export const BookTickets = Schema.Struct({
  eventId: EventId.annotations({ message: () => "must be a positive integer" }),
  ...TicketsAsked
}).pipe(Schema.filter(checkAsked)).annotations({ identifier: "BookTickets", ...strictPayload })
export type BookTickets = typeof BookTickets.Type

/** PATCH /bookings/:id: keep this many of the booking's tickets, give the rest back. */
export const ChangeTickets = Schema.Struct({
  ticketsCount: Schema.Int.pipe(Schema.positive()).annotations({
    message: () => "must be a positive integer",
    description: "1 to one less than the booking's current ticketsCount"
  })
}).annotations({ identifier: "ChangeTickets", ...strictPayload })
export type ChangeTickets = typeof ChangeTickets.Type
