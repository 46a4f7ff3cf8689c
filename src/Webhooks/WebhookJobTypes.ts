/**
 * The jobs of webhooks beyond the announcement itself (src/Announcements/): one attempt of one
 * delivery (each retry a job of its own, delayed until its time), and the email that tells an
 * organizer their endpoint was disabled. Their names and fields are the wire format of outbox rows
 * and queued jobs: jobs already queued must still decode.
 */
import { Schema } from "effect"
import { type JobOf, jobType } from "../Jobs/JobCatalogue.ts"
import { WebhookDeliveryId, WebhookEndpointId } from "./Webhook.ts"

/** Attempt number `attempt` (1 = the first) of a delivery, not before `notBefore` (null: at once). */
export const WebhookAttempt = Schema.TaggedStruct("WebhookAttempt", {
  deliveryId: WebhookDeliveryId,
  attempt: Schema.Int,
  notBefore: Schema.NullOr(Schema.Date)
})
export type WebhookAttempt = typeof WebhookAttempt.Type

/** An endpoint was disabled (its deliveries gave up, or it answered 410 Gone): its organizer is told once. */
export const WebhookEndpointDisabled = Schema.TaggedStruct("WebhookEndpointDisabled", {
  endpointId: WebhookEndpointId,
  reason: Schema.String
})
export type WebhookEndpointDisabled = typeof WebhookEndpointDisabled.Type

export const WebhookJobTypes = [
  jobType(WebhookAttempt, { queue: "webhook-queue", runAt: (job) => job.notBefore }),
  jobType(WebhookEndpointDisabled, { queue: "email-queue" })
] as const

export type WebhookJob = JobOf<typeof WebhookJobTypes>

/**
 * The condition of an announcement's outbox row (Jobs/JobCatalogue.ts `onlyIf`): the event's
 * organizer has an enabled endpoint subscribed to its type. Read in the transaction of the change,
 * never from a cache: an endpoint added a moment ago by another process counts.
 */
export const someEndpointListens = `EXISTS (
  SELECT 1 FROM events e JOIN webhook_endpoints w ON w.organizer_id = e.organizer_id AND w.enabled
  WHERE e.id = (r.payload->>'eventId')::int AND (r.payload->>'type') = ANY (w.events))`
