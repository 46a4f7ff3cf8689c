/**
 * What the service counts, as Effect metrics (process-wide), scraped in Prometheus' format on
 * METRICS_PORT (src/MetricsServer.ts). Updates on the request path reuse label arrays made once per
 * route and status: Effect finds a labelled series by the array's identity, so a fresh array per
 * request would cost a key, a hash and a map lookup every time.
 */
import { Effect, Metric, MetricBoundaries, MetricLabel } from "effect"
import * as FindMyWay from "find-my-way-ts"

export const labels = (...pairs: ReadonlyArray<readonly [string, string]>) => pairs.map(([key, value]) => MetricLabel.make(key, value))

/** Label arrays made on first use, then reused (shared with the metrics other folders record, e.g. Jobs/QueueMetrics.ts). */
export const labelCache = <K>(make: (key: K) => ReadonlyArray<MetricLabel.MetricLabel>) => {
  const cache = new Map<K, ReadonlyArray<MetricLabel.MetricLabel>>()
  return (key: K) => {
    let found = cache.get(key)
    if (found === undefined) cache.set(key, found = make(key))
    return found
  }
}

// HTTP

const httpRequests = Metric.counter("http_requests_total", {
  description: "HTTP requests answered, by method, route and status",
  incremental: true
})

const httpDuration = Metric.histogram(
  "http_request_duration_seconds",
  MetricBoundaries.fromIterable([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "Time to answer an HTTP request, by method and route"
)

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** Records one request of `method` on `route`; label arrays are made on the first request of each status. */
const routeSeries = (method: string, route: string) => {
  const base = labels(["method", method], ["route", route])
  const withStatus = labelCache((status: number) => [...base, MetricLabel.make("status", String(status))])
  return (status: number, seconds: number) => {
    httpRequests.unsafeUpdate(1, withStatus(status))
    httpDuration.unsafeUpdate(seconds, base)
  }
}

/** A route's recorders, one per request method seen on it (HEAD on GET routes, any on "*" routes). */
const routeRecorders = (route: string) => {
  const byMethod = new Map<string, ReturnType<typeof routeSeries>>()
  return (method: string) => {
    let record = byMethod.get(method)
    if (record === undefined) byMethod.set(method, record = routeSeries(method, route))
    return record
  }
}

export interface RequestMetrics {
  readonly record: (method: string, url: string, status: number, seconds: number) => void
}

/** Paths remembered per method before the memory is cleared (ids in paths make them many). */
const MATCHES_KEPT = 1000

/**
 * Request counts and latencies by route, for the routes the server has. A request is matched as
 * the platform's router matches it (the same find-my-way router with its defaults, HEAD answered
 * by GET routes); anything else counts under route "unmatched", and odd methods as "other".
 * Matching costs ~0.6 µs, so the match of each path is remembered (the busy paths are few).
 */
export const requestMetrics = (routes: Iterable<{ readonly method: string; readonly path: string }>): RequestMetrics => {
  const router = FindMyWay.make<ReturnType<typeof routeRecorders>>()
  for (const { method, path } of routes) {
    const recorders = routeRecorders(path)
    if (method === "*") router.all(path as FindMyWay.PathInput, recorders)
    else router.on(method, path as FindMyWay.PathInput, recorders)
  }
  const unmatched = routeRecorders("unmatched")
  const matched = new Map<string, Map<string, ReturnType<typeof routeSeries>>>()

  const match = (rawMethod: string, path: string) => {
    const found = router.find(rawMethod, path) ?? (rawMethod === "HEAD" ? router.find("GET", path) : undefined)
    return (found === undefined ? unmatched : found.handler)(KNOWN_METHODS.has(rawMethod) ? rawMethod : "other")
  }

  return {
    record: (method, url, status, seconds) => {
      const query = url.indexOf("?")
      const path = query === -1 ? url : url.slice(0, query)
      let paths = matched.get(method)
      if (paths === undefined) {
        if (!KNOWN_METHODS.has(method)) return match(method, path)(status, seconds)
        matched.set(method, paths = new Map())
      }
      let record = paths.get(path)
      if (record === undefined) {
        if (paths.size >= MATCHES_KEPT) paths.clear()
        paths.set(path, record = match(method, path))
      }
      record(status, seconds)
    }
  }
}

// Bookings

const bookings = Metric.counter("bookings_total", { description: "Bookings committed", incremental: true }).register()
const ticketsSold = Metric.counter("tickets_sold_total", { description: "Tickets sold by committed bookings", incremental: true })
  .register()
const bookingBatchSize = Metric.histogram(
  "booking_batch_size",
  MetricBoundaries.fromIterable([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]),
  "Changes of one event's tickets (bookings, cancellations, holds...) decided by one transaction (the per-event group commit)"
)
const bookingsCancelled = Metric.counter("bookings_cancelled_total", {
  description: "Bookings cancelled by their customers",
  incremental: true
})
  .register()
const holdsPlaced = Metric.counter("holds_placed_total", {
  description: "Holds placed (waiting-list offers included)",
  incremental: true
}).register()
const holdsExpired = Metric.counter("holds_expired_total", { description: "Holds that expired unconfirmed", incremental: true })
  .register()

/** A committed batch: how many requests it decided, how many bookings it made and their tickets. */
export const recordBookingBatch = (requests: number, booked: number, tickets: number) =>
  Effect.sync(() => {
    bookingBatchSize.unsafeUpdate(requests, [])
    if (booked > 0) {
      bookings.unsafeUpdate(booked, [])
      ticketsSold.unsafeUpdate(tickets, [])
    }
  })

const inventoryBatches = Metric.counter("inventory_batches_total", {
  description: "Engine transactions by what their events' state was: read under the lock, remembered (one round trip), " +
    "or remembered and changed since (decided again on a read)",
  incremental: true
})
const batchLabels = {
  read: labels(["state", "read"]),
  remembered: labels(["state", "remembered"]),
  stale: labels(["state", "stale"])
}
type BatchState = keyof typeof batchLabels

/** An engine transaction, by what its events' state was (Inventory/Remembered.ts). */
export const recordInventoryBatch = (state: BatchState) => Effect.sync(() => inventoryBatches.unsafeUpdate(1, batchLabels[state]))

/** How many engine transactions so far had that state (for tests and benchmarks). */
export const inventoryBatchCount = (state: BatchState) =>
  Effect.map(Metric.value(Metric.taggedWithLabels(inventoryBatches, batchLabels[state])), ({ count }) => Number(count))

/** What else a committed batch did to its event's tickets. */
export const recordTicketChanges = (changes: { readonly cancelled: number; readonly holdsPlaced: number; readonly holdsExpired: number }) =>
  Effect.sync(() => {
    if (changes.cancelled > 0) bookingsCancelled.unsafeUpdate(changes.cancelled, [])
    if (changes.holdsPlaced > 0) holdsPlaced.unsafeUpdate(changes.holdsPlaced, [])
    if (changes.holdsExpired > 0) holdsExpired.unsafeUpdate(changes.holdsExpired, [])
  })

// Emails

const emailsSent = Metric.counter("emails_sent_total", { description: "Emails handed to the mail server, by kind", incremental: true })
const emailsFailed = Metric.counter("emails_failed_total", {
  description: "Emails whose sending failed (the job is retried), by kind",
  incremental: true
})
const kindLabels = labelCache((kind: string) => labels(["kind", kind]))

export const recordEmail = (kind: string, outcome: "sent" | "failed") =>
  Effect.sync(() => (outcome === "sent" ? emailsSent : emailsFailed).unsafeUpdate(1, kindLabels(kind)))

// Webhooks (their queue's depth is queue_jobs{queue="webhook-queue"}, Jobs/QueueMetrics.ts)

const webhookAttempts = {
  sent: Metric.counter("webhook_deliveries_sent_total", {
    description: "Webhook attempts a receiver answered with 2xx (delivered)",
    incremental: true
  }).register(),
  failed: Metric.counter("webhook_deliveries_failed_total", {
    description: "Webhook attempts that failed (no answer in time, refused, or not 2xx)",
    incremental: true
  }).register(),
  retried: Metric.counter("webhook_deliveries_retried_total", {
    description: "Retries of failed webhook deliveries scheduled",
    incremental: true
  }).register()
}
const webhookEndpointsDisabled = Metric.counter("webhook_endpoints_disabled_total", {
  description: "Webhook endpoints disabled because their deliveries gave up or they answered 410 Gone",
  incremental: true
}).register()

export const recordWebhookAttempt = (outcome: "sent" | "failed" | "retried") =>
  Effect.sync(() => webhookAttempts[outcome].unsafeUpdate(1, []))

export const recordWebhookEndpointDisabled = Effect.sync(() => webhookEndpointsDisabled.unsafeUpdate(1, []))
