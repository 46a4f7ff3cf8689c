/**
 * The background work's gauges (outbox backlog, jobs per queue and state, whether the queue backend
 * answers), set from a queue health report when the metrics are scraped (src/MetricsServer.ts).
 */
import { Effect, Metric } from "effect"
import { labelCache, labels } from "../Telemetry/Metrics.ts"
import type { QueueHealthReport } from "./QueueHealth.ts"

const outboxPending = Metric.gauge("outbox_pending_jobs", { description: "Jobs committed but not yet published to the queues" })
const outboxOldest = Metric.gauge("outbox_oldest_pending_seconds", { description: "Age of the oldest unpublished job (0: none)" })
const queueJobs = Metric.gauge("queue_jobs", { description: "Jobs in each queue, by state" })
const queueBackendUp = Metric.gauge("queue_backend_up", {
  description: "1 when the queue backend (Redis or PostgreSQL) answered the last scrape"
})
const queueStateLabels = labelCache((key: string) => {
  const [queue, state] = key.split("/") as [string, string]
  return labels(["queue", queue], ["state", state])
})
const QUEUE_STATES = ["waiting", "active", "delayed", "failed", "completed"] as const

/** Sets the gauges from a queue health report. While the backend is unreachable, queue depths keep their last values. */
export const recordQueueHealth = (report: QueueHealthReport) =>
  Effect.sync(() => {
    outboxPending.unsafeUpdate(report.outbox.pending, [])
    outboxOldest.unsafeUpdate(report.outbox.oldestPendingSeconds ?? 0, [])
    queueBackendUp.unsafeUpdate(report.backend.reachable ? 1 : 0, [])
    for (const queue of report.queues) {
      for (const state of QUEUE_STATES) queueJobs.unsafeUpdate(queue[state], queueStateLabels(`${queue.name}/${state}`))
    }
  })
