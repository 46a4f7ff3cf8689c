/**
 * GET /metrics on METRICS_PORT, read with a real Prometheus text parser: requests by route and
 * status with their latency histogram, bookings and tickets, batch sizes, the outbox and queues.
 */
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import parsePrometheusTextFormat, { type Family, type Sample } from "parse-prometheus-text-format"
import { QueueHealth } from "../../src/Jobs/QueueHealth.ts"
import { MetricsServerLive } from "../../src/MetricsServer.ts"
import { freePort } from "../support/process.ts"
import { client, createEvent, MemoryServer, request, signUp, stubQueueHealth } from "../support/server.ts"

const port = await freePort()
const metricsUrl = `http://127.0.0.1:${port}`

const get = (path: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${metricsUrl}${path}`)
    return { status: response.status, contentType: response.headers.get("content-type"), text: await response.text() }
  })

const scrapeText = Effect.map(get("/metrics"), (response) => {
  expect(response.status).toBe(200)
  expect(response.contentType).toBe("text/plain; version=0.0.4; charset=utf-8")
  return response.text
})
const scrape = Effect.map(scrapeText, parsePrometheusTextFormat)

/**
 * One labelled histogram series, parsed on its own: the parser folds every series of a histogram
 * family into one and drops labelled `_sum`/`_count` lines (it only handles unlabelled
 * histograms), so it is given the series' lines with their labels other than `le` taken off.
 */
const histogramSeries = (text: string, name: string, labels: Record<string, string>) => {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`)
  const lines = text.split("\n").filter((line) =>
    /^\w+/.exec(line)?.[0].replace(/_(bucket|sum|count)$/, "") === name && wanted.every((pair) => line.includes(pair))
  )
  const unlabelled = lines.map((line) =>
    line.replace(/\{([^}]*)\}/, (_, inner: string) => {
      const le = /le="[^"]*"/.exec(inner)
      return le === null ? "" : `{${le[0]}}`
    })
  )
  return parsePrometheusTextFormat([`# TYPE ${name} histogram`, ...unlabelled, ""].join("\n"))[0]?.metrics[0]
}

const family = (families: ReadonlyArray<Family>, name: string) => families.find((f) => f.name === name)

/** The sample of `name` whose labels include `labels`; none: undefined. */
const sampleOf = (families: ReadonlyArray<Family>, name: string, labels: Record<string, string> = {}): Sample | undefined =>
  family(families, name)?.metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))

/** A counter's or gauge's value; a series not yet there counts as 0. */
const valueOf = (families: ReadonlyArray<Family>, name: string, labels: Record<string, string> = {}) =>
  Number(sampleOf(families, name, labels)?.value ?? 0)

const countOf = (families: ReadonlyArray<Family>, name: string, labels: Record<string, string> = {}) =>
  Number(sampleOf(families, name, labels)?.count ?? 0)

const QueueHealthStub = Layer.succeed(QueueHealth, { report: Effect.succeed(stubQueueHealth) })

const WithMetrics = MetricsServerLive.pipe(
  Layer.provideMerge(MemoryServer({ METRICS_PORT: port })),
  Layer.provide(QueueHealthStub)
)

