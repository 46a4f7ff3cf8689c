/**
 * Webhooks as the API shows them: endpoints (their secret only where it is made or rotated), their
 * deliveries, the requests that make and change them, and their refusals.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { WebhookEventType, WebhookEventTypes } from "../Announcements/Announcements.ts"
import { fromPath, Int4Id } from "../Domain/Ids.ts"
import { plainText, strictPayload } from "../Domain/Payload.ts"

export const WebhookEndpointId = Int4Id.pipe(Schema.brand("WebhookEndpointId")).annotations({ identifier: "WebhookEndpointId" })
export type WebhookEndpointId = typeof WebhookEndpointId.Type
export const WebhookDeliveryId = Int4Id.pipe(Schema.brand("WebhookDeliveryId")).annotations({ identifier: "WebhookDeliveryId" })
export type WebhookDeliveryId = typeof WebhookDeliveryId.Type

export const WebhookEndpointIdFromPath = fromPath(WebhookEndpointId, "webhook endpoint")
export const WebhookDeliveryIdFromPath = fromPath(WebhookDeliveryId, "webhook delivery")

/** Limits of an organizer's endpoints. */
export const WEBHOOK_LIMITS = { urlLength: 2048, descriptionLength: 500, endpointsPerOrganizer: 20 } as const

/** A receiver's URL: http(s), checked further by the transport (Webhooks/WebhookSender.ts `checkUrl`). */
export const WebhookUrl = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(WEBHOOK_LIMITS.urlLength, { message: () => `must be at most ${WEBHOOK_LIMITS.urlLength} characters` })
).annotations({ description: `An http(s) URL, at most ${WEBHOOK_LIMITS.urlLength} characters (https in production)` })

const SubscribedType = Schema.Literal(...WebhookEventTypes).annotations({
  message: () => `must be one of ${WebhookEventTypes.join(", ")}`
})

/** The event types an endpoint hears: at least one, each known; repeats count once. */
export const WebhookEvents = Schema.Array(SubscribedType).pipe(
  Schema.filter((types) => types.length > 0, { message: () => "must name at least one event type" }),
  Schema.maxItems(50, { message: () => "must name at most 50 event types" })
).annotations({ description: `Event types to receive: ${WebhookEventTypes.join(", ")}` })

const Description = Schema.Trim.pipe(
  Schema.maxLength(WEBHOOK_LIMITS.descriptionLength, { message: () => `must be at most ${WEBHOOK_LIMITS.descriptionLength} characters` }),
  plainText({ multiline: false })
)

export const CreateWebhookEndpoint = Schema.Struct({
  url: WebhookUrl,
  events: WebhookEvents,
  description: Schema.optional(Description)
}).annotations({ identifier: "CreateWebhookEndpoint", ...strictPayload })
export type CreateWebhookEndpoint = typeof CreateWebhookEndpoint.Type

const WebhookEndpointChanges = Schema.Struct({
  url: Schema.optional(WebhookUrl),
  events: Schema.optional(WebhookEvents),
  enabled: Schema.optional(Schema.Boolean.annotations({ description: "true re-enables an endpoint that was disabled" }))
}).annotations(strictPayload)

export const UpdateWebhookEndpoint = WebhookEndpointChanges.pipe(
  Schema.filter((changes) => Object.keys(changes).length > 0, { message: () => "Provide at least one of url, events, enabled" })
).annotations({ identifier: "UpdateWebhookEndpoint" })
export type UpdateWebhookEndpoint = typeof UpdateWebhookEndpoint.Type

const endpointFields = {
  id: WebhookEndpointId,
  url: Schema.String,
  description: Schema.NullOr(Schema.String),
  events: Schema.Array(WebhookEventType),
  enabled: Schema.Boolean,
  disabledReason: Schema.NullOr(Schema.String).annotations({
    description: "Why it was disabled: its deliveries gave up, or it answered 410 Gone (null: enabled, or disabled by you)"
  }),
  previousSecretExpiresAt: Schema.NullOr(Schema.Date).annotations({
    description: "After a rotation, the old secret signs beside the new one until then"
  }),
  createdAt: Schema.Date,
  updatedAt: Schema.Date
}

