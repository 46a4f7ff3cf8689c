/**
 * WebhooksRepo's contract, asserted the same way on its memory twin (test/unit/repositories.test.ts)
 * and on PostgreSQL (test/db/repository-contract.test.ts). Compared by what a caller sees, never by
 * ids, which the two stores number differently.
 */
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Either, Option } from "effect"
import { UsersRepo } from "../../src/Accounts/UsersRepo.ts"
import type { UserId } from "../../src/Domain/Ids.ts"
import { EventsRepo } from "../../src/Events/EventsRepo.ts"
import type { WebhookDeliveryId, WebhookEndpointId } from "../../src/Webhooks/Webhook.ts"
import { type NewEndpoint, WebhooksRepo } from "../../src/Webhooks/WebhooksRepo.ts"

type Repositories = UsersRepo | EventsRepo | WebhooksRepo

let counter = 0
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}x${++counter}`

const anOrganizer = Effect.flatMap(
  UsersRepo,
  (users) => users.create({ email: `${unique("hooks")}@example.com`, passwordHash: "$2a$04$hash", role: "ORGANIZER" })
).pipe(
  Effect.map((user) => user.id),
  Effect.orDie
)

const anEvent = (organizerId: UserId) =>
  Effect.flatMap(EventsRepo, (events) =>
    events.create({
      organizerId,
      title: "Hooked",
      description: "",
      date: new Date(Date.now() + 30 * 86_400_000),
      location: "Hall",
      totalTickets: 10
    })).pipe(Effect.orDie)

const endpoint = (organizerId: UserId, fields: Partial<NewEndpoint> = {}): NewEndpoint => ({
  organizerId,
  url: "https://receiver.example.com/hooks",
  description: null,
  events: ["booking.created"],
  secret: `whsec_${unique("s")}`,
  ...fields
})

const created = (organizerId: UserId, fields: Partial<NewEndpoint> = {}) =>
  Effect.flatMap(WebhooksRepo, (repo) => repo.create(endpoint(organizerId, fields), 20)).pipe(Effect.map(Option.getOrThrow))

const MISSING = 2_000_000_000

export const webhooksRepoContract = (it: Vitest.MethodsNonLive<Repositories, true>) => {
  it.effect("WebhooksRepo: an endpoint is its organizer's alone; listed oldest first and paged; at most `max` each", () =>
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const [ann, bob] = [yield* anOrganizer, yield* anOrganizer]
      const first = yield* created(ann, { description: "CRM", events: ["booking.created", "event.updated"] })
      expect(first).toMatchObject({
        organizerId: ann,
        url: "https://receiver.example.com/hooks",
        description: "CRM",
        events: ["booking.created", "event.updated"],
        enabled: true,
        disabledReason: null,
        previousSecret: null,
        previousSecretUntil: null
      })
      expect(yield* repo.find(ann, first.id)).toEqual(Option.some(first))
      expect(yield* repo.findById(first.id)).toEqual(Option.some(first))
      expect(yield* repo.find(bob, first.id)).toEqual(Option.none())
      expect(yield* repo.find(ann, MISSING as WebhookEndpointId)).toEqual(Option.none())

      const second = yield* created(ann, { url: "https://two.example.com/" })
      expect(yield* repo.create(endpoint(ann), 2)).toEqual(Option.none())
      const page = yield* repo.list(ann, { limit: 1, offset: 1 })
      expect(page).toEqual({ items: [second], total: 2 })
      expect((yield* repo.list(ann, { limit: 10, offset: 0 })).items.map((row) => row.url)).toEqual([first.url, second.url])
      expect(yield* repo.list(bob, { limit: 10, offset: 0 })).toEqual({ items: [], total: 0 })
    }))

  it.effect("WebhooksRepo: update, rotate, disable once, re-enable, remove: another organizer's is none", () =>
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const [ann, bob] = [yield* anOrganizer, yield* anOrganizer]
      const row = yield* created(ann)
      expect(yield* repo.update(bob, row.id, { enabled: false })).toEqual(Option.none())
      const changed = Option.getOrThrow(yield* repo.update(ann, row.id, { url: "https://new.example.com/", events: ["ping"] }))
      expect(changed).toMatchObject({ url: "https://new.example.com/", events: ["ping"], enabled: true, secret: row.secret })

      const until = new Date(Date.now() + 86_400_000)
      expect(yield* repo.rotate(bob, row.id, "whsec_bob", until)).toEqual(Option.none())
      const rotated = Option.getOrThrow(yield* repo.rotate(ann, row.id, "whsec_new", until))
      expect(rotated).toMatchObject({ secret: "whsec_new", previousSecret: row.secret, previousSecretUntil: until })

      const disabled = Option.getOrThrow(yield* repo.disable(row.id, "it answered 410 Gone"))
      expect(disabled).toMatchObject({ enabled: false, disabledReason: "it answered 410 Gone" })
      expect(yield* repo.disable(row.id, "again")).toEqual(Option.none())
      const enabled = Option.getOrThrow(yield* repo.update(ann, row.id, { enabled: true }))
      expect(enabled).toMatchObject({ enabled: true, disabledReason: null })

      expect(yield* repo.remove(bob, row.id)).toBe(false)
      expect(yield* repo.remove(ann, row.id)).toBe(true)
      expect(yield* repo.remove(ann, row.id)).toBe(false)
      expect(yield* repo.findById(row.id)).toEqual(Option.none())
    }))

  it.effect("WebhooksRepo: fan-out makes one pending delivery per enabled endpoint of the event's organizer that listens, once per key", () =>
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const [ann, bob] = [yield* anOrganizer, yield* anOrganizer]
      const event = yield* anEvent(ann)
      const listening = yield* created(ann, { events: ["booking.created", "booking.cancelled"] })
      const deaf = yield* created(ann, { events: ["event.updated"] })
      const off = yield* created(ann)
      yield* repo.disable(off.id, "test")
      const others = yield* created(bob)
      const key = unique("job")

      const added = yield* repo.fanOut({ eventKey: key, eventId: event.id, type: "booking.created", body: "{\"a\":1}" })
      expect(added).toHaveLength(1)
      expect(added[0]).toMatchObject({
        endpointId: listening.id,
        eventKey: key,
        eventType: "booking.created",
        body: "{\"a\":1}",
        state: "pending",
        attempts: 0,
        roundStart: 0,
        lastStatus: null,
        lastError: null
      })
      expect(added[0]!.messageId).toMatch(/^msg_[0-9a-f]{32}$/)
      expect(yield* repo.fanOut({ eventKey: key, eventId: event.id, type: "booking.created", body: "{}" })).toEqual([])
      expect(yield* repo.findDelivery(added[0]!.id)).toEqual(Option.some(added[0]))
      for (const id of [deaf.id, off.id, others.id]) expect((yield* repo.deliveries(id, { limit: 10, offset: 0 })).total).toBe(0)
    }))

  it.effect("WebhooksRepo: an attempt is recorded once, in order; a delivery is requeued only when not pending; listed newest first", () =>
    Effect.gen(function*() {
      const repo = yield* WebhooksRepo
      const ann = yield* anOrganizer
      const row = yield* created(ann)
      const ping = yield* repo.addDelivery(row.id, { eventKey: unique("ping"), type: "ping", body: "{}" })
      const later = new Date(Date.now() + 5000)
      const failed = { state: "pending" as const, lastStatus: 500, lastError: "answered 500", nextAttemptAt: later }
      expect(yield* repo.recordAttempt(ping.id, 2, failed)).toBe(false)
      expect(yield* repo.recordAttempt(ping.id, 1, failed)).toBe(true)
      expect(yield* repo.recordAttempt(ping.id, 1, failed)).toBe(false)
      expect(Option.getOrThrow(yield* repo.findDelivery(ping.id))).toMatchObject({ attempts: 1, ...failed })
      expect(yield* repo.requeue(row.id, ping.id)).toEqual(Either.left("pending"))

      const gaveUp = { state: "failed" as const, lastStatus: null, lastError: "timed out", nextAttemptAt: null }
      expect(yield* repo.recordAttempt(ping.id, 2, gaveUp)).toBe(true)
      const requeued = yield* repo.requeue(row.id, ping.id)
      expect(Either.getOrThrow(requeued)).toMatchObject({ state: "pending", attempts: 2, roundStart: 2, messageId: ping.messageId })
      expect(yield* repo.requeue(row.id, MISSING as WebhookDeliveryId)).toEqual(Either.left("missing"))
      const other = yield* created(ann)
      expect(yield* repo.requeue(other.id, ping.id)).toEqual(Either.left("missing"))

      yield* repo.abandon(ping.id, "the endpoint is disabled")
      expect(Option.getOrThrow(yield* repo.findDelivery(ping.id))).toMatchObject({
        state: "failed",
        lastError: "the endpoint is disabled",
        nextAttemptAt: null
      })

      const second = yield* repo.addDelivery(row.id, { eventKey: unique("ping"), type: "ping", body: "{}" })
      const page = yield* repo.deliveries(row.id, { limit: 10, offset: 0 })
      expect(page.total).toBe(2)
      expect(page.items.map((item) => item.id)).toEqual([second.id, ping.id])
      yield* repo.remove(ann, row.id)
      expect(yield* repo.findDelivery(second.id)).toEqual(Option.none())
    }))
}
