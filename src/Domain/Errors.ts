/**
 * The refusals of the ticket core, as typed values with their HTTP status: what the domain
 * services and the engine fail with (a missing event, too few tickets, a closed sale, a caller who
 * may not). Failures of the request itself (a malformed body, an unknown route, a timeout) are
 * Edge/HttpErrors.ts; the wire shape of both is Edge/ErrorResponse.ts.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { TicketTypeId } from "./Ids.ts"

const message = { message: Schema.String }

// 400
export class ValidationError extends Schema.TaggedError<ValidationError>()(
  "ValidationError",
  message,
  HttpApiSchema.annotations({ status: 400, description: "The request does not match the schema" })
) {}

// 401
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  message,
  HttpApiSchema.annotations({ status: 401, description: "Missing, malformed, expired or forged bearer token" })
) {
  /** A valid token whose account is gone (the database was reset or restored under the same JWT_SECRET). */
  static readonly accountGone = new Unauthorized({ message: "The account this token was issued for no longer exists; sign in again" })
}

export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()(
  "InvalidCredentials",
  message,
  HttpApiSchema.annotations({ status: 401, description: "Unknown email or wrong password" })
) {}

// 403
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  message,
  HttpApiSchema.annotations({ status: 403, description: "Signed in, but not allowed to do this" })
) {}

// 404
export class EventNotFound extends Schema.TaggedError<EventNotFound>()(
  "EventNotFound",
  message,
  HttpApiSchema.annotations({
    status: 404,
    description: "No such event (another organizer's draft counts as none), or, to change or book it, it was cancelled"
  })
) {
  static of(id: number) {
    return new EventNotFound({ message: `Event ${id} not found` })
  }
}

export class BookingNotFound extends Schema.TaggedError<BookingNotFound>()(
  "BookingNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such booking of yours" })
) {
  static of(id: number) {
    return new BookingNotFound({ message: `Booking ${id} not found` })
  }
}

export class HoldNotFound extends Schema.TaggedError<HoldNotFound>()(
  "HoldNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such hold of yours, or you released it" })
) {
  static of(id: number) {
    return new HoldNotFound({ message: `Hold ${id} not found` })
  }
}

export class NotOnWaitlist extends Schema.TaggedError<NotOnWaitlist>()(
  "NotOnWaitlist",
  message,
  HttpApiSchema.annotations({ status: 404, description: "You are not on this event's waiting list" })
) {
  static of(eventId: number) {
    return new NotOnWaitlist({ message: `You are not on the waiting list of event ${eventId}` })
  }
}

// 409
export class EmailTaken extends Schema.TaggedError<EmailTaken>()(
  "EmailTaken",
  message,
  HttpApiSchema.annotations({ status: 409, description: "An account with this email already exists" })
) {}

export class NotEnoughTickets extends Schema.TaggedError<NotEnoughTickets>()(
  "NotEnoughTickets",
  {
    ...message,
    available: Schema.Int.annotations({ description: "What is left of the ticket type named (or of the event, when none is)" }),
    ticketTypeId: Schema.optional(TicketTypeId.annotations({ description: "The ticket type that is short; absent: the event as a whole" }))
  },
  HttpApiSchema.annotations({ status: 409, description: "Fewer tickets are left than were asked for (of a ticket type, or of the event)" })
) {
  /** The event as a whole (or its default type, whose words are the event's) has fewer than `requested` left. */
  static of(requested: number, available: number, ticketTypeId?: number) {
    const left = available === 0 ? "The event is sold out" : `Only ${available} ticket${available === 1 ? "" : "s"} left`
    return new NotEnoughTickets({
      message: `${left}; ${requested} requested`,
      available,
      ...(ticketTypeId === undefined ? {} : { ticketTypeId: TicketTypeId.make(ticketTypeId) })
    })
  }
  /** A ticket type other than the default has fewer than `requested` left. */
  static ofType(requested: number, available: number, ticketTypeId: number, name: string) {
    const left = available === 0
      ? `Ticket type ${ticketTypeId} (${name}) is sold out`
      : `Only ${available} ticket${available === 1 ? "" : "s"} of type ${ticketTypeId} (${name}) left`
    return new NotEnoughTickets({ message: `${left}; ${requested} requested`, available, ticketTypeId: TicketTypeId.make(ticketTypeId) })
  }
}

export class EventAlreadyStarted extends Schema.TaggedError<EventAlreadyStarted>()(
  "EventAlreadyStarted",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The event's date has passed; it can no longer be booked" })
) {
  static of(id: number) {
    return new EventAlreadyStarted({ message: `Event ${id} has already started` })
  }
}

