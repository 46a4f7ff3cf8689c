/**
 * The webhook jobs over in-memory layers and a test clock: the retry schedule (each wait within
 * its jitter), giving up (the endpoint disabled once, its organizer mailed once), a job run twice,
 * a disabled endpoint, the signatures while a rotated secret overlaps, and the counters of /metrics.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Metric, Option, Ref, TestClock } from "effect"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { UserId } from "../../src/Domain/Ids.ts"
import { EnqueuedJobs, JobQueue } from "../../src/Jobs/JobQueue.ts"
import { Deliveries } from "../../src/Notifications/Deliveries.ts"
import { Mailer, SentMail } from "../../src/Notifications/Mailer.ts"
import { PersistenceMemory } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { WebhookJobs } from "../../src/Webhooks/WebhookJobs.ts"
import type { WebhookJob } from "../../src/Webhooks/WebhookJobTypes.ts"
import { Webhooks } from "../../src/Webhooks/Webhooks.ts"
import { type Attempt, SentWebhooks, WebhookSender } from "../../src/Webhooks/WebhookSender.ts"
import { WebhooksRepo } from "../../src/Webhooks/WebhooksRepo.ts"

const NOW = Date.parse("2030-01-01T00:00:00Z")
const SECOND = 1000

const Test = (answer: () => Attempt) =>
  Layer.mergeAll(WebhookJobs.layer, Webhooks.layer).pipe(
    Layer.provideMerge(Layer.mergeAll(Deliveries.layerMemory, Mailer.layerMemory, WebhookSender.layerMemory(answer))),
    Layer.provideMerge(PersistenceMemory),
    Layer.provideMerge(JobQueue.layerMemory),
    Layer.provideMerge(AppConfig.layerTest({ WEBHOOK_RETRY_SCHEDULE: "5s,5m", WEBHOOK_ALLOW_PRIVATE: true }))
  )

const test = <A, E>(name: string, answer: () => Attempt, body: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof Test>>>) =>
  it.effect(name, () => TestClock.setTime(NOW).pipe(Effect.zipRight(body), Effect.provide(Test(answer))))

// A NUL and a line break in the answer: stored as spaces (PostgreSQL refuses NUL in text).
const failing = (): Attempt => ({ _tag: "Answered", status: 500, body: "oops\u0000\nsorry" })

/** An organizer with one endpoint (listening to ping) and a ping queued to it: the delivery's id. */
const setUp = Effect.gen(function*() {
  const user = yield* Effect.orDie((yield* UsersRepo).create({ email: "org@example.com", passwordHash: "x", role: "ORGANIZER" }))
  const webhooks = yield* Webhooks
  const endpoint = yield* webhooks.create(user.id as UserId, { url: "https://receiver.example.com/", events: ["ping"] })
  const delivery = yield* Effect.orDie(webhooks.test(user.id as UserId, endpoint.id))
  return { organizer: user.id as UserId, endpoint, delivery }
})

const attemptJobs = Effect.map(
  Effect.flatMap(EnqueuedJobs, Ref.get),
  (jobs) => jobs.filter((job): job is Extract<WebhookJob, { _tag: "WebhookAttempt" }> => job._tag === "WebhookAttempt")
)
const disabledJobs = Effect.map(
  Effect.flatMap(EnqueuedJobs, Ref.get),
  (jobs) => jobs.filter((job) => job._tag === "WebhookEndpointDisabled")
)
const posts = Effect.flatMap(SentWebhooks, Ref.get)

/** The webhook counters of /metrics (process-wide: compare before and after). */
const counters = Effect.map(Metric.snapshot, (pairs) => {
  const value = (name: string) =>
    pairs.filter((pair) => pair.metricKey.name === name).reduce((n, pair) => n + Number((pair.metricState as any).count), 0)
  return {
    sent: value("webhook_deliveries_sent_total"),
    failed: value("webhook_deliveries_failed_total"),
    retried: value("webhook_deliveries_retried_total"),
    disabled: value("webhook_endpoints_disabled_total")
  }
})
const moved = (before: Effect.Effect.Success<typeof counters>) =>
  Effect.map(counters, (after) => ({
    sent: after.sent - before.sent,
    failed: after.failed - before.failed,
    retried: after.retried - before.retried,
    disabled: after.disabled - before.disabled
  }))