layer(WithMetrics, { excludeTestServices: true })("METRICS_PORT set", (it) => {
  it.effect("a booking moves the booking, ticket, batch and request series", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const customer = yield* signUp("CUSTOMER")
      const event = yield* createEvent(organizer.token, { totalTickets: 10 })
      const api = yield* client(customer.token)
      const route = { method: "POST", route: "/api/bookings", status: "201" }

      const beforeText = yield* scrapeText
      yield* api.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 2 } })
      yield* api.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: 3 } })
      const afterText = yield* scrapeText
      const [before, after] = [parsePrometheusTextFormat(beforeText), parsePrometheusTextFormat(afterText)]

      expect(family(after, "bookings_total")?.type).toBe("COUNTER")
      expect(valueOf(after, "bookings_total") - valueOf(before, "bookings_total")).toBe(2)
      expect(valueOf(after, "tickets_sold_total") - valueOf(before, "tickets_sold_total")).toBe(5)
      expect(family(after, "booking_batch_size")?.type).toBe("HISTOGRAM")
      expect(countOf(after, "booking_batch_size") - countOf(before, "booking_batch_size")).toBe(2)
      expect(valueOf(after, "http_requests_total", route) - valueOf(before, "http_requests_total", route)).toBe(2)

      expect(family(after, "http_request_duration_seconds")?.type).toBe("HISTOGRAM")
      const bookingRoute = { method: "POST", route: "/api/bookings" }
      const latency = histogramSeries(afterText, "http_request_duration_seconds", bookingRoute)!
      expect(Number(latency.count) - Number(histogramSeries(beforeText, "http_request_duration_seconds", bookingRoute)?.count ?? 0))
        .toBe(2)
      expect(Number(latency.buckets!["+Inf"])).toBe(Number(latency.count))
      expect(Number(latency.buckets!["0.005"])).toBeLessThanOrEqual(Number(latency.buckets!["10"]))
      expect(Number(latency.sum)).toBeGreaterThanOrEqual(0)
    }))

  it.effect("bookings made count once (a replayed key, a confirmed hold); cancellations and holds have counters of their own", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const customer = yield* signUp("CUSTOMER")
      const event = yield* createEvent(organizer.token, { totalTickets: 10 })
      const before = yield* scrape
      const key = { "idempotency-key": `metrics-${Date.now()}` }
      const booked = yield* request("POST", "/api/bookings", {
        token: customer.token,
        json: { eventId: event.id, ticketsCount: 2 },
        headers: key
      })
      yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 2 }, headers: key })
      const hold = yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 3 } })
      yield* request("POST", `/api/holds/${hold.body.id}/confirm`, { token: customer.token })
      yield* request("POST", "/api/holds", { token: customer.token, json: { eventId: event.id, ticketsCount: 1 } })
      yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: customer.token })
      const after = yield* scrape
      const moved = (name: string) => valueOf(after, name) - valueOf(before, name)

      expect(moved("bookings_total")).toBe(2)
      expect(moved("tickets_sold_total")).toBe(5)
      expect(moved("bookings_cancelled_total")).toBe(1)
      expect(moved("holds_placed_total")).toBe(2)
      expect(family(after, "holds_expired_total")?.type).toBe("COUNTER")
      expect(countOf(after, "booking_batch_size") - countOf(before, "booking_batch_size")).toBe(5) // the replay never reached the engine
    }))

  it.effect("requests are labelled by route pattern, not by path; unknown routes and methods are bounded", () =>
    Effect.gen(function*() {
      const organizer = yield* signUp("ORGANIZER")
      const event = yield* createEvent(organizer.token)
      const before = yield* scrape
      yield* request("GET", `/api/events/${event.id}`)
      yield* request("PUT", `/api/events/${event.id}`, { token: organizer.token, json: { location: "Hall B" } })
      yield* request("GET", "/api/no-such-thing/42")
      const after = yield* scrape
      const moved = (labels: Record<string, string>) =>
        valueOf(after, "http_requests_total", labels) - valueOf(before, "http_requests_total", labels)

      expect(moved({ method: "PUT", route: "/api/events/:id", status: "200" })).toBe(1)
      expect(moved({ method: "GET", route: "unmatched", status: "404" })).toBe(1)
      const routes = family(after, "http_requests_total")!.metrics.map((sample) => sample.labels!.route!)
      expect(routes.some((route) => /\d/.test(route))).toBe(false)
    }))

  it.effect("the outbox and queue gauges come from the queue health report at scrape time", () =>
    Effect.gen(function*() {
      const families = yield* scrape
      expect(family(families, "outbox_pending_jobs")?.type).toBe("GAUGE")
      expect(valueOf(families, "outbox_pending_jobs")).toBe(0)
      expect(valueOf(families, "queue_backend_up")).toBe(1)
      expect(valueOf(families, "queue_jobs", { queue: "email-queue", state: "waiting" })).toBe(1)
      expect(valueOf(families, "queue_jobs", { queue: "email-queue", state: "completed" })).toBe(2)
    }))

  it.effect("the webhook counters are there from the start (deliveries sent, failed, retried; endpoints disabled)", () =>
    Effect.gen(function*() {
      const families = yield* scrape
      for (
        const name of [
          "webhook_deliveries_sent_total",
          "webhook_deliveries_failed_total",
          "webhook_deliveries_retried_total",
          "webhook_endpoints_disabled_total"
        ]
      ) expect({ name, type: family(families, name)?.type }).toEqual({ name, type: "COUNTER" })
    }))

  it.effect("anything but GET /metrics is a 404 in the API's error shape", () =>
    Effect.gen(function*() {
      const response = yield* get("/api/events")
      expect(response.status).toBe(404)
      expect(JSON.parse(response.text)).toMatchObject({ status: 404, code: "RouteNotFound" })
    }))
})
