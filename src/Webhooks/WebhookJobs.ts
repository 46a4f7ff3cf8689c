/**
 * What webhook jobs do (the feature's part of the job contract, Jobs/JobProcessor.ts):
 * - an Announcement fans out: one pending delivery and one attempt job per endpoint that listens,
 *   in one transaction (a fan-out run again adds nothing: deliveries are keyed by the job's id);
 * - a WebhookAttempt posts a delivery, signed, and records what came of it. Not delivered, the next
 *   attempt is a delayed job written in the same transaction as the record (a dead worker loses
 *   nothing); after the schedule's last retry, or on 410 Gone, the endpoint is disabled and a
 *   WebhookEndpointDisabled job tells its organizer, once;
 * - a WebhookEndpointDisabled mails the organizer (the delivery log keeps it to one email).
 * No transaction spans a post: the record is conditional on the attempts made (`recordAttempt`),
 * so a job run twice records once. A worker dying between a post and its record posts it again:
 * receivers deduplicate by `webhook-id`, which every attempt of a delivery shares.
 */
import { Clock, Context, Effect, Either, Layer, Option, Random } from "effect"
import { UsersRepo } from "../Accounts/UsersRepo.ts"
import type { Announcement } from "../Announcements/Announcements.ts"
import { JobCannotRun, type JobHandlers } from "../Jobs/JobProcessor.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Deliveries } from "../Notifications/Deliveries.ts"
import { type Mail, Mailer } from "../Notifications/Mailer.ts"
import { AppConfig } from "../Platform/Config.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { recordEmail, recordWebhookAttempt, recordWebhookEndpointDisabled } from "../Telemetry/Metrics.ts"
import { signatureHeaders } from "./Signature.ts"
import type { WebhookAttempt, WebhookEndpointDisabled, WebhookJob } from "./WebhookJobTypes.ts"
import { webhookBody } from "./Webhooks.ts"
import { type Attempt, WebhookSender } from "./WebhookSender.ts"
import { type AttemptRecord, type EndpointRow, WebhooksRepo } from "./WebhooksRepo.ts"

/** Each wait of the schedule is stretched or shrunk by up to this share, so retries of many deliveries spread out. */
const JITTER = 0.2

/** A receiver's text as it may be stored and shown: control characters (NUL, which PostgreSQL refuses, included) as spaces. */
// eslint-disable-next-line no-control-regex
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, " ")

/** What an attempt's outcome says about the delivery. */
const judge = (
  attempt: Attempt
): { readonly delivered: boolean; readonly gone: boolean; readonly status: number | null; readonly error: string | null } => {
  switch (attempt._tag) {
    case "Answered": {
      const delivered = attempt.status >= 200 && attempt.status < 300
      return {
        delivered,
        gone: attempt.status === 410,
        status: attempt.status,
        error: delivered ? null : `answered ${attempt.status}${attempt.body === "" ? "" : `: ${printable(attempt.body.slice(0, 200))}`}`
      }
    }
    case "Failed":
      return { delivered: false, gone: false, status: null, error: attempt.reason }
    case "Refused":
      return { delivered: false, gone: false, status: null, error: `refused: ${attempt.reason}` }
  }
}

/** The secrets that sign now: the endpoint's, and a rotated one until its overlap ends. */
const signingSecrets = (endpoint: EndpointRow, now: number) =>
  endpoint.previousSecret !== null && endpoint.previousSecretUntil !== null && endpoint.previousSecretUntil.getTime() > now
    ? [endpoint.secret, endpoint.previousSecret]
    : [endpoint.secret]

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const endpointDisabledMail = (endpoint: EndpointRow, reason: string, to: string): Mail => {
  const intro = `Your webhook endpoint ${endpoint.url} (id ${endpoint.id}) was disabled: ${reason}.`
  const outro = "Nothing more is sent to it. Fix the receiver, then enable it again (PATCH /api/webhooks/" + endpoint.id +
    " with {\"enabled\": true}) and retry the deliveries that failed (POST /api/webhooks/" + endpoint.id + "/deliveries/{id}/retry)."
  return {
    to,
    subject: "Webhook endpoint disabled",
    text: `${intro}\n\n${outro}\n`,
    html: `<p>${escapeHtml(intro)}</p><p>${escapeHtml(outro)}</p>`
  }
}

export type WebhookHandled = Announcement | WebhookJob