export class EventNotDraft extends Schema.TaggedError<EventNotDraft>()(
  "EventNotDraft",
  message,
  HttpApiSchema.annotations({ status: 409, description: "Only a draft can be published; this event is already published or cancelled" })
) {
  static of(id: number, status: "PUBLISHED" | "CANCELLED") {
    return new EventNotDraft({
      message: `Event ${id} is ${status === "PUBLISHED" ? "already published" : "cancelled"}; only a draft can be published`
    })
  }
}

export class TicketsAlreadySold extends Schema.TaggedError<TicketsAlreadySold>()(
  "TicketsAlreadySold",
  { ...message, sold: Schema.Int },
  HttpApiSchema.annotations({
    status: 409,
    description: "totalTickets (or a ticket type's quota) cannot go below the tickets already sold or held"
  })
) {
  static of(requested: number, sold: number) {
    return new TicketsAlreadySold({
      message: `totalTickets cannot be ${requested}: ${sold} tickets are already sold or held`,
      sold
    })
  }
  /** A ticket type's quota below what is taken of the type. */
  static ofQuota(typeId: number, requested: number, taken: number) {
    return new TicketsAlreadySold({
      message: `The quota of ticket type ${typeId} cannot be ${requested}: ${taken} of its tickets are already sold or held`,
      sold: taken
    })
  }
}

export class BookingAlreadyCancelled extends Schema.TaggedError<BookingAlreadyCancelled>()(
  "BookingAlreadyCancelled",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The booking was already cancelled" })
) {
  static of(id: number) {
    return new BookingAlreadyCancelled({ message: `Booking ${id} is already cancelled` })
  }
}

export class HoldExpired extends Schema.TaggedError<HoldExpired>()(
  "HoldExpired",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The hold ran out of time; its tickets went back on sale" })
) {
  static of(id: number) {
    return new HoldExpired({ message: `Hold ${id} has expired; its tickets went back on sale` })
  }
}

export class HoldAlreadyConfirmed extends Schema.TaggedError<HoldAlreadyConfirmed>()(
  "HoldAlreadyConfirmed",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The hold was already turned into a booking" })
) {
  static of(id: number) {
    return new HoldAlreadyConfirmed({ message: `Hold ${id} is already confirmed; see your bookings` })
  }
}

export class CustomerLimitReached extends Schema.TaggedError<CustomerLimitReached>()(
  "CustomerLimitReached",
  { ...message, limit: Schema.Int, remaining: Schema.Int },
  HttpApiSchema.annotations({
    status: 409,
    description: "One customer may hold at most MAX_TICKETS_PER_CUSTOMER_PER_EVENT tickets of an event (booked, held or waited for)"
  })
) {
  static of(limit: number, current: number, requested: number) {
    const remaining = Math.max(0, limit - current)
    return new CustomerLimitReached({
      message:
        `At most ${limit} tickets per customer for this event: you have ${current} (booked, held or waited for), ${requested} more requested`,
      limit,
      remaining
    })
  }
}

export class SalesClosed extends Schema.TaggedError<SalesClosed>()(
  "SalesClosed",
  {
    ...message,
    ticketTypeId: Schema.optional(TicketTypeId.annotations({ description: "The ticket type whose window is closed; absent: the event's" }))
  },
  HttpApiSchema.annotations({
    status: 409,
    description: "The sales window (salesStart, salesEnd) of the event, or of the ticket type named, is not open"
  })
) {
  static typeNotYet(ticketTypeId: number, name: string, opens: Date) {
    return new SalesClosed({
      message: `Sales of ticket type ${ticketTypeId} (${name}) open at ${opens.toISOString()}`,
      ticketTypeId: TicketTypeId.make(ticketTypeId)
    })
  }
  static typeEnded(ticketTypeId: number, name: string, closed: Date) {
    return new SalesClosed({
      message: `Sales of ticket type ${ticketTypeId} (${name}) closed at ${closed.toISOString()}`,
      ticketTypeId: TicketTypeId.make(ticketTypeId)
    })
  }
  static notYet(eventId: number, opens: Date) {
    return new SalesClosed({ message: `Sales for event ${eventId} open at ${opens.toISOString()}` })
  }
  static ended(eventId: number, closed: Date) {
    return new SalesClosed({ message: `Sales for event ${eventId} closed at ${closed.toISOString()}` })
  }
}

export class TicketsAvailable extends Schema.TaggedError<TicketsAvailable>()(
  "TicketsAvailable",
  { ...message, available: Schema.Int },
  HttpApiSchema.annotations({
    status: 409,
    description: "Enough tickets are left to book or hold them now; the waiting list is for sold-out demand"
  })
) {
  static of(requested: number, available: number) {
    return new TicketsAvailable({ message: `${available} tickets are left, enough for ${requested}: book or hold them instead`, available })
  }
}

export class AlreadyOnWaitlist extends Schema.TaggedError<AlreadyOnWaitlist>()(
  "AlreadyOnWaitlist",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "You are already on this event's waiting list (leave it first to change the count)"
  })
) {
  static of(eventId: number) {
    return new AlreadyOnWaitlist({ message: `You are already on the waiting list of event ${eventId}` })
  }
}

