/**
 * The Webhooks service: an organizer's endpoints (made, listed, changed, deleted, their secret
 * rotated), a test ping, and their deliveries (listed, retried by hand). The deliveries themselves
 * are the jobs' (WebhookJobs.ts).
 */
import { Clock, Context, Effect, Either, Layer, Option } from "effect"
import { randomUUID } from "node:crypto"
import type { WebhookEventType } from "../Announcements/Announcements.ts"
import { changedFields } from "../Audit/AuditEntry.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import type { UserId } from "../Domain/Ids.ts"
import type { Page, PageRequest } from "../Domain/Paging.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { AppConfig } from "../Platform/Config.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { newSecret } from "./Signature.ts"
import {
  type CreateWebhookEndpoint,
  DeliveryPending,
  InvalidWebhookUrl,
  TooManyWebhooks,
  type UpdateWebhookEndpoint,
  WEBHOOK_LIMITS,
  type WebhookDelivery,
  type WebhookDeliveryId,
  WebhookDeliveryNotFound,
  WebhookDisabled,
  type WebhookEndpoint,
  type WebhookEndpointId,
  type WebhookEndpointWithSecret,
  WebhookNotFound
} from "./Webhook.ts"
import type { WebhookJob } from "./WebhookJobTypes.ts"
import type { DeliveryRow, EndpointRow } from "./WebhooksRepo.ts"
import { WebhooksRepo } from "./WebhooksRepo.ts"
import { checkUrl } from "./WebhookUrl.ts"

/** After a rotation, the old secret signs beside the new one this long: receivers switch without losing a delivery. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000

/** The body every attempt of a delivery sends: `{type, timestamp, data}`. */
export const webhookBody = (type: WebhookEventType, occurredAt: Date, data: unknown) =>
  JSON.stringify({ type, timestamp: occurredAt.toISOString(), data })

export const deliveryView = (row: DeliveryRow): WebhookDelivery => ({
  id: row.id,
  eventType: row.eventType,
  webhookId: row.messageId,
  state: row.state,
  attempts: row.attempts,
  lastStatus: row.lastStatus,
  lastError: row.lastError,
  nextAttemptAt: row.state === "pending" ? row.nextAttemptAt : null,
  createdAt: row.createdAt
})

const endpointView = (row: EndpointRow, now: number): WebhookEndpoint => ({
  id: row.id,
  url: row.url,
  description: row.description,
  events: row.events,
  enabled: row.enabled,
  disabledReason: row.disabledReason,
  previousSecretExpiresAt: row.previousSecretUntil !== null && row.previousSecretUntil.getTime() > now ? row.previousSecretUntil : null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt
})

