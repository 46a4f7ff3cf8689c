/**
 * With OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP/HTTP receiver (here, one in the test):
 * the request, the service and repository calls, SQL, the engine's batch, and the confirmation (and
 * cancellation) job, whose span is in a trace of its own, linked to the request that committed it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Ref } from "effect"
import { createServer } from "node:http"
import { eventually, fastJobs, jobsApp, smtp } from "../support/jobs.ts"
import { createEvent, request, signUp } from "../support/server.ts"
import { startSmtpSink } from "../support/smtpSink.ts"

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
}

/** Collects the spans POSTed to `<url>/v1/traces` (OTLP/HTTP, JSON), and the headers they came with. */
const otlpReceiver = Effect.gen(function*() {
  const spans = yield* Ref.make<ReadonlyArray<OtlpSpan>>([])
  const headers = yield* Ref.make<ReadonlyArray<Record<string, unknown>>>([])
  const server = createServer((req, res) => {
    let body = ""
    req.on("data", (chunk) => (body += chunk))
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") {
        const received = (JSON.parse(body).resourceSpans as Array<any>).flatMap((resource) =>
          (resource.scopeSpans as Array<any>).flatMap((scope) => scope.spans as Array<OtlpSpan>)
        )
        Effect.runSync(Ref.update(spans, (all) => [...all, ...received]))
        Effect.runSync(Ref.update(headers, (all) => [...all, req.headers]))
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, spans: Ref.get(spans), headers: Ref.get(headers) }
})

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes.find((attribute) => attribute.key === key)?.value
  return value === undefined ? undefined : Object.values(value)[0]
}

describe("tracing over OTLP", () => {
  it.live(
    "a booking's request, batch, SQL and confirmation job are exported; the job's span links to the request",
    () =>
      Effect.gen(function*() {
        const receiver = yield* otlpReceiver
        const sink = yield* startSmtpSink
        const app = jobsApp({
          ...fastJobs,
          ...smtp(sink.url),
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=secret-for-tests",
          OTEL_SERVICE_NAME: "event-booking-test",
          OTEL_BSP_SCHEDULE_DELAY: 100
        })
        yield* Effect.gen(function*() {
          const organizer = yield* signUp("ORGANIZER")
          const customer = yield* signUp("CUSTOMER")
          const event = yield* createEvent(organizer.token)
          const booked = yield* request("POST", "/api/bookings", { token: customer.token, json: { eventId: event.id, ticketsCount: 2 } })
          expect(booked.status).toBe(201)
          yield* eventually(sink.received, (mails) => mails.length === 1)

          const spans = yield* eventually(receiver.spans, (all) => all.some((span) => span.name === "job BookingsConfirmed"))
          const job = spans.find((span) => span.name === "job BookingsConfirmed")!
          const book = spans.find((span) => span.name === "Bookings.book" && attribute(span, "event.id") === event.id)!
          expect(book).toBeDefined()
          expect(attribute(book, "booking.tickets")).toBe(2)

          // The request's trace: the server span (kind 2) with its route, and Bookings.book inside it.
          const server = spans.find((span) => span.traceId === book.traceId && span.kind === 2)!
          expect(attribute(server, "http.route")).toBe("/api/bookings")
          expect(attribute(server, "http.response.status_code")).toBe(201)

          // The job: a consumer span (kind 5) in a trace of its own, linked to the booking request.
          expect(job.kind).toBe(5)
          expect(job.traceId).not.toBe(book.traceId)
          expect(job.links).toEqual([expect.objectContaining({ traceId: book.traceId, spanId: book.spanId })])
          expect(attribute(job, "job.queue")).toBe("email-queue")
          const inJob = spans.filter((span) => span.traceId === job.traceId).map((span) => span.name)
          expect(inJob).toEqual(expect.arrayContaining(["JobProcessor.process", "Deliveries.onceEach", "Mailer.send", "sql.execute"]))

          // The batch that decided the booking links to it too, and ran its SQL in its own trace.
          const batch = spans.find((span) =>
            span.name === "Inventory.commitBatch" && span.links.some((link) => link.spanId === book.spanId)
          )!
          expect(attribute(batch, "inventory.batch_size")).toBe(1)
          const inBatch = spans.filter((span) => span.traceId === batch.traceId).map((span) => span.name)
          expect(inBatch).toEqual(expect.arrayContaining(["InventoryRepo.applyEach", "Outbox.append", "sql.transaction", "sql.execute"]))

          // Any change through the engine: the cancellation's email links to the cancelling request.
          const cancelled = yield* request("DELETE", `/api/bookings/${booked.body.id}`, { token: customer.token })
          expect(cancelled.status).toBe(200)
          yield* eventually(sink.received, (mails) => mails.length === 2)
          const later = yield* eventually(receiver.spans, (all) => all.some((span) => span.name === "job BookingCancelled"))
          const cancelJob = later.find((span) => span.name === "job BookingCancelled")!
          const cancel = later.find((span) => span.name === "Bookings.cancel" && attribute(span, "booking.id") === booked.body.id)!
          expect(cancelJob.links).toEqual([expect.objectContaining({ traceId: cancel.traceId, spanId: cancel.spanId })])
          expect(later.some((span) => span.name === "Inventory.commitBatch" && span.links.some((link) => link.spanId === cancel.spanId)))
            .toBe(true)

          expect((yield* receiver.headers).every((headers) => headers["x-api-key"] === "secret-for-tests")).toBe(true)
        }).pipe(Effect.provide(app))
      }).pipe(Effect.scoped),
    60_000
  )
})
