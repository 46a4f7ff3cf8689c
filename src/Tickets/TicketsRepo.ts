import { SqlClient, SqlSchema } from "@effect/sql"
import { Clock, Context, Effect, Either, Layer, Option, Ref, Schema } from "effect"
import { AlreadyCheckedIn, TicketCancelled, TicketNotCheckedIn, TicketNotFound } from "../Domain/Errors.ts"
import { BookingId, EventId, type IdempotencyId, TicketTypeId } from "../Domain/Ids.ts"
import type { CheckIn, Ticket } from "../Domain/Ticket.ts"
import { TicketStatus } from "../Domain/TicketRows.ts"
import { MemoryStore, type StoredTicket, type Tables, transact, withEntry } from "../Storage/MemoryStore.ts"
import { traced } from "../Telemetry/Tracing.ts"

export type CheckInFailure = TicketNotFound | AlreadyCheckedIn | TicketCancelled
export type UndoFailure = TicketNotFound | TicketNotCheckedIn | TicketCancelled

/**
 * Reading tickets, and their state at the door. Tickets are made and cancelled with their bookings
 * by the event's engine (Inventory/), and voided with their event (Events/EventsRepo.ts).
 *
 * Codes given here are normalized (Domain/TicketCode.ts). A check-in is one conditional UPDATE
 * (`WHERE status = 'VALID'`): of two scanners sending one code at once, exactly one changes the
 * row; the other waits for its lock, finds no VALID ticket, and reads why.
 */
export class TicketsRepo extends Context.Tag("TicketsRepo")<TicketsRepo, {
  /** The booking's tickets in the order they were issued, cancelled ones too. */
  readonly listByBooking: (bookingId: BookingId) => Effect.Effect<ReadonlyArray<Ticket>>
  /** The booking's ticket with this code. */
  readonly findInBooking: (bookingId: BookingId, code: string) => Effect.Effect<Option.Option<Ticket>>
  /**
   * Checks in the event's VALID ticket with this code, at the database's clock. `idempotencyId`
   * (an Idempotency-Key's) is recorded on it: the same id again answers this check-in again.
   */
  readonly checkIn: (eventId: EventId, code: string, idempotencyId?: IdempotencyId) => Effect.Effect<CheckedIn, CheckInFailure>
  /** The event's checked-in ticket with this code is VALID again. */
  readonly undoCheckIn: (eventId: EventId, code: string) => Effect.Effect<void, UndoFailure>
}>() {
  static readonly layer = Layer.effect(TicketsRepo, Effect.map(SqlClient.SqlClient, makeSql)).pipe(traced(TicketsRepo, {
    listByBooking: (bookingId) => ({ "booking.id": bookingId }),
    findInBooking: (bookingId) => ({ "booking.id": bookingId }),
    checkIn: (eventId) => ({ "event.id": eventId }),
    undoCheckIn: (eventId) => ({ "event.id": eventId })
  }))
  static readonly layerMemory = Layer.effect(TicketsRepo, Effect.map(MemoryStore, makeMemory))
}

/** A check-in's answer; `repeat`: the check-in made earlier under the same key, answered again (nothing changed now). */
export interface CheckedIn {
  readonly checkIn: CheckIn
  readonly repeat: boolean
}

/** A ticket at the door with whose it is, and the key of the check-in that checked it in. */
interface DoorTicket {
  readonly ticket: Ticket
  readonly email: string
  readonly checkInIdempotencyId: string | null
}

/**
 * What a check-in of `door` (a ticket found but not VALID, or none) answers: the check-in made
 * under the same key again, or why not. `None`: the ticket is VALID again (a check-in was undone
 * in between): try again.
 */
const checkInRefusal = (
  code: string,
  door: Option.Option<DoorTicket>,
  idempotencyId: IdempotencyId | undefined
): Option.Option<Either.Either<CheckIn, CheckInFailure>> => {
  if (Option.isNone(door)) return Option.some(Either.left(TicketNotFound.of(code)))
  const { checkInIdempotencyId, email, ticket } = door.value
  switch (ticket.status) {
    case "CANCELLED":
      return Option.some(Either.left(TicketCancelled.of(code)))
    case "CHECKED_IN":
      return Option.some(
        idempotencyId !== undefined && checkInIdempotencyId === idempotencyId
          ? Either.right(checkedIn(ticket, email))
          : Either.left(AlreadyCheckedIn.of(code, ticket.checkedInAt!))
      )
    case "VALID":
      return Option.none()
  }
}

/** What undoing the check-in of `door` (a ticket found but not CHECKED_IN, or none) answers; `None`: checked in again meanwhile. */
const undoRefusal = (code: string, door: Option.Option<{ readonly status: TicketStatus }>): Option.Option<UndoFailure> =>
  Option.isNone(door)
    ? Option.some(TicketNotFound.of(code))
    : door.value.status === "CANCELLED"
    ? Option.some(TicketCancelled.of(code))
    : door.value.status === "VALID"
    ? Option.some(TicketNotCheckedIn.of(code))
    : Option.none()

