/**
 * What a batch of operations on one event is decided on (the event's rows as the batch found them,
 * under its row lock) and what it decides (a plan: each operation's outcome, the rows to write, the
 * jobs to announce). The repositories build the first and write the second; `decide`
 * (Operations.ts) turns one into the other. Kept apart from `decide` so that the ledger, the
 * operations and the repositories share these types without importing one another.
 */
import { Either } from "effect"
import type {
  AlreadyOnWaitlist,
  BookingAlreadyCancelled,
  BookingNotFound,
  CustomerLimitReached,
  EventAlreadyStarted,
  EventNotFound,
  HoldAlreadyConfirmed,
  HoldExpired,
  HoldNotFound,
  NotEnoughTickets,
  NotOnWaitlist,
  SalesClosed,
  TicketCheckedIn,
  TicketsAvailable,
  TicketTypeNotFound,
  Unauthorized,
  ValidationError
} from "../Domain/Errors.ts"
import type { BookingRow, EntryRow, HoldRow, TicketRow, TicketTypeRow } from "../Domain/TicketRows.ts"

// ---- What a batch is decided on ------------------------------------------------------------

export interface EventState {
  readonly availableTickets: number
  readonly date: Date
  readonly cancelled: boolean
  /** A draft is seen by its organizer only: for everyone else there is no such event. */
  readonly draft: boolean
  readonly salesStart: Date | null
  readonly salesEnd: Date | null
}

/** The event's state as the batch found it, under its row lock. */
export interface Snapshot {
  /** The transaction's time: one instant for the whole batch. */
  readonly now: Date
  /** `undefined`: no such event. */
  readonly event: EventState | undefined
  /**
   * The event's ticket types (none: an event made without any, which sells its capacity alone:
   * no per-type accounting, no ticket rows).
   */
  readonly types: ReadonlyArray<TicketTypeRow>
  /** At least the bookings of this event that the batch names, and those made under its operations' keys (`makingKey`). */
  readonly bookings: ReadonlyArray<BookingRow>
  /** The tickets of the bookings the batch names by id (Cancel, Reduce), in issue order. */
  readonly tickets: ReadonlyArray<TicketRow>
  /**
   * At least the holds the batch names, those placed under its operations' keys, every open one
   * that is due, and (with the line) every open offer.
   */
  readonly holds: ReadonlyArray<HoldRow>
  /** The open entries (WAITING, OFFERED) in line order; loaded unless every operation only takes tickets and no hold is due. */
  readonly line: ReadonlyArray<EntryRow> | undefined
  /**
   * For every customer named by a Book, Hold or Join: their tickets for this event, counting
   * confirmed bookings, open holds and waiting entries.
   */
  readonly customerTickets: ReadonlyMap<number, number>
  /** Which of those customers' accounts still exist (a token can outlive a database reset). */
  readonly accounts: ReadonlySet<number>
}

export interface Rules {
  readonly holdTtlMs: number
  readonly maxTicketsPerCustomer: number
}

// ---- What a batch decides ------------------------------------------------------------------

/** One operation's result, with the rows as they stood right after it. */
export type Decision =
  | { readonly _tag: "Booking"; readonly booking: BookingRow; readonly availableAfter: number }
  | { readonly _tag: "Hold"; readonly hold: HoldRow }
  | { readonly _tag: "Entry"; readonly entry: EntryRow; readonly position: number }
  | { readonly _tag: "Expiry"; readonly result: "expired" | "ended" | "not-due" }
  | { readonly _tag: "Done" }

export type Refusal =
  | EventNotFound
  | EventAlreadyStarted
  | SalesClosed
  | NotEnoughTickets
  | CustomerLimitReached
  | Unauthorized
  | BookingNotFound
  | BookingAlreadyCancelled
  | ValidationError
  | HoldNotFound
  | HoldExpired
  | HoldAlreadyConfirmed
  | TicketsAvailable
  | AlreadyOnWaitlist
  | NotOnWaitlist
  | TicketTypeNotFound
  | TicketCheckedIn

/**
 * What the outside world must hear of, as outbox jobs (ids may be provisional). `cause`: the index
 * of the operation that led to it; none for what the batch did before its first operation (expiring
 * due holds and offering their tickets).
 */
export type Notice = NoticeOf & { readonly cause: number | undefined }
export type NoticeOf =
  | { readonly _tag: "BookingConfirmed"; readonly booking: BookingRow }
  | { readonly _tag: "BookingCancelled"; readonly booking: BookingRow; readonly ticketsCancelled: number }
  | { readonly _tag: "HoldPlaced"; readonly hold: HoldRow }

/**
 * One write of a row by the batch: the row before it (none: a new row) and after, and the index
 * of the operation that made it (none: the batch on its own, before its first operation). The
 * audit trail is made of these (AuditTrail.ts); a row written twice is two writes.
 */
