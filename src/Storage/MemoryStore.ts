import { Context, Effect, Either, Layer, Ref } from "effect"
import type { BookingRow, EntryRow, HoldRow, TicketStatus } from "../Domain/TicketRows.ts"

/** In-memory tables behind the repositories' `layerMemory`, for tests that need no database. */
export interface Tables {
  readonly users: ReadonlyMap<number, StoredUser>
  readonly events: ReadonlyMap<number, StoredEvent>
  readonly bookings: ReadonlyMap<number, StoredBooking>
  readonly holds: ReadonlyMap<number, StoredHold>
  readonly waitlist: ReadonlyMap<number, StoredEntry>
  readonly ticketTypes: ReadonlyMap<number, StoredTicketType>
  readonly tickets: ReadonlyMap<number, StoredTicket>
  readonly lastId: number
}

export interface StoredUser {
  readonly id: number
  readonly email: string
  readonly passwordHash: string
  readonly role: "ORGANIZER" | "CUSTOMER"
}

export interface StoredEvent {
  readonly id: number
  readonly organizerId: number
  readonly title: string
  readonly description: string
  readonly location: string
  readonly date: Date
  readonly totalTickets: number
  readonly availableTickets: number
  readonly createdAt: Date
  readonly updatedAt: Date
  /** null: a draft. */
  readonly publishedAt: Date | null
  readonly deletedAt: Date | null
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
  /** ISO 4217, as `events.currency`. */
  readonly currency: string
}

export interface StoredBooking extends BookingRow {
  readonly eventId: number
}

export interface StoredHold extends HoldRow {
  readonly eventId: number
}

export interface StoredEntry extends EntryRow {
  readonly eventId: number
}

/** As the `ticket_types` table (migrations/0011_ticket_types_and_tickets.ts). */
export interface StoredTicketType {
  readonly id: number
  readonly eventId: number
  readonly name: string
  readonly priceCents: number
  /** null: only the event's capacity limits it. */
  readonly quota: number | null
  /** Tickets of the type no longer on sale: sold, held, kept back for the waiting list. */
  readonly taken: number
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
  readonly maxPerBooking: number | null
  readonly isDefault: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** As the `tickets` table: one ticket of a booking, with its code. */
export interface StoredTicket {
  readonly id: number
  readonly code: string
  readonly bookingId: number
  readonly eventId: number
  readonly ticketTypeId: number
  readonly status: TicketStatus
  readonly checkedInAt: Date | null
  readonly cancelledAt: Date | null
  readonly createdAt: Date
  /** The Idempotency-Key id of the check-in that checked it in (absent: none). */
  readonly checkInIdempotencyId?: string | null
}

export class MemoryStore extends Context.Tag("MemoryStore")<MemoryStore, Ref.Ref<Tables>>() {
  static readonly layer = Layer.effect(
    MemoryStore,
    Ref.make<Tables>({
      users: new Map(),
      events: new Map(),
      bookings: new Map(),
      holds: new Map(),
      waitlist: new Map(),
      ticketTypes: new Map(),
      tickets: new Map(),
      lastId: 0
    })
  )
}

/** Returns a copy of `map` with `key` set: the stored maps are never mutated in place. */
export const withEntry = <K, V>(map: ReadonlyMap<K, V>, key: K, value: V): ReadonlyMap<K, V> => new Map(map).set(key, value)

/**
 * Applies `change` to the tables atomically: it answers with a result and the new tables, or with
 * a failure and then nothing changes.
 */
export const transact = <A, E>(
  store: Ref.Ref<Tables>,
  change: (tables: Tables) => Either.Either<readonly [A, Tables], E>
): Effect.Effect<A, E> =>
  Ref.modify(store, (tables): readonly [Either.Either<A, E>, Tables] => {
    const outcome = change(tables)
    return Either.isRight(outcome) ? [Either.right(outcome.right[0]), outcome.right[1]] : [Either.left(outcome.left), tables]
  }).pipe(Effect.flatMap((outcome) => outcome))
