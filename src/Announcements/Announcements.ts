/**
 * What organizers' systems hear of: the webhook event types and the job that carries one event
 * (an `Announcement`) from the transaction of its change to the fan-out (src/Webhooks/). Here, below
 * the engine and the features, because both emit them: the engine (bookings, holds, the waiting
 * list) and Events (changes of an event). The webhooks feature delivers them.
 *
 * An announcement is written only when the event's organizer has an enabled endpoint subscribed to
 * its type, as decided by the outbox in the same transaction (the job type's condition, given in
 * src/Jobs.ts): with no endpoint, a change costs nothing more.
 */
import { Schema } from "effect"
import { EventId } from "../Domain/Ids.ts"
import type { BookingRow, HoldRow, ItemRow } from "../Domain/TicketRows.ts"
import { type JobOf, jobType } from "../Jobs/JobCatalogue.ts"

/** The webhook event types an endpoint may subscribe to (`ping` is what `POST /webhooks/:id/test` sends). */
export const WebhookEventTypes = [
  "booking.created",
  "booking.cancelled",
  "event.updated",
  "event.published",
  "event.cancelled",
  "hold.expired",
  "waitlist.offered",
  "checkin.created",
  "ping"
] as const
export const WebhookEventType = Schema.Literal(...WebhookEventTypes).annotations({
  identifier: "WebhookEventType",
  description: "booking.cancelled also covers a booking reduced by giving tickets back (`ticketsLeft` > 0)"
})
export type WebhookEventType = typeof WebhookEventType.Type

/** A JSON value as the receiver gets it in `data`. */
const Json = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * One event for the webhooks of `eventId`'s organizer: its type, when it happened, and `data` as
 * the receiver gets it (already JSON: dates are ISO strings).
 */
export const Announcement = Schema.TaggedStruct("Announcement", {
  eventId: EventId,
  type: WebhookEventType,
  occurredAt: Schema.Date,
  data: Json
})
export type Announcement = typeof Announcement.Type

export const AnnouncementJobTypes = [jobType(Announcement, { queue: "webhook-queue" })] as const
export type AnnouncementJob = JobOf<typeof AnnouncementJobTypes>

const iso = (date: Date | null) => date === null ? null : date.toISOString()

const announcement = (eventId: EventId, type: WebhookEventType, data: Announcement["data"], occurredAt = new Date()): Announcement => ({
  _tag: "Announcement",
  eventId,
  type,
  occurredAt,
  data
})

/** The tickets by type (`ticketTypeId`, `count`), as the API's `items` without the type names. */
const itemsData = (items: ReadonlyArray<ItemRow>) => items.map(({ count, ticketTypeId }) => ({ ticketTypeId, count }))

const bookingData = (eventId: EventId, booking: BookingRow) => ({
  id: booking.id,
  eventId,
  userId: booking.userId,
  ticketsCount: booking.ticketsCount,
  items: itemsData(booking.items),
  status: booking.status,
  cancelledAt: iso(booking.cancelledAt),
  createdAt: iso(booking.createdAt)
})

export const bookingCreated = (eventId: EventId, booking: BookingRow): Announcement =>
  announcement(eventId, "booking.created", { booking: bookingData(eventId, booking) }, booking.createdAt)

/** A cancellation, or a reduction (`ticketsLeft` > 0: the booking stays with fewer tickets). */
export const bookingCancelled = (eventId: EventId, booking: BookingRow, ticketsCancelled: number): Announcement =>
  announcement(eventId, "booking.cancelled", {
    booking: bookingData(eventId, booking),
    ticketsCancelled,
    ticketsLeft: booking.status === "CANCELLED" ? 0 : booking.ticketsCount,
    partial: booking.status !== "CANCELLED"
  })

const holdData = (eventId: EventId, hold: HoldRow) => ({
  id: hold.id,
  eventId,
  userId: hold.userId,
  ticketsCount: hold.ticketsCount,
  items: itemsData(hold.items),
  status: hold.status,
  expiresAt: iso(hold.expiresAt),
  createdAt: iso(hold.createdAt)
})

export const holdExpired = (eventId: EventId, hold: HoldRow): Announcement =>
  announcement(eventId, "hold.expired", { hold: holdData(eventId, hold) }, hold.endedAt ?? new Date())

export const waitlistOffered = (eventId: EventId, hold: HoldRow): Announcement =>
  announcement(eventId, "waitlist.offered", { hold: holdData(eventId, hold), waitlistEntryId: hold.entryId })

/** event.updated, event.published, event.cancelled: `event` as the API shows it (encoded), and what changed. */
export const eventChanged = (
  eventId: EventId,
  type: "event.updated" | "event.published" | "event.cancelled",
  event: Announcement["data"],
  changes?: ReadonlyArray<unknown>
): Announcement => announcement(eventId, type, changes === undefined ? { event } : { event, changes })

/** checkin.created: a ticket scanned in at the door (`ticket`: its code, type, booking and time). */
export const checkinCreated = (
  eventId: EventId,
  ticket: { readonly code: string; readonly bookingId: number; readonly ticketTypeId: number; readonly checkedInAt: Date }
): Announcement =>
  announcement(eventId, "checkin.created", {
    ticket: {
      code: ticket.code,
      bookingId: ticket.bookingId,
      ticketTypeId: ticket.ticketTypeId,
      checkedInAt: ticket.checkedInAt.toISOString()
    }
  }, ticket.checkedInAt)