export type RowWrite =
  & { readonly cause: number | undefined }
  & (
    | { readonly table: "bookings"; readonly before: BookingRow | undefined; readonly after: BookingRow }
    | { readonly table: "holds"; readonly before: HoldRow | undefined; readonly after: HoldRow }
    | { readonly table: "entries"; readonly before: EntryRow | undefined; readonly after: EntryRow }
  )

/** New rows in creation order (ids -1, -2, ...) and the final state of changed existing rows. */
export interface TableChanges<Row> {
  readonly inserts: ReadonlyArray<Row>
  readonly updates: ReadonlyArray<Row>
}

/** Tickets to issue: `count` of type `ticketTypeId` for booking `bookingId` (its codes are drawn by the writer). */
export interface Issue {
  readonly bookingId: number
  readonly ticketTypeId: number
  readonly count: number
}

export interface Plan {
  readonly outcomes: ReadonlyArray<Either.Either<Decision, Refusal>>
  readonly availableTickets: number
  /** The `taken` of each ticket type the batch changed. */
  readonly types: ReadonlyArray<{ readonly id: number; readonly taken: number }>
  /** New tickets, in issue order (booking by booking, in its items' order), and the ids of tickets cancelled. */
  readonly tickets: { readonly issued: ReadonlyArray<Issue>; readonly cancelled: ReadonlyArray<number> }
  readonly bookings: TableChanges<BookingRow>
  readonly holds: TableChanges<HoldRow>
  readonly entries: TableChanges<EntryRow>
  readonly notices: ReadonlyArray<Notice>
  readonly writes: ReadonlyArray<RowWrite>
  /** Whether anything is to be written. */
  readonly changed: boolean
  /** Whether the event's tickets left differ from before the batch (what the public listing shows). */
  readonly availabilityChanged: boolean
}

// ---- Real ids ------------------------------------------------------------------------------

/** The real ids of a plan's new rows, per table, in creation order. */
export interface NewIds {
  readonly bookings: ReadonlyArray<number>
  readonly holds: ReadonlyArray<number>
  readonly entries: ReadonlyArray<number>
}

/**
 * Rows, decisions and notices of `plan` with the provisional ids replaced by `ids`; a provisional
 * id beyond its table stays provisional (booking ids are drawn before the write, the others by it).
 */
export const withRealIds = (plan: Plan, ids: NewIds): Plan => {
  const real = (table: ReadonlyArray<number>, id: number) => id > 0 ? id : table[-id - 1] ?? id
  const booking = (row: BookingRow): BookingRow => ({
    ...row,
    id: real(ids.bookings, row.id),
    holdId: row.holdId === null ? null : real(ids.holds, row.holdId)
  })
  const hold = (row: HoldRow): HoldRow => ({
    ...row,
    id: real(ids.holds, row.id),
    entryId: row.entryId === null ? null : real(ids.entries, row.entryId)
  })
  const entry = (row: EntryRow): EntryRow => ({ ...row, id: real(ids.entries, row.id) })
  const tableOf = <Row>(changes: TableChanges<Row>, f: (row: Row) => Row): TableChanges<Row> => ({
    inserts: changes.inserts.map(f),
    updates: changes.updates.map(f)
  })
  return {
    availableTickets: plan.availableTickets,
    types: plan.types,
    tickets: {
      issued: plan.tickets.issued.map((issue) => ({ ...issue, bookingId: real(ids.bookings, issue.bookingId) })),
      cancelled: plan.tickets.cancelled
    },
    availabilityChanged: plan.availabilityChanged,
    changed: plan.changed,
    bookings: tableOf(plan.bookings, booking),
    holds: tableOf(plan.holds, hold),
    entries: tableOf(plan.entries, entry),
    outcomes: plan.outcomes.map(Either.map((decision): Decision => {
      switch (decision._tag) {
        case "Booking":
          return { ...decision, booking: booking(decision.booking) }
        case "Hold":
          return { ...decision, hold: hold(decision.hold) }
        case "Entry":
          return { ...decision, entry: entry(decision.entry) }
        default:
          return decision
      }
    })),
    writes: plan.writes.map((write): RowWrite => {
      switch (write.table) {
        case "bookings":
          return { ...write, before: write.before && booking(write.before), after: booking(write.after) }
        case "holds":
          return { ...write, before: write.before && hold(write.before), after: hold(write.after) }
        case "entries":
          return { ...write, before: write.before && entry(write.before), after: entry(write.after) }
      }
    }),
    notices: plan.notices.map((notice): Notice => {
      switch (notice._tag) {
        case "HoldPlaced":
          return { ...notice, hold: hold(notice.hold) }
        default:
          return { ...notice, booking: booking(notice.booking) }
      }
    })
  }
}
/** A plan whose rows all have their real ids. */
export type SettledPlan = Plan