// 503
export class Overloaded extends Schema.TaggedError<Overloaded>()(
  "Overloaded",
  message,
  HttpApiSchema.annotations({
    status: 503,
    description: "Too many requests are waiting for this event; nothing was done. Retry after `Retry-After` seconds"
  })
) {
  static readonly instance = new Overloaded({ message: "Too many bookings are waiting for this event; try again in a moment" })
}

export class BookingFailed extends Schema.TaggedError<BookingFailed>()(
  "BookingFailed",
  message,
  HttpApiSchema.annotations({ status: 503, description: "The booking could not be recorded (details in the server log)" })
) {
  /** The transaction rolled back, twice: nothing was booked. */
  static readonly nothingBooked = new BookingFailed({ message: "The booking could not be recorded; nothing was booked. Try again" })
  /** The commit itself failed: PostgreSQL may or may not have applied it. */
  static readonly outcomeUnknown = new BookingFailed({
    message: "The booking could not be confirmed; check your bookings before trying again"
  })
  /** The same two for a change other than a booking (a cancellation, a hold, the waiting list). */
  static readonly nothingChanged = new BookingFailed({ message: "The change could not be recorded; nothing was changed. Try again" })
  static readonly changeUnknown = new BookingFailed({
    message: "The change could not be confirmed; check your bookings and holds before trying again"
  })
}

// ---- Ticket types and tickets (issue 19) ---------------------------------------------------

export class TicketTypeNotFound extends Schema.TaggedError<TicketTypeNotFound>()(
  "TicketTypeNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such ticket type for this event" })
) {
  static of(eventId: number, id: number) {
    return new TicketTypeNotFound({ message: `Event ${eventId} has no ticket type ${id}` })
  }
}

export class TicketTypeInUse extends Schema.TaggedError<TicketTypeInUse>()(
  "TicketTypeInUse",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "Tickets of this type were sold or held: it cannot be deleted (close its sales instead)"
  })
) {
  static of(id: number) {
    return new TicketTypeInUse({
      message: `Ticket type ${id} has tickets sold or held; it cannot be deleted (set its salesEnd to stop selling it)`
    })
  }
}

export class TicketTypeNameTaken extends Schema.TaggedError<TicketTypeNameTaken>()(
  "TicketTypeNameTaken",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The event already has a ticket type of this name (ignoring case)" })
) {
  static of(name: string) {
    return new TicketTypeNameTaken({ message: `This event already has a ticket type named "${name}" (names are compared ignoring case)` })
  }
}

export class TicketTypeIsDefault extends Schema.TaggedError<TicketTypeIsDefault>()(
  "TicketTypeIsDefault",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "The event's default ticket type (what a booking naming no type books) cannot be deleted"
  })
) {
  static of(id: number) {
    return new TicketTypeIsDefault({
      message: `Ticket type ${id} is the event's default (bookings naming no type book it); it cannot be deleted`
    })
  }
}

export class TicketNotFound extends Schema.TaggedError<TicketNotFound>()(
  "TicketNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No ticket with this code (for this event, or of this booking)" })
) {
  static of(code: string) {
    return new TicketNotFound({ message: `No ticket ${code} here` })
  }
}

export class TicketCheckedIn extends Schema.TaggedError<TicketCheckedIn>()(
  "TicketCheckedIn",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The ticket was already used at the door: it cannot be cancelled" })
) {
  static of(code: string) {
    return new TicketCheckedIn({ message: `Ticket ${code} is checked in; a checked-in ticket cannot be cancelled` })
  }
}

export class AlreadyCheckedIn extends Schema.TaggedError<AlreadyCheckedIn>()(
  "AlreadyCheckedIn",
  { ...message, checkedInAt: Schema.Date },
  HttpApiSchema.annotations({ status: 409, description: "This ticket was already checked in (at checkedInAt)" })
) {
  static of(code: string, checkedInAt: Date) {
    return new AlreadyCheckedIn({ message: `Ticket ${code} was already checked in at ${checkedInAt.toISOString()}`, checkedInAt })
  }
}

export class TicketCancelled extends Schema.TaggedError<TicketCancelled>()(
  "TicketCancelled",
  message,
  HttpApiSchema.annotations({
    status: 409,
    description: "The ticket was cancelled (its booking reduced or cancelled, or the event cancelled)"
  })
) {
  static of(code: string) {
    return new TicketCancelled({ message: `Ticket ${code} is cancelled` })
  }
}

export class TicketNotCheckedIn extends Schema.TaggedError<TicketNotCheckedIn>()(
  "TicketNotCheckedIn",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The ticket is not checked in: there is no check-in to undo" })
) {
  static of(code: string) {
    return new TicketNotCheckedIn({ message: `Ticket ${code} is not checked in` })
  }
}
