import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Forbidden } from "../Domain/Errors.ts"
import { PageQuery } from "../Domain/Paging.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { addErrors } from "../Edge/ErrorResponse.ts"
import { documentPageHeaders } from "../Edge/PageHeaders.ts"
import {
  CreateWebhookEndpoint,
  DeliveryPending,
  InvalidWebhookUrl,
  TooManyWebhooks,
  UpdateWebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryIdFromPath,
  WebhookDeliveryNotFound,
  WebhookDisabled,
  WebhookEndpoint,
  WebhookEndpointIdFromPath,
  WebhookEndpointWithSecret,
  WebhookNotFound
} from "./Webhook.ts"

const id = HttpApiSchema.param("id", WebhookEndpointIdFromPath)
const deliveryId = HttpApiSchema.param("deliveryId", WebhookDeliveryIdFromPath)

/** How a receiver checks a delivery: said on every endpoint that hands out a secret. */
const VERIFYING = "Each delivery is a POST of `{type, timestamp, data}` signed per Standard Webhooks (standardwebhooks.com): " +
  "`webhook-id` (the same on every retry of a delivery: deduplicate by it), `webhook-timestamp` (Unix seconds) and " +
  "`webhook-signature`: space-separated `v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{raw body}\">`, " +
  "the key being the base64 after `whsec_` in the secret. Accept the delivery if any one signature matches (two are " +
  "sent for 24 hours after a rotation) and the timestamp is within 5 minutes; a library such as `standardwebhooks` " +
  "does both. Answer 2xx within 10 s; anything else is retried with backoff for about 33 hours, then the endpoint is " +
  "disabled (410 Gone disables it at once). Events are not guaranteed to arrive in order."

export class WebhooksApi extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("create", "/webhooks")
      .setPayload(CreateWebhookEndpoint)
      .addSuccess(WebhookEndpointWithSecret, { status: 201 })
      .pipe(addErrors(Forbidden, InvalidWebhookUrl, TooManyWebhooks))
      .annotate(OpenApi.Summary, "Register a webhook endpoint (organizers); its signing secret is shown only now")
      .annotate(OpenApi.Description, VERIFYING)
  )
  .add(
    HttpApiEndpoint.get("list", "/webhooks")
      .setUrlParams(PageQuery)
      .addSuccess(Schema.Array(WebhookEndpoint))
      .pipe(addErrors(Forbidden))
      .annotate(OpenApi.Summary, "List your webhook endpoints (without their secrets)")
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .add(
    HttpApiEndpoint.get("get")`/webhooks/${id}`
      .addSuccess(WebhookEndpoint)
      .pipe(addErrors(Forbidden, WebhookNotFound))
      .annotate(OpenApi.Summary, "One of your webhook endpoints (without its secret)")
  )
  .add(
    HttpApiEndpoint.patch("update")`/webhooks/${id}`
      .setPayload(UpdateWebhookEndpoint)
      .addSuccess(WebhookEndpoint)
      .pipe(addErrors(Forbidden, WebhookNotFound, InvalidWebhookUrl))
      .annotate(OpenApi.Summary, "Change a webhook endpoint's url or events, or disable or enable it")
  )
  .add(
    HttpApiEndpoint.del("delete")`/webhooks/${id}`
      .addSuccess(HttpApiSchema.NoContent)
      .pipe(addErrors(Forbidden, WebhookNotFound))
      .annotate(OpenApi.Summary, "Delete a webhook endpoint and its deliveries")
  )
  .add(
    HttpApiEndpoint.post("rotateSecret")`/webhooks/${id}/rotate-secret`
      .addSuccess(WebhookEndpointWithSecret)
      .pipe(addErrors(Forbidden, WebhookNotFound))
      .annotate(OpenApi.Summary, "Give a webhook endpoint a new signing secret (shown only now)")
      .annotate(
        OpenApi.Description,
        "For 24 hours the old secret keeps signing beside the new one (two `v1,` signatures), so a receiver can switch " +
          "without rejecting a delivery. " + VERIFYING
      )
  )
  .add(
    HttpApiEndpoint.post("test")`/webhooks/${id}/test`
      .addSuccess(WebhookDelivery, { status: 202 })
      .pipe(addErrors(Forbidden, WebhookNotFound, WebhookDisabled))
      .annotate(OpenApi.Summary, "Send a `ping` delivery to a webhook endpoint (queued: see its deliveries)")
  )
  .add(
    HttpApiEndpoint.get("deliveries")`/webhooks/${id}/deliveries`
      .setUrlParams(PageQuery)
      .addSuccess(Schema.Array(WebhookDelivery))
      .pipe(addErrors(Forbidden, WebhookNotFound))
      .annotate(OpenApi.Summary, "A webhook endpoint's deliveries, newest first: state, attempts, last answer, next attempt")
      .annotate(OpenApi.Transform, documentPageHeaders)
  )
  .add(
    HttpApiEndpoint.post("retry")`/webhooks/${id}/deliveries/${deliveryId}/retry`
      .addSuccess(WebhookDelivery, { status: 202 })
      .pipe(addErrors(Forbidden, WebhookNotFound, WebhookDeliveryNotFound, DeliveryPending, WebhookDisabled))
      .annotate(OpenApi.Summary, "Send a failed delivery again (same webhook-id), with a new round of retries")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Webhooks")
  .annotate(OpenApi.Description, VERIFYING)
{}
