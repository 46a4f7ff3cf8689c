import { Effect } from "effect"
import type { TicketRequest } from "../../src/Bookings/Allocation.ts"
import { BookingsRepo } from "../../src/Bookings/BookingsRepo.ts"
import type { EventId } from "../../src/Domain/Ids.ts"

/** One booking through the repository's batch call: its booking, or its typed failure. */
export const bookOne = (request: TicketRequest & { readonly eventId: EventId }) =>
  Effect.flatMap(BookingsRepo, (repo) => repo.bookAll(request.eventId, [request])).pipe(
    Effect.flatMap(([outcome]) => outcome!)
  )