export class WebhookJobs extends Context.Tag("WebhookJobs")<WebhookJobs, JobHandlers<WebhookHandled>>() {
  static readonly layer = Layer.effect(
    WebhookJobs,
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const sender = yield* WebhookSender
      const jobs = yield* JobQueue
      const transactions = yield* Transactions
      const users = yield* UsersRepo
      const deliveries = yield* Deliveries
      const mailer = yield* Mailer
      const schedule = (yield* AppConfig).webhooks.retryScheduleMs

      const announce = (jobId: string, job: Announcement) =>
        transactions.run(Effect.gen(function*() {
          const added = yield* repo.fanOut({
            eventKey: jobId,
            eventId: job.eventId,
            type: job.type,
            body: webhookBody(job.type, job.occurredAt, job.data)
          })
          yield* jobs.enqueue(
            ...added.map((delivery): WebhookJob => ({ _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null }))
          )
        }))

      /** The wait before retry number `retry` (1-based) of a round, jittered; none after the schedule's last. */
      const waitBefore = (retry: number) =>
        retry > schedule.length
          ? Effect.succeed(Option.none<number>())
          : Effect.map(Random.nextRange(1 - JITTER, 1 + JITTER), (factor) => Option.some(Math.round(schedule[retry - 1]! * factor)))

      const attempt = (_jobId: string, job: WebhookAttempt) =>
        Effect.gen(function*() {
          const found = yield* repo.findDelivery(job.deliveryId)
          // Gone with its endpoint, recorded by another run, or retried by hand since: nothing to do.
          if (Option.isNone(found) || found.value.state !== "pending" || found.value.attempts !== job.attempt - 1) return
          const delivery = found.value
          const endpoint = yield* repo.findById(delivery.endpointId)
          if (Option.isNone(endpoint)) return
          if (!endpoint.value.enabled) return yield* repo.abandon(delivery.id, "the endpoint is disabled")

          const now = yield* Clock.currentTimeMillis
          const outcome = judge(
            yield* sender.post(endpoint.value.url, {
              headers: {
                ...signatureHeaders({
                  id: delivery.messageId,
                  timestamp: new Date(now),
                  body: delivery.body,
                  secrets: signingSecrets(endpoint.value, now)
                })
              },
              body: delivery.body
            })
          )
          yield* recordWebhookAttempt(outcome.delivered ? "sent" : "failed")

          const wait = outcome.delivered || outcome.gone ? Option.none<number>() : yield* waitBefore(job.attempt - delivery.roundStart)
          const record: AttemptRecord = {
            state: outcome.delivered ? "delivered" : Option.isSome(wait) ? "pending" : "failed",
            lastStatus: outcome.status,
            lastError: outcome.error,
            nextAttemptAt: Option.isSome(wait) ? new Date(now + wait.value) : null
          }
          const reason = outcome.gone ? "it answered 410 Gone" : `${job.attempt - delivery.roundStart} attempts in a row failed`
          const disabled = yield* transactions.run(Effect.gen(function*() {
            if (!(yield* repo.recordAttempt(delivery.id, job.attempt, record))) return false
            if (record.nextAttemptAt !== null) {
              yield* jobs.enqueue({
                _tag: "WebhookAttempt",
                deliveryId: delivery.id,
                attempt: job.attempt + 1,
                notBefore: record.nextAttemptAt
              })
              return false
            }
            if (record.state !== "failed") return false
            const disabled = yield* repo.disable(endpoint.value.id, reason)
            if (Option.isNone(disabled)) return false
            yield* jobs.enqueue({ _tag: "WebhookEndpointDisabled", endpointId: endpoint.value.id, reason })
            return true
          }))
          if (record.nextAttemptAt !== null) yield* recordWebhookAttempt("retried")
          if (disabled) {
            yield* recordWebhookEndpointDisabled
            yield* Effect.logWarning("webhook endpoint disabled").pipe(Effect.annotateLogs({ webhookId: endpoint.value.id, reason }))
          }
        })

      const endpointDisabled = (jobId: string, job: WebhookEndpointDisabled) =>
        Effect.gen(function*() {
          const endpoint = yield* repo.findById(job.endpointId)
          const organizer = Option.isNone(endpoint) ? Option.none() : yield* users.findById(endpoint.value.organizerId)
          if (Option.isNone(endpoint) || Option.isNone(organizer)) {
            return yield* new JobCannotRun({ message: `Webhook endpoint ${job.endpointId} or its organizer no longer exists` })
          }
          const mail = endpointDisabledMail(endpoint.value, job.reason, organizer.value.email)
          // Keyed by job: one email per time the endpoint was disabled.
          const [result] = yield* deliveries.onceEach([{
            delivery: { key: `webhook-endpoint-disabled-${jobId}`, kind: job._tag, jobId, recipient: mail.to },
            send: (id) =>
              mailer.send(mail, id).pipe(
                Effect.tapBoth({ onSuccess: () => recordEmail(job._tag, "sent"), onFailure: () => recordEmail(job._tag, "failed") })
              )
          }])
          if (result !== undefined && Either.isLeft(result)) return yield* Effect.fail(result.left)
        })

      return { Announcement: announce, WebhookAttempt: attempt, WebhookEndpointDisabled: endpointDisabled }
    })
  )
}
