import { Effect, Either } from "effect"
import type { EventId, UserId } from "../../src/Domain/Ids.ts"
import { toBooking } from "../../src/Inventory/Inventory.ts"
import { applyAll } from "../../src/Inventory/InventoryRepo.ts"
import { defaultItems, type Operation } from "../../src/Inventory/Operation.ts"
import type { Rules } from "../../src/Inventory/Plan.ts"

/** The engine's rules for repository-level tests: a long hold, no per-customer limit to speak of. */
export const looseRules: Rules = { holdTtlMs: 600_000, maxTicketsPerCustomer: 1_000_000 }

/** One booking through the repository's batch call: its booking, or its typed failure. */
export const bookOne = (request: { readonly userId: UserId; readonly eventId: EventId; readonly ticketsCount: number }) =>
  applyAll(request.eventId, [{ _tag: "Book", userId: request.userId, items: defaultItems(request.ticketsCount) }], looseRules).pipe(
    Effect.flatMap(({ event, plan, typeNames }) =>
      Either.match(plan.outcomes[0]!, {
        onLeft: Effect.fail,
        onRight: (decision) =>
          decision._tag === "Booking"
            ? Effect.succeed(toBooking(request.eventId, event!, decision.booking, decision.availableAfter, typeNames))
            : Effect.dieMessage(`a booking was answered with ${decision._tag}`)
      })
    )
  )

/**
 * Bookings decided as one batch by the repository's call (a transaction of their own in the SQL
 * tier only if the caller runs one): each one's booking id, or its failure.
 */
export const bookBatch = (
  eventId: EventId,
  requests: ReadonlyArray<{ readonly userId: UserId; readonly ticketsCount: number; readonly idempotencyId?: string }>
) =>
  applyAll(
    eventId,
    requests.map(({ ticketsCount, ...request }): Operation => ({ _tag: "Book", ...request, items: defaultItems(ticketsCount) })),
    looseRules
  )
    .pipe(
      Effect.map(({ plan }) => plan.outcomes.map(Either.map((decision) => decision._tag === "Booking" ? decision.booking.id : Number.NaN)))
    )

/** One operation of any kind through the repository's batch call: its decision, or its typed refusal. */
export const applyOne = (eventId: EventId, operation: Operation, rules: Rules = looseRules) =>
  applyAll(eventId, [operation], rules).pipe(
    Effect.flatMap(({ plan }) => Either.match(plan.outcomes[0]!, { onLeft: Effect.fail, onRight: Effect.succeed }))
  )

/** A hold of `ticketsCount` that lasts `ttlMs` (0: its time is up already): the hold as placed. */
export const holdOne = (request: { readonly userId: UserId; readonly eventId: EventId; readonly ticketsCount: number }, ttlMs: number) =>
  applyOne(request.eventId, { _tag: "Hold", userId: request.userId, items: defaultItems(request.ticketsCount) }, {
    ...looseRules,
    holdTtlMs: ttlMs
  })
    .pipe(
      Effect.flatMap((decision) =>
        decision._tag === "Hold" ? Effect.succeed(decision.hold) : Effect.dieMessage(`a hold was answered with ${decision._tag}`)
      )
    )