const checkedIn = (ticket: Ticket, email: string): CheckIn => ({
  ...ticket,
  status: "CHECKED_IN",
  checkedInAt: ticket.checkedInAt!,
  email
})

/** A ticket as read (Dates from the driver). */
const TicketRow = Schema.Struct({
  code: Schema.String,
  bookingId: BookingId,
  eventId: EventId,
  ticketTypeId: TicketTypeId,
  ticketTypeName: Schema.String,
  status: TicketStatus,
  checkedInAt: Schema.NullOr(Schema.DateFromSelf),
  cancelledAt: Schema.NullOr(Schema.DateFromSelf)
})
const DoorRow = Schema.Struct({ ...TicketRow.fields, email: Schema.String, checkInIdempotencyId: Schema.NullOr(Schema.String) })
const InBooking = Schema.Struct({ bookingId: BookingId, code: Schema.String })
const AtDoor = Schema.Struct({ eventId: EventId, code: Schema.String })
const CheckInArgs = Schema.Struct({ ...AtDoor.fields, idempotencyId: Schema.NullOr(Schema.String) })

const toDoorTicket = ({ checkInIdempotencyId, email, ...ticket }: typeof DoorRow.Type): DoorTicket => ({
  ticket,
  email,
  checkInIdempotencyId
})

function makeSql(sql: SqlClient.SqlClient): TicketsRepo["Type"] {
  const columns = sql.literal(`
    t.code, t.booking_id AS "bookingId", t.event_id AS "eventId", t.ticket_type_id AS "ticketTypeId",
    tt.name AS "ticketTypeName", t.status, t.checked_in_at AS "checkedInAt", t.cancelled_at AS "cancelledAt"`)
  const doorColumns = sql.literal(`u.email, t.check_in_idempotency_id::text AS "checkInIdempotencyId"`)

  const listByBooking = SqlSchema.findAll({
    Request: BookingId,
    Result: TicketRow,
    execute: (bookingId) =>
      sql`
        SELECT ${columns} FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id
        WHERE t.booking_id = ${bookingId} ORDER BY t.id`
  })
  const findInBooking = SqlSchema.findOne({
    Request: InBooking,
    Result: TicketRow,
    execute: ({ bookingId, code }) =>
      sql`
        SELECT ${columns} FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id
        WHERE t.booking_id = ${bookingId} AND t.code = ${code}`
  })
  const checkIn = SqlSchema.findOne({
    Request: CheckInArgs,
    Result: DoorRow,
    execute: ({ code, eventId, idempotencyId }) =>
      sql`
        WITH t AS (
          UPDATE tickets SET status = 'CHECKED_IN', checked_in_at = now(), check_in_idempotency_id = ${idempotencyId}::uuid
          WHERE event_id = ${eventId} AND code = ${code} AND status = 'VALID'
          RETURNING *
        )
        SELECT ${columns}, ${doorColumns}
        FROM t JOIN ticket_types tt ON tt.id = t.ticket_type_id JOIN bookings b ON b.id = t.booking_id JOIN users u ON u.id = b.user_id`
  })
  const atDoor = SqlSchema.findOne({
    Request: AtDoor,
    Result: DoorRow,
    execute: ({ code, eventId }) =>
      sql`
        SELECT ${columns}, ${doorColumns}
        FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id JOIN bookings b ON b.id = t.booking_id JOIN users u ON u.id = b.user_id
        WHERE t.event_id = ${eventId} AND t.code = ${code}`
  })
  const undo = SqlSchema.findOne({
    Request: AtDoor,
    Result: Schema.Struct({ status: TicketStatus }),
    execute: ({ code, eventId }) =>
      sql`
        UPDATE tickets SET status = 'VALID', checked_in_at = NULL, check_in_idempotency_id = NULL
        WHERE event_id = ${eventId} AND code = ${code} AND status = 'CHECKED_IN'
        RETURNING status`
  })
  const statusAtDoor = SqlSchema.findOne({
    Request: AtDoor,
    Result: Schema.Struct({ status: TicketStatus }),
    execute: ({ code, eventId }) => sql`SELECT status FROM tickets WHERE event_id = ${eventId} AND code = ${code}`
  })

  // Each turn of these loops follows a concurrent change of the same ticket (a check-in undone, or
  // made again, between the UPDATE and the read), so they end as soon as the ticket stays put.
  const checkInLoop = (
    eventId: EventId,
    code: string,
    idempotencyId: IdempotencyId | undefined
  ): Effect.Effect<CheckedIn, CheckInFailure> =>
    checkIn({ eventId, code, idempotencyId: idempotencyId ?? null }).pipe(
      Effect.orDie,
      Effect.flatMap(Option.match({
        onSome: (row) => {
          const { email, ticket } = toDoorTicket(row)
          return Effect.succeed({ checkIn: checkedIn(ticket, email), repeat: false })
        },
        onNone: () =>
          atDoor({ eventId, code }).pipe(
            Effect.orDie,
            Effect.flatMap((door) =>
              Option.match(checkInRefusal(code, Option.map(door, toDoorTicket), idempotencyId), {
                onNone: () => checkInLoop(eventId, code, idempotencyId),
                onSome: (answer) => Effect.map(answer, (checkIn) => ({ checkIn, repeat: true }))
              })
            )
          )
      }))
    )
  const undoLoop = (eventId: EventId, code: string): Effect.Effect<void, UndoFailure> =>
    undo({ eventId, code }).pipe(
      Effect.orDie,
      Effect.flatMap(Option.match({
        onSome: () => Effect.void,
        onNone: () =>
          statusAtDoor({ eventId, code }).pipe(
            Effect.orDie,
            Effect.flatMap((door) => Option.match(undoRefusal(code, door), { onNone: () => undoLoop(eventId, code), onSome: Effect.fail }))
          )
      }))
    )

  return {
    listByBooking: (bookingId) => listByBooking(bookingId).pipe(Effect.orDie),
    findInBooking: (bookingId, code) => findInBooking({ bookingId, code }).pipe(Effect.orDie),
    checkIn: checkInLoop,
    undoCheckIn: undoLoop
  }
}

