/**
 * Who gets tickets when several bookings of one event are decided together: exactly what booking
 * them one after the other, in arrival order, would give. Pure, so the PostgreSQL and in-memory
 * repositories decide alike and it can be tested on its own.
 */
import type { IdempotencyId, UserId } from "../Domain/Ids.ts"

export interface TicketRequest {
  readonly userId: UserId
  readonly ticketsCount: number
  /** The request's Idempotency-Key (Platform/Idempotency.ts): recorded on its booking, which it never makes twice. */
  readonly idempotencyId?: IdempotencyId | undefined
}

/** Why one request of a batch got nothing, with what was left when its turn came. */
export type Refusal =
  | { readonly _tag: "EventNotFound" }
  | { readonly _tag: "EventAlreadyStarted" }
  | { readonly _tag: "AccountGone" }
  | { readonly _tag: "NotEnoughTickets"; readonly available: number }

/** A request's share: its tickets and what the event has left right after it, or a refusal. */
export type Allocation =
  | { readonly _tag: "Granted"; readonly availableAfter: number }
  | Refusal

/** The event as the batch found it, under its row lock. `undefined`: no such (scheduled) event. */
export interface EventState {
  readonly availableTickets: number
  readonly started: boolean
}

/**
 * In arrival order, each request takes its tickets if enough remain; otherwise it is refused with
 * what is left, and a later, smaller request may still fit. `accountExists` tells whether the
 * booking's user still exists (a token can outlive a database reset).
 */
export const allocate = (
  event: EventState | undefined,
  requests: ReadonlyArray<TicketRequest>,
  accountExists: (userId: UserId) => boolean
): ReadonlyArray<Allocation> => {
  let available = event?.availableTickets ?? 0
  return requests.map((request): Allocation => {
    if (event === undefined) return { _tag: "EventNotFound" }
    if (event.started) return { _tag: "EventAlreadyStarted" }
    if (!accountExists(request.userId)) return { _tag: "AccountGone" }
    if (request.ticketsCount > available) return { _tag: "NotEnoughTickets", available }
    available -= request.ticketsCount
    return { _tag: "Granted", availableAfter: available }
  })
}

/** Tickets taken by the granted requests of an allocation. */
export const ticketsTaken = (requests: ReadonlyArray<TicketRequest>, allocations: ReadonlyArray<Allocation>): number =>
  requests.reduce((sum, request, i) => allocations[i]!._tag === "Granted" ? sum + request.ticketsCount : sum, 0)