export const WebhookEndpoint = Schema.Struct(endpointFields).annotations({ identifier: "WebhookEndpoint" })
export type WebhookEndpoint = typeof WebhookEndpoint.Type

export const WebhookEndpointWithSecret = Schema.Struct({
  ...endpointFields,
  secret: Schema.String.annotations({
    description: "The signing secret (`whsec_` + base64): shown only when the endpoint is made and when it is rotated"
  })
}).annotations({ identifier: "WebhookEndpointWithSecret" })
export type WebhookEndpointWithSecret = typeof WebhookEndpointWithSecret.Type

export const DeliveryState = Schema.Literal("pending", "delivered", "failed").annotations({
  description: "pending: an attempt is due (nextAttemptAt); delivered: a 2xx answered; failed: it gave up (retry it by hand)"
})
export type DeliveryState = typeof DeliveryState.Type

export const WebhookDelivery = Schema.Struct({
  id: WebhookDeliveryId,
  eventType: WebhookEventType,
  webhookId: Schema.String.annotations({ description: "The webhook-id header: the same on every attempt" }),
  state: DeliveryState,
  attempts: Schema.Int,
  lastStatus: Schema.NullOr(Schema.Int).annotations({ description: "The HTTP status of the last answer (null: none yet, or no answer)" }),
  lastError: Schema.NullOr(Schema.String),
  nextAttemptAt: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date
}).annotations({ identifier: "WebhookDelivery" })
export type WebhookDelivery = typeof WebhookDelivery.Type

const message = { message: Schema.String }

export class WebhookNotFound extends Schema.TaggedError<WebhookNotFound>()(
  "WebhookNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such webhook endpoint of yours" })
) {
  static of(id: number) {
    return new WebhookNotFound({ message: `Webhook endpoint ${id} not found` })
  }
}

export class WebhookDeliveryNotFound extends Schema.TaggedError<WebhookDeliveryNotFound>()(
  "WebhookDeliveryNotFound",
  message,
  HttpApiSchema.annotations({ status: 404, description: "No such delivery of this endpoint" })
) {
  static of(id: number) {
    return new WebhookDeliveryNotFound({ message: `Webhook delivery ${id} not found` })
  }
}

export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>()(
  "InvalidWebhookUrl",
  message,
  HttpApiSchema.annotations({ status: 400, description: "The URL cannot be a receiver's (scheme, form, or https required)" })
) {
  static of(problem: string) {
    return new InvalidWebhookUrl({ message: `url: ${problem}` })
  }
}

export class TooManyWebhooks extends Schema.TaggedError<TooManyWebhooks>()(
  "TooManyWebhooks",
  message,
  HttpApiSchema.annotations({ status: 409, description: `An organizer has at most ${WEBHOOK_LIMITS.endpointsPerOrganizer} endpoints` })
) {
  static readonly limit = new TooManyWebhooks({
    message: `You already have ${WEBHOOK_LIMITS.endpointsPerOrganizer} webhook endpoints: delete one first`
  })
}

export class DeliveryPending extends Schema.TaggedError<DeliveryPending>()(
  "DeliveryPending",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The delivery is still being tried" })
) {
  static of(id: number) {
    return new DeliveryPending({ message: `Webhook delivery ${id} is still pending: its next attempt is scheduled` })
  }
}

export class WebhookDisabled extends Schema.TaggedError<WebhookDisabled>()(
  "WebhookDisabled",
  message,
  HttpApiSchema.annotations({ status: 409, description: "The endpoint is disabled: enable it (PATCH enabled: true) first" })
) {
  static of(id: number) {
    return new WebhookDisabled({ message: `Webhook endpoint ${id} is disabled: enable it first` })
  }
}