export class Webhooks extends Context.Tag("Webhooks")<Webhooks, {
  readonly create: (
    organizer: UserId,
    input: CreateWebhookEndpoint
  ) => Effect.Effect<WebhookEndpointWithSecret, InvalidWebhookUrl | TooManyWebhooks>
  readonly list: (organizer: UserId, page: PageRequest) => Effect.Effect<Page<WebhookEndpoint>>
  readonly get: (organizer: UserId, id: WebhookEndpointId) => Effect.Effect<WebhookEndpoint, WebhookNotFound>
  readonly update: (
    organizer: UserId,
    id: WebhookEndpointId,
    changes: UpdateWebhookEndpoint
  ) => Effect.Effect<WebhookEndpoint, WebhookNotFound | InvalidWebhookUrl>
  readonly remove: (organizer: UserId, id: WebhookEndpointId) => Effect.Effect<void, WebhookNotFound>
  /** A new secret; the old one keeps signing beside it for SECRET_OVERLAP_MS. */
  readonly rotateSecret: (organizer: UserId, id: WebhookEndpointId) => Effect.Effect<WebhookEndpointWithSecret, WebhookNotFound>
  /** Queues a `ping` delivery to the endpoint. */
  readonly test: (organizer: UserId, id: WebhookEndpointId) => Effect.Effect<WebhookDelivery, WebhookNotFound | WebhookDisabled>
  readonly deliveries: (
    organizer: UserId,
    id: WebhookEndpointId,
    page: PageRequest
  ) => Effect.Effect<Page<WebhookDelivery>, WebhookNotFound>
  /** Queues a delivery that gave up (or was delivered) again, for a new round of the retry schedule. */
  readonly retry: (
    organizer: UserId,
    id: WebhookEndpointId,
    deliveryId: WebhookDeliveryId
  ) => Effect.Effect<WebhookDelivery, WebhookNotFound | WebhookDeliveryNotFound | DeliveryPending | WebhookDisabled>
}>() {
  static readonly layer = Layer.effect(
    Webhooks,
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      const { webhooks: settings } = yield* AppConfig
      const audit = yield* AuditLog

      /** An endpoint's change in the audit trail (its secrets never). */
      const auditedFields = ["url", "description", "events", "enabled"] as const
      const audited = (verb: "created" | "updated", before: EndpointRow | undefined, after: EndpointRow) =>
        audit.record({
          action: `webhook.${verb}`,
          subject: { type: "webhook", id: after.id },
          eventId: null,
          changes: changedFields(before, after, auditedFields)
        })

      const validUrl = (url: string) =>
        Either.match(checkUrl(url, settings), {
          onLeft: (problem) => Effect.fail(InvalidWebhookUrl.of(problem)),
          onRight: () => Effect.void
        })
      const found = (id: WebhookEndpointId) => (row: Option.Option<EndpointRow>) =>
        Option.match(row, { onNone: () => Effect.fail(WebhookNotFound.of(id)), onSome: Effect.succeed })
      const own = (organizer: UserId, id: WebhookEndpointId) => Effect.flatMap(repo.find(organizer, id), found(id))
      const view = (row: EndpointRow) => Effect.map(Clock.currentTimeMillis, (now) => endpointView(row, now))
      const withSecret = (row: EndpointRow) => Effect.map(view(row), (endpoint) => ({ ...endpoint, secret: row.secret }))
      const enabled = (row: EndpointRow) => row.enabled ? Effect.void : Effect.fail(WebhookDisabled.of(row.id))
      /** A delivery's first attempt, queued in the transaction that made it pending. */
      const firstAttempt = (delivery: DeliveryRow): WebhookJob => ({
        _tag: "WebhookAttempt",
        deliveryId: delivery.id,
        attempt: delivery.attempts + 1,
        notBefore: null
      })

      return {
        create: (organizer, input) =>
          validUrl(input.url).pipe(
            Effect.zipRight(transactions.run(
              repo.create({
                organizerId: organizer,
                url: input.url,
                description: input.description === undefined || input.description === "" ? null : input.description,
                events: [...new Set(input.events)],
                secret: newSecret()
              }, WEBHOOK_LIMITS.endpointsPerOrganizer).pipe(
                Effect.flatMap(Option.match({ onNone: () => Effect.fail(TooManyWebhooks.limit), onSome: Effect.succeed })),
                Effect.tap((row) => audited("created", undefined, row))
              )
            )),
            Effect.flatMap(withSecret),
            Effect.tap((endpoint) => Effect.logInfo("webhook endpoint created").pipe(Effect.annotateLogs({ webhookId: endpoint.id })))
          ),

        list: (organizer, page) =>
          Effect.flatMap(
            repo.list(organizer, page),
            (rows) => Effect.map(Clock.currentTimeMillis, (now) => ({ ...rows, items: rows.items.map((row) => endpointView(row, now)) }))
          ),

        get: (organizer, id) => Effect.flatMap(own(organizer, id), view),

        update: (organizer, id, changes) =>
          (changes.url === undefined ? Effect.void : validUrl(changes.url)).pipe(
            Effect.zipRight(transactions.run(Effect.gen(function*() {
              const before = yield* own(organizer, id)
              const after = yield* Effect.flatMap(
                repo.update(organizer, id, {
                  url: changes.url,
                  events: changes.events === undefined ? undefined : [...new Set(changes.events)],
                  enabled: changes.enabled
                }),
                found(id)
              )
              yield* audited("updated", before, after)
              return after
            }))),
            Effect.flatMap(view)
          ),

        remove: (organizer, id) =>
          transactions.run(Effect.gen(function*() {
            const before = yield* own(organizer, id)
            if (!(yield* repo.remove(organizer, id))) return yield* Effect.fail(WebhookNotFound.of(id))
            yield* audit.record({
              action: "webhook.deleted",
              subject: { type: "webhook", id },
              eventId: null,
              changes: Object.fromEntries(auditedFields.map((field) => [field, { before: before[field], after: null }]))
            })
          })),

        rotateSecret: (organizer, id) =>
          // The audit entry names the rotation, never a secret.
          transactions.run(
            Effect.flatMap(Clock.currentTimeMillis, (now) => repo.rotate(organizer, id, newSecret(), new Date(now + SECRET_OVERLAP_MS)))
              .pipe(
                Effect.flatMap(found(id)),
                Effect.tap(() => audit.record({ action: "webhook.secret_rotated", subject: { type: "webhook", id }, eventId: null }))
              )
          ).pipe(Effect.flatMap(withSecret)),

        test: (organizer, id) =>
          own(organizer, id).pipe(
            Effect.tap(enabled),
            Effect.zip(Effect.map(Clock.currentTimeMillis, (now) => new Date(now))),
            Effect.flatMap(([endpoint, now]) =>
              transactions.run(Effect.gen(function*() {
                const delivery = yield* repo.addDelivery(endpoint.id, {
                  eventKey: `ping-${randomUUID()}`,
                  type: "ping",
                  body: webhookBody("ping", now, { webhookEndpointId: endpoint.id })
                })
                yield* jobs.enqueue(firstAttempt(delivery))
                return deliveryView(delivery)
              }))
            )
          ),

        deliveries: (organizer, id, page) =>
          own(organizer, id).pipe(
            Effect.zipRight(repo.deliveries(id, page)),
            Effect.map((rows) => ({ ...rows, items: rows.items.map(deliveryView) }))
          ),

        retry: (organizer, id, deliveryId) =>
          own(organizer, id).pipe(
            Effect.tap(enabled),
            Effect.zipRight(transactions.run(Effect.gen(function*() {
              const requeued = yield* repo.requeue(id, deliveryId)
              if (Either.isLeft(requeued)) {
                return yield* requeued.left === "pending" ? DeliveryPending.of(deliveryId) : WebhookDeliveryNotFound.of(deliveryId)
              }
              yield* jobs.enqueue(firstAttempt(requeued.right))
              return deliveryView(requeued.right)
            })))
          )
      }
    })
  ).pipe(traced(Webhooks, {
    get: (_, id) => ({ "webhook.id": id }),
    update: (_, id) => ({ "webhook.id": id }),
    remove: (_, id) => ({ "webhook.id": id }),
    rotateSecret: (_, id) => ({ "webhook.id": id }),
    test: (_, id) => ({ "webhook.id": id }),
    deliveries: (_, id) => ({ "webhook.id": id }),
    retry: (_, id, deliveryId) => ({ "webhook.id": id, "webhook.delivery_id": deliveryId })
  }))
}
