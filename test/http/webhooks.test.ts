/**
 * The webhook endpoints over HTTP, in memory: organizers only, each sees only its own endpoints,
 * the secret is shown only when made or rotated, bad input is a 400 that names it and changes
 * nothing, and a ping or a retry is queued as a job.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { MemoryServer, request, signUp } from "../support/server.ts"

const make = (token: string, json: unknown = { url: "https://receiver.example.com/hooks", events: ["booking.created"] }) =>
  request("POST", "/api/webhooks", { token, json })

const total = (token: string) => Effect.map(request("GET", "/api/webhooks", { token }), (response) => response.headers["x-total-count"])

layer(MemoryServer(), { excludeTestServices: true })("webhook endpoints", (it) => {
  it.effect("an organizer registers one: 201 with its whsec_ secret, which GET and the list never show", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      const created = yield* make(token, {
        url: "https://receiver.example.com/hooks",
        events: ["booking.created", "booking.cancelled", "booking.created"],
        description: "  CRM  "
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({
        url: "https://receiver.example.com/hooks",
        events: ["booking.created", "booking.cancelled"],
        description: "CRM",
        enabled: true,
        disabledReason: null,
        previousSecretExpiresAt: null
      })
      expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)

      const got = yield* request("GET", `/api/webhooks/${created.body.id}`, { token })
      expect(got.status).toBe(200)
      const { secret: _, ...shown } = created.body
      expect(got.body).toEqual(shown)
      const list = yield* request("GET", "/api/webhooks", { token })
      expect(list.body).toEqual([shown])
      expect(list.headers["x-total-count"]).toBe("1")
      expect(list.text).not.toContain(created.body.secret)
    }))

  it.effect("customers get 403 and anonymous callers 401 on every webhook endpoint", () =>
    Effect.gen(function*() {
      const customer = yield* signUp("CUSTOMER")
      const routes = [
        ["POST", "/api/webhooks"],
        ["GET", "/api/webhooks"],
        ["GET", "/api/webhooks/1"],
        ["PATCH", "/api/webhooks/1"],
        ["DELETE", "/api/webhooks/1"],
        ["POST", "/api/webhooks/1/rotate-secret"],
        ["POST", "/api/webhooks/1/test"],
        ["GET", "/api/webhooks/1/deliveries"],
        ["POST", "/api/webhooks/1/deliveries/1/retry"]
      ] as const
      for (const [method, path] of routes) {
        const json = method === "POST" && path === "/api/webhooks"
          ? { url: "https://a.example.com/", events: ["ping"] }
          : method === "PATCH"
          ? { enabled: false }
          : undefined
        const asCustomer = yield* request(method, path, { token: customer.token, ...(json === undefined ? {} : { json }) })
        expect({ method, path, status: asCustomer.status, code: asCustomer.body?.code }).toEqual({
          method,
          path,
          status: 403,
          code: "Forbidden"
        })
        const anonymous = yield* request(method, path, json === undefined ? {} : { json })
        expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 })
      }
    }))

  it.effect("another organizer's endpoint is 404 WebhookNotFound everywhere, and stays as it was", () =>
    Effect.gen(function*() {
      const owner = yield* signUp("ORGANIZER")
      const other = yield* signUp("ORGANIZER")
      const { body: endpoint } = yield* make(owner.token)
      const id = endpoint.id
      const attempts = [
        request("GET", `/api/webhooks/${id}`, { token: other.token }),
        request("PATCH", `/api/webhooks/${id}`, { token: other.token, json: { enabled: false } }),
        request("DELETE", `/api/webhooks/${id}`, { token: other.token }),
        request("POST", `/api/webhooks/${id}/rotate-secret`, { token: other.token }),
        request("POST", `/api/webhooks/${id}/test`, { token: other.token }),
        request("GET", `/api/webhooks/${id}/deliveries`, { token: other.token }),
        request("POST", `/api/webhooks/${id}/deliveries/1/retry`, { token: other.token })
      ]
      for (const attempt of attempts) {
        const response = yield* attempt
        expect(response.status).toBe(404)
        expect(response.body).toEqual({ status: 404, code: "WebhookNotFound", message: `Webhook endpoint ${id} not found` })
      }
      const { secret: _, ...unchanged } = endpoint
      expect((yield* request("GET", `/api/webhooks/${id}`, { token: owner.token })).body).toEqual(unchanged)
      expect((yield* request("GET", "/api/webhooks", { token: other.token })).body).toEqual([])
    }))

  it.effect("bad input is a 400 naming what is wrong, and registers nothing", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      const cases: ReadonlyArray<readonly [unknown, string, string]> = [
        [{ url: "ftp://files.example.com/", events: ["ping"] }, "InvalidWebhookUrl", "scheme"],
        [{ url: "not a url", events: ["ping"] }, "InvalidWebhookUrl", "absolute"],
        [{ url: "http://127.0.0.1:9000/hooks", events: ["ping"] }, "InvalidWebhookUrl", "127.0.0.1"],
        [{ url: "http://localhost/hooks", events: ["ping"] }, "InvalidWebhookUrl", "localhost"],
        [{ url: `https://a.example.com/${"x".repeat(2048)}`, events: ["ping"] }, "ValidationError", "2048"],
        [{ url: "https://a.example.com/", events: [] }, "ValidationError", "at least one event type"],
        [{ url: "https://a.example.com/", events: ["booking.made"] }, "ValidationError", "booking.created"],
        [{ url: "https://a.example.com/" }, "ValidationError", "events"],
        [{ url: "https://a.example.com/", events: ["ping"], description: "x".repeat(501) }, "ValidationError", "500"],
        [{ url: "https://a.example.com/", events: ["ping"], secret: "whsec_mine" }, "ValidationError", "secret"]
      ]
      for (const [json, code, named] of cases) {
        const response = yield* make(token, json)
        expect({ json, status: response.status, code: response.body.code }).toEqual({ json, status: 400, code })
        expect(response.body.message).toContain(named)
      }
      expect(yield* total(token)).toBe("0")

      const { body: endpoint } = yield* make(token)
      const patched = yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token, json: { url: "gopher://x.example.com/" } })
      expect(patched.status).toBe(400)
      expect(patched.body.code).toBe("InvalidWebhookUrl")
      const empty = yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token, json: {} })
      expect(empty.status).toBe(400)
      expect(empty.body.message).toContain("at least one of url, events, enabled")
      expect((yield* request("GET", `/api/webhooks/${endpoint.id}`, { token })).body.url).toBe(endpoint.url)
    }))

  it.effect("PATCH changes url, events and enabled; DELETE is 204, then 404", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      const { body: endpoint } = yield* make(token)
      const patched = yield* request("PATCH", `/api/webhooks/${endpoint.id}`, {
        token,
        json: { url: "https://new.example.com/in", events: ["event.updated", "hold.expired"], enabled: false }
      })
      expect(patched.status).toBe(200)
      expect(patched.body).toMatchObject({ url: "https://new.example.com/in", events: ["event.updated", "hold.expired"], enabled: false })
      expect(patched.body.secret).toBeUndefined()
      const removed = yield* request("DELETE", `/api/webhooks/${endpoint.id}`, { token })
      expect(removed.status).toBe(204)
      expect((yield* request("GET", `/api/webhooks/${endpoint.id}`, { token })).status).toBe(404)
      expect((yield* request("DELETE", `/api/webhooks/${endpoint.id}`, { token })).status).toBe(404)
    }))

  it.effect("rotate-secret answers a new secret, once; the old one is marked as signing for 24 hours more", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      const { body: endpoint } = yield* make(token)
      const before = Date.now()
      const rotated = yield* request("POST", `/api/webhooks/${endpoint.id}/rotate-secret`, { token })
      expect(rotated.status).toBe(200)
      expect(rotated.body.secret).toMatch(/^whsec_/)
      expect(rotated.body.secret).not.toBe(endpoint.secret)
      const until = Date.parse(rotated.body.previousSecretExpiresAt)
      expect(until).toBeGreaterThanOrEqual(before + 24 * 3_600_000)
      expect(until).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000)
      const got = yield* request("GET", `/api/webhooks/${endpoint.id}`, { token })
      expect(got.body.secret).toBeUndefined()
      expect(got.body.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt)
    }))

  it.effect("test queues a ping delivery (202) as a job; its retry is 409 while pending; a disabled endpoint is 409", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      const { body: endpoint } = yield* make(token)
      const tested = yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token })
      expect(tested.status).toBe(202)
      expect(tested.body).toMatchObject({ eventType: "ping", state: "pending", attempts: 0, lastStatus: null, lastError: null })
      expect(tested.body.webhookId).toMatch(/^msg_/)
      const jobs = (yield* Ref.get(yield* EnqueuedJobs)).filter((job) => job._tag === "WebhookAttempt" && job.deliveryId === tested.body.id)
      expect(jobs).toEqual([{ _tag: "WebhookAttempt", deliveryId: tested.body.id, attempt: 1, notBefore: null }])

      const deliveries = yield* request("GET", `/api/webhooks/${endpoint.id}/deliveries`, { token })
      expect(deliveries.status).toBe(200)
      expect(deliveries.body).toEqual([tested.body])
      expect(deliveries.headers["x-total-count"]).toBe("1")

      const retry = yield* request("POST", `/api/webhooks/${endpoint.id}/deliveries/${tested.body.id}/retry`, { token })
      expect(retry.status).toBe(409)
      expect(retry.body.code).toBe("DeliveryPending")
      const unknown = yield* request("POST", `/api/webhooks/${endpoint.id}/deliveries/2000000000/retry`, { token })
      expect(unknown.status).toBe(404)
      expect(unknown.body.code).toBe("WebhookDeliveryNotFound")

      yield* request("PATCH", `/api/webhooks/${endpoint.id}`, { token, json: { enabled: false } })
      const disabled = yield* request("POST", `/api/webhooks/${endpoint.id}/test`, { token })
      expect(disabled.status).toBe(409)
      expect(disabled.body.code).toBe("WebhookDisabled")
    }))

  it.effect("an organizer has at most 20 endpoints: the 21st is 409 TooManyWebhooks", () =>
    Effect.gen(function*() {
      const { token } = yield* signUp("ORGANIZER")
      for (let i = 0; i < 20; i++) expect((yield* make(token)).status).toBe(201)
      const refused = yield* make(token)
      expect(refused.status).toBe(409)
      expect(refused.body.code).toBe("TooManyWebhooks")
      expect(yield* total(token)).toBe("20")
      const page = yield* request("GET", "/api/webhooks?limit=5&offset=5", { token })
      expect(page.body).toHaveLength(5)
      expect(page.headers.link).toContain("rel=\"next\"")
    }))

  it.effect("the OpenAPI document tells a receiver how to verify a signature", () =>
    Effect.gen(function*() {
      const { body: spec } = yield* request("GET", "/api/openapi.json")
      const create = spec.paths["/api/webhooks"].post
      expect(create.responses["201"]).toBeDefined()
      expect(create.description).toContain("webhook-signature")
      expect(create.description).toContain("HMAC-SHA256")
      expect(spec.paths["/api/webhooks/{id}/rotate-secret"].post.description).toContain("24 hours")
    }))
})