describe("webhook attempts", () => {
  test(
    "a failing receiver is retried on the schedule (each wait within ±20%), then the endpoint is disabled and mailed about once",
    failing,
    Effect.gen(function*() {
      const { delivery, endpoint, organizer } = yield* setUp
      const jobs = yield* WebhookJobs
      const repo = yield* WebhooksRepo
      const before = yield* counters

      yield* jobs.WebhookAttempt("j1", { _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null })
      const [, second] = yield* attemptJobs
      expect(second).toMatchObject({ deliveryId: delivery.id, attempt: 2 })
      const firstWait = second!.notBefore!.getTime() - NOW
      expect(firstWait).toBeGreaterThanOrEqual(4 * SECOND)
      expect(firstWait).toBeLessThanOrEqual(6 * SECOND)
      expect(Option.getOrThrow(yield* repo.findDelivery(delivery.id))).toMatchObject({
        state: "pending",
        attempts: 1,
        lastStatus: 500,
        lastError: "answered 500: oops  sorry",
        nextAttemptAt: second!.notBefore
      })

      // The same job run again (BullMQ delivers at least once) posts nothing and schedules nothing.
      yield* jobs.WebhookAttempt("j1", { _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null })
      expect(yield* posts).toHaveLength(1)
      expect(yield* attemptJobs).toHaveLength(2)

      yield* TestClock.adjust(firstWait)
      yield* jobs.WebhookAttempt("j2", second!)
      const third = (yield* attemptJobs)[2]!
      const secondWait = third.notBefore!.getTime() - (NOW + firstWait)
      expect(secondWait).toBeGreaterThanOrEqual(240 * SECOND)
      expect(secondWait).toBeLessThanOrEqual(360 * SECOND)

      yield* jobs.WebhookAttempt("j3", third)
      yield* jobs.WebhookAttempt("j3", third)
      expect(yield* posts).toHaveLength(3)
      expect(yield* attemptJobs).toHaveLength(3)
      expect(Option.getOrThrow(yield* repo.findDelivery(delivery.id))).toMatchObject({ state: "failed", attempts: 3, nextAttemptAt: null })
      expect(Option.getOrThrow(yield* repo.find(organizer, endpoint.id))).toMatchObject({
        enabled: false,
        disabledReason: "3 attempts in a row failed"
      })
      expect(yield* moved(before)).toEqual({ sent: 0, failed: 3, retried: 2, disabled: 1 })
      const disabled = yield* disabledJobs
      expect(disabled).toEqual([{ _tag: "WebhookEndpointDisabled", endpointId: endpoint.id, reason: "3 attempts in a row failed" }])

      // Its job run twice mails once.
      yield* jobs.WebhookEndpointDisabled("d1", disabled[0] as any)
      yield* jobs.WebhookEndpointDisabled("d1", disabled[0] as any)
      const mails = yield* Effect.flatMap(SentMail, Ref.get)
      expect(mails).toHaveLength(1)
      expect(mails[0]).toMatchObject({ to: "org@example.com", subject: "Webhook endpoint disabled" })
    })
  )

  test(
    "every attempt of a delivery sends the same webhook-id and body; a disabled endpoint gets none",
    failing,
    Effect.gen(function*() {
      const { delivery, endpoint, organizer } = yield* setUp
      const jobs = yield* WebhookJobs
      yield* jobs.WebhookAttempt("j1", { _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null })
      yield* jobs.WebhookAttempt("j2", (yield* attemptJobs)[1]!)
      const [first, second] = yield* posts
      expect(first!.headers["webhook-id"]).toBe(delivery.webhookId)
      expect(second!.headers["webhook-id"]).toBe(delivery.webhookId)
      expect(second!.body).toBe(first!.body)
      expect(JSON.parse(first!.body)).toMatchObject({ type: "ping", data: { webhookEndpointId: endpoint.id } })

      yield* (yield* Webhooks).update(organizer, endpoint.id, { enabled: false })
      yield* jobs.WebhookAttempt("j3", (yield* attemptJobs)[2]!)
      expect(yield* posts).toHaveLength(2)
      expect(Option.getOrThrow(yield* (yield* WebhooksRepo).findDelivery(delivery.id))).toMatchObject({
        state: "failed",
        lastError: "the endpoint is disabled"
      })
      expect(yield* disabledJobs).toEqual([])
    })
  )

  test(
    "410 Gone gives up at once; a 2xx delivers",
    () => ({ _tag: "Answered", status: 410, body: "" }),
    Effect.gen(function*() {
      const { delivery, endpoint, organizer } = yield* setUp
      yield* (yield* WebhookJobs).WebhookAttempt("j1", { _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null })
      expect(yield* attemptJobs).toHaveLength(1)
      expect(Option.getOrThrow(yield* (yield* WebhooksRepo).find(organizer, endpoint.id)).disabledReason).toBe("it answered 410 Gone")
      expect(yield* disabledJobs).toHaveLength(1)
    })
  )

  test(
    "after a rotation two signatures go out; after 24 hours only the new one",
    () => ({ _tag: "Answered", status: 204, body: "" }),
    Effect.gen(function*() {
      const { endpoint, organizer } = yield* setUp
      const webhooks = yield* Webhooks
      const jobs = yield* WebhookJobs
      yield* webhooks.rotateSecret(organizer, endpoint.id)
      const before = yield* counters
      const send = Effect.gen(function*() {
        const delivery = yield* Effect.orDie(webhooks.test(organizer, endpoint.id))
        yield* jobs.WebhookAttempt(`j${delivery.id}`, { _tag: "WebhookAttempt", deliveryId: delivery.id, attempt: 1, notBefore: null })
        const sent = yield* posts
        return sent[sent.length - 1]!.headers["webhook-signature"]!.split(" ")
      })
      expect(yield* send).toHaveLength(2)
      yield* TestClock.adjust("24 hours")
      expect(yield* send).toHaveLength(1)
      expect(yield* moved(before)).toEqual({ sent: 2, failed: 0, retried: 0, disabled: 0 })
      const [delivered] = (yield* webhooks.deliveries(organizer, endpoint.id, { limit: 1, offset: 0 })).items
      expect(delivered).toMatchObject({ state: "delivered", attempts: 1, lastStatus: 204 })
    })
  )
})