function makeMemory(store: MemoryStore["Type"]): TicketsRepo["Type"] {
  const toTicket = (tables: Tables, stored: StoredTicket): Ticket => ({
    code: stored.code,
    bookingId: stored.bookingId as BookingId,
    eventId: stored.eventId as EventId,
    ticketTypeId: stored.ticketTypeId as TicketTypeId,
    ticketTypeName: tables.ticketTypes.get(stored.ticketTypeId)!.name,
    status: stored.status,
    checkedInAt: stored.checkedInAt,
    cancelledAt: stored.cancelledAt
  })
  const emailOf = (tables: Tables, stored: StoredTicket) => tables.users.get(tables.bookings.get(stored.bookingId)!.userId)!.email
  const find = (tables: Tables, matches: (ticket: StoredTicket) => boolean) =>
    Option.fromNullable([...tables.tickets.values()].find(matches))
  const atDoor = (tables: Tables, eventId: EventId, code: string) =>
    find(tables, (ticket) => ticket.eventId === eventId && ticket.code === code)

  return {
    listByBooking: (bookingId) =>
      Effect.map(Ref.get(store), (tables) =>
        [...tables.tickets.values()]
          .filter((ticket) => ticket.bookingId === bookingId)
          .sort((a, b) => a.id - b.id)
          .map((ticket) => toTicket(tables, ticket))),

    findInBooking: (bookingId, code) =>
      Effect.map(
        Ref.get(store),
        (tables) =>
          Option.map(find(tables, (ticket) => ticket.bookingId === bookingId && ticket.code === code), (ticket) => toTicket(tables, ticket))
      ),

    checkIn: (eventId, code, idempotencyId) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          transact(store, (tables): Either.Either<readonly [CheckedIn, Tables], CheckInFailure> => {
            const found = atDoor(tables, eventId, code)
            if (Option.isSome(found) && found.value.status === "VALID") {
              const stored: StoredTicket = {
                ...found.value,
                status: "CHECKED_IN",
                checkedInAt: new Date(now),
                checkInIdempotencyId: idempotencyId ?? null
              }
              return Either.right(
                [
                  { checkIn: checkedIn(toTicket(tables, stored), emailOf(tables, stored)), repeat: false },
                  { ...tables, tickets: withEntry(tables.tickets, stored.id, stored) }
                ] as const
              )
            }
            const door = Option.map(found, (stored) => ({
              ticket: toTicket(tables, stored),
              email: emailOf(tables, stored),
              checkInIdempotencyId: stored.checkInIdempotencyId ?? null
            }))
            // Not VALID (checked above): the refusal is always some.
            return Either.map(
              Option.getOrThrow(checkInRefusal(code, door, idempotencyId)),
              (checkIn) => [{ checkIn, repeat: true }, tables] as const
            )
          })
      ),

    undoCheckIn: (eventId, code) =>
      transact(store, (tables) => {
        const found = atDoor(tables, eventId, code)
        if (Option.isSome(found) && found.value.status === "CHECKED_IN") {
          const stored: StoredTicket = { ...found.value, status: "VALID", checkedInAt: null, checkInIdempotencyId: null }
          return Either.right([undefined, { ...tables, tickets: withEntry(tables.tickets, stored.id, stored) }] as const)
        }
        return Either.left(Option.getOrThrow(undoRefusal(code, found)))
      })
  }
}
