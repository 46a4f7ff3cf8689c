/**
 * Idempotency-Key on real PostgreSQL: concurrent duplicates book (hold) once, a request that died
 * after its booking, hold, confirmation or cancellation committed is completed by the retry (never
 * done again), a key whose process died is taken over within seconds, and expiry. The key store's
 * own rules (purging included) are asserted on both stores by its contract (repository-contract.test.ts).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Ref, Schema, Scope } from "effect"
import type { UserId } from "../../src/Domain/Ids.ts"
import { Idempotency } from "../../src/Idempotency/Idempotency.ts"
import { IdempotencyStore } from "../../src/Idempotency/IdempotencyStore.ts"
import { EnqueuedJobs } from "../../src/Jobs/JobQueue.ts"
import { confirmedBookings } from "../support/confirmations.ts"
import { createEvent, PostgresServer, request, signUp } from "../support/server.ts"

const book = (token: string, json: unknown, key: string) =>
  request("POST", "/api/bookings", { token, json, headers: { "idempotency-key": key } })

const ledger = (eventId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ available: number; bookings: number }>`
      SELECT e.available_tickets AS available, (SELECT count(*) FROM bookings b WHERE b.event_id = e.id)::int AS bookings
      FROM events e WHERE e.id = ${eventId}`
    // The test server's job queue is in memory (the outbox's own tests are in outbox.test.ts).
    const jobs = yield* Ref.get(yield* EnqueuedJobs)
    const confirmations = confirmedBookings(jobs, eventId).length
    return { ...row!, confirmations }
  })

const keyRow = (userId: number, key: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ id: string; status: number | null; locked: boolean; ttlHours: number }>`
      SELECT id, status, COALESCE(locked_until > now(), false) AS locked,
             round(extract(epoch FROM expires_at - now()) / 3600)::int AS "ttlHours"
      FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`
    return row
  })

const aScene = (tickets = 100) =>
  Effect.gen(function*() {
    const organizer = yield* signUp("ORGANIZER")
    const customer = yield* signUp("CUSTOMER")
    const event = yield* createEvent(organizer.token, { totalTickets: tickets })
    return { customer, event }
  })

let keys = 0
const aKey = () => `db-key-${process.pid}-${++keys}-${Date.now()}`

describe("Idempotency-Key on PostgreSQL", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("50 concurrent duplicates with one key: one booking; every answer is that 201 (first or replayed) or 409 in progress", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        const responses = yield* Effect.all(
          Array.from({ length: 50 }, () => book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)),
          { concurrency: "unbounded" }
        )
        const created = responses.filter((r) => r.status === 201)
        const inUse = responses.filter((r) => r.status === 409)
        expect(created.length + inUse.length).toBe(50)
        expect(created.filter((r) => r.headers["idempotent-replayed"] === undefined)).toHaveLength(1)
        expect(new Set(created.map((r) => r.text)).size).toBe(1)
        for (const r of inUse) expect(r.body).toMatchObject({ status: 409, code: "IdempotencyKeyInUse" })
        expect(yield* ledger(event.id)).toEqual({ available: 98, bookings: 1, confirmations: 1 })

        const after = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, key)
        expect(after.status).toBe(201)
        expect(after.headers["idempotent-replayed"]).toBe("true")
        expect(after.text).toBe(created[0]!.text)
        expect(yield* keyRow(customer.user.id, key)).toMatchObject({ status: 201, locked: false, ttlHours: 24 })
      }))

    it.effect("a crash after the booking committed but before its response was stored: the retry gets that booking once the lease ends", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { customer, event } = yield* aScene()
        const key = aKey()
        const first = yield* book(customer.token, { eventId: event.id, ticketsCount: 3 }, key)
        expect(first.status).toBe(201)
        // What the database holds when the process died between the booking's COMMIT and storing
        // the response: the booking (with the key's id on it), and the key still held.
        yield* sql`
          UPDATE idempotency_keys SET status = NULL, body = NULL, locked_until = now() + interval '30 seconds'
          WHERE user_id = ${customer.user.id} AND key = ${key}`
        const [{ id }] = yield* sql<{ id: string }>`SELECT idempotency_id AS id FROM bookings WHERE id = ${first.body.id}`
        expect(id).toBe((yield* keyRow(customer.user.id, key))!.id)

        const early = yield* book(customer.token, { eventId: event.id, ticketsCount: 3 }, key)
        expect(early.status).toBe(409)
        expect(early.body.code).toBe("IdempotencyKeyInUse")

        yield* sql`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE user_id = ${customer.user.id} AND key = ${key}`
        const recovered = yield* book(customer.token, { eventId: event.id, ticketsCount: 3 }, key)
        expect(recovered.status).toBe(201)
        expect(recovered.body).toMatchObject({ id: first.body.id, ticketsCount: 3, userId: customer.user.id, eventId: event.id })
        expect(yield* ledger(event.id)).toMatchObject({ available: 97, bookings: 1 })

        const replayed = yield* book(customer.token, { eventId: event.id, ticketsCount: 3 }, key)
        expect(replayed.headers["idempotent-replayed"]).toBe("true")
        expect(replayed.body.id).toBe(first.body.id)
      }))

    it.effect("a crash before anything committed: the retry after the lease books, with the key's id on the booking", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { customer, event } = yield* aScene()
        // The key as a request that died before booking left it (its fingerprint: the same body
        // sent with another key, whose row holds it).
        const probe = aKey()
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, probe)).status).toBe(201)
        const key = aKey()
        yield* sql`
          INSERT INTO idempotency_keys (user_id, key, id, fingerprint, attempt, locked_until, expires_at)
          SELECT user_id, ${key}, gen_random_uuid(), fingerprint, gen_random_uuid(), now() + interval '30 seconds', now() + interval '1 day'
          FROM idempotency_keys WHERE user_id = ${customer.user.id} AND key = ${probe}`
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)).status).toBe(409)
        yield* sql`UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE user_id = ${customer.user.id} AND key = ${key}`

        const retried = yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)
        expect(retried.status).toBe(201)
        const [{ id }] = yield* sql<{ id: string }>`SELECT idempotency_id AS id FROM bookings WHERE id = ${retried.body.id}`
        expect(id).toBe((yield* keyRow(customer.user.id, key))!.id)
        expect(yield* ledger(event.id)).toMatchObject({ available: 98, bookings: 2 })
      }))

    it.effect("an expired key starts afresh: another body books, with a new id", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { customer, event } = yield* aScene()
        const reused = aKey()
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, reused)).status).toBe(201)
        const before = (yield* keyRow(customer.user.id, reused))!
        yield* sql`
          UPDATE idempotency_keys SET expires_at = now() - interval '1 second'
          WHERE user_id = ${customer.user.id} AND key = ${reused}`

        const again = yield* book(customer.token, { eventId: event.id, ticketsCount: 2 }, reused)
        expect(again.status).toBe(201)
        expect(again.headers["idempotent-replayed"]).toBeUndefined()
        expect((yield* keyRow(customer.user.id, reused))!.id).not.toBe(before.id)
        expect(yield* ledger(event.id)).toMatchObject({ available: 97, bookings: 2 })
      }))
  })
})

/** `send` again while it answers 409 IdempotencyKeyInUse, every 200 ms, for at most `seconds`. */
const whileInUse = <A extends { readonly status: number }, E, R>(send: Effect.Effect<A, E, R>, seconds: number) =>
  Effect.gen(function*() {
    for (;;) {
      const response = yield* send
      if (response.status !== 409) return response
      yield* Effect.sleep("200 millis")
    }
  }).pipe(Effect.timeout(`${seconds} seconds`))

/** Holds the event's row lock (as a batch of another process would) until the scope closes. */
const lockEvent = (eventId: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const locked = yield* Deferred.make<void>()
    yield* sql`SELECT 1 FROM events WHERE id = ${eventId} FOR UPDATE`.pipe(
      Effect.zipRight(Deferred.succeed(locked, undefined)),
      Effect.zipRight(Effect.never),
      sql.withTransaction,
      Effect.forkScoped
    )
    yield* Deferred.await(locked)
  })

describe("Idempotency-Key leases on PostgreSQL", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("a key held by a process that died is taken over within seconds (same id, one booking); a running request keeps its key", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { customer, event } = yield* aScene()
        const body = { eventId: event.id, ticketsCount: 2 }
        const probe = aKey()
        expect((yield* book(customer.token, body, probe)).status).toBe(201)
        const [{ fingerprint }] = yield* sql<{ fingerprint: string }>`
          SELECT fingerprint FROM idempotency_keys WHERE user_id = ${customer.user.id} AND key = ${probe}`

        // Another process on the same database (its own Idempotency) takes the key for this very
        // request, and dies while running it: its request never ends, and nothing of it runs any more.
        const key = aKey()
        const other = yield* Scope.make()
        const elsewhere = Context.get(
          yield* Layer.buildWithScope(Idempotency.layer.pipe(Layer.provide(IdempotencyStore.layer)), other),
          Idempotency
        )
        const running = yield* Deferred.make<void>()
        const dying = yield* elsewhere.run(
          { userId: customer.user.id as UserId, key, fingerprint, success: Schema.Unknown },
          () => Deferred.succeed(running, undefined).pipe(Effect.zipRight(Effect.never))
        ).pipe(Effect.forkDaemon)
        yield* Deferred.await(running)
        const { id } = (yield* keyRow(customer.user.id, key))!
        yield* Scope.close(other, Exit.void)

        // The retry takes the key over once its lease ran out (seconds, not the request deadline),
        // as the same key: the booking carries the dead request's id.
        const retried = yield* whileInUse(book(customer.token, body, key), 10)
        expect(retried.status).toBe(201)
        const [booked] = yield* sql<{ id: string }>`SELECT idempotency_id AS id FROM bookings WHERE id = ${retried.body.id}`
        expect(booked!.id).toBe(id)
        expect(yield* ledger(event.id)).toMatchObject({ available: 96, bookings: 2 })
        yield* Fiber.interrupt(dying)

        // A request of this process, stuck behind another transaction for longer than a lease: its
        // key stays held (the process renews it), and the answer is the one booking.
        const slow = aKey()
        const lock = yield* Scope.make()
        yield* lockEvent(event.id).pipe(Scope.extend(lock))
        const first = yield* Effect.fork(book(customer.token, body, slow))
        yield* whileInUse(Effect.map(keyRow(customer.user.id, slow), (row) => ({ status: row === undefined ? 409 : 200 })), 10)
        // Longer than a lease, in PostgreSQL's time (locked_until against now()), which no test clock moves.
        yield* Effect.sleep("6 seconds")
        const meanwhile = yield* book(customer.token, body, slow)
        expect(meanwhile).toMatchObject({ status: 409, body: { code: "IdempotencyKeyInUse" } })
        yield* Scope.close(lock, Exit.void)
        const answered = yield* Fiber.join(first)
        expect(answered.status).toBe(201)
        const replayed = yield* book(customer.token, body, slow)
        expect(replayed.headers["idempotent-replayed"]).toBe("true")
        expect(replayed.text).toBe(answered.text)
        expect(yield* ledger(event.id)).toMatchObject({ available: 94, bookings: 3 })
      }))
  })
})

/** What the database holds when the process died between the change's COMMIT and storing its response. */
const crashBeforeStoring = (userId: number, key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`
      UPDATE idempotency_keys SET status = NULL, body = NULL, locked_until = now() - interval '1 second'
      WHERE user_id = ${userId} AND key = ${key}`).pipe(Effect.orDie)

const countsOf = (eventId: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ available: number; holds: number; bookings: number; cancelled: number }>`
      SELECT e.available_tickets AS available,
             (SELECT count(*) FROM holds h WHERE h.event_id = e.id)::int AS holds,
             (SELECT count(*) FROM bookings b WHERE b.event_id = e.id)::int AS bookings,
             (SELECT count(*) FROM bookings b WHERE b.event_id = e.id AND b.status = 'CANCELLED')::int AS cancelled
      FROM events e WHERE e.id = ${eventId}`).pipe(Effect.map(([row]) => row!), Effect.orDie)

describe("Idempotency-Key on holds, confirmations and cancellations, on PostgreSQL", () => {
  layer(PostgresServer(), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("50 concurrent duplicate holds with one key: one hold, every 201 the same", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene(10)
        const key = aKey()
        const responses = yield* Effect.all(
          Array.from({ length: 50 }, () =>
            request("POST", "/api/holds", {
              token: customer.token,
              json: { eventId: event.id, ticketsCount: 2 },
              headers: { "idempotency-key": key }
            })),
          { concurrency: "unbounded" }
        )
        const created = responses.filter((r) => r.status === 201)
        expect(created.length + responses.filter((r) => r.status === 409).length).toBe(50)
        expect(new Set(created.map((r) => r.text)).size).toBe(1)
        expect(yield* countsOf(event.id)).toMatchObject({ available: 8, holds: 1 })
      }))

    it.effect("a crash after each change committed: the retry's rerun finds what the key's id made and answers it, doing nothing again", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const { customer, event } = yield* aScene(10)
        const token = customer.token
        const send = (method: "POST" | "DELETE", path: string, key: string, json?: unknown) =>
          request(method, path, { token, json, headers: { "idempotency-key": key } })

        // A hold: the rerun answers the hold it placed (holds.idempotency_id), it does not hold twice.
        const holdKey = aKey()
        const held = yield* send("POST", "/api/holds", holdKey, { eventId: event.id, ticketsCount: 2 })
        expect(held.status).toBe(201)
        yield* crashBeforeStoring(customer.user.id, holdKey)
        const heldAgain = yield* send("POST", "/api/holds", holdKey, { eventId: event.id, ticketsCount: 2 })
        expect(heldAgain.status).toBe(201)
        expect(heldAgain.headers["idempotent-replayed"]).toBeUndefined() // the rerun's own answer
        expect(heldAgain.body).toEqual(held.body)
        expect(yield* countsOf(event.id)).toMatchObject({ available: 8, holds: 1 })

        // Its confirmation: the rerun answers the booking it made, not 409 HoldAlreadyConfirmed.
        const confirmKey = aKey()
        const confirmed = yield* send("POST", `/api/holds/${held.body.id}/confirm`, confirmKey)
        expect(confirmed.status).toBe(201)
        yield* crashBeforeStoring(customer.user.id, confirmKey)
        const confirmedAgain = yield* send("POST", `/api/holds/${held.body.id}/confirm`, confirmKey)
        expect(confirmedAgain).toMatchObject({ status: 201, body: { id: confirmed.body.id, status: "CONFIRMED" } })
        const [{ id }] = yield* sql<{ id: string }>`SELECT idempotency_id AS id FROM bookings WHERE id = ${confirmed.body.id}`
        expect(id).toBe((yield* keyRow(customer.user.id, confirmKey))!.id)

        // Its cancellation: the rerun answers the cancelled booking, not 409 BookingAlreadyCancelled.
        const cancelKey = aKey()
        const cancelled = yield* send("DELETE", `/api/bookings/${confirmed.body.id}`, cancelKey)
        expect(cancelled).toMatchObject({ status: 200, body: { status: "CANCELLED" } })
        yield* crashBeforeStoring(customer.user.id, cancelKey)
        const cancelledAgain = yield* send("DELETE", `/api/bookings/${confirmed.body.id}`, cancelKey)
        expect(cancelledAgain).toMatchObject({ status: 200, body: { id: confirmed.body.id, status: "CANCELLED" } })
        expect(cancelledAgain.body.cancelledAt).toBe(cancelled.body.cancelledAt)
        expect(yield* countsOf(event.id)).toEqual({ available: 10, holds: 1, bookings: 1, cancelled: 1 })
        const replayed = yield* send("DELETE", `/api/bookings/${confirmed.body.id}`, cancelKey)
        expect(replayed.headers["idempotent-replayed"]).toBe("true")
        expect(replayed.text).toBe(cancelledAgain.text)
      }))
  })
})

describe("Idempotency-Key on PostgreSQL with IDEMPOTENCY_TTL_HOURS=2", () => {
  layer(PostgresServer({ IDEMPOTENCY_TTL_HOURS: 2 }), { excludeTestServices: true, timeout: 60_000 })((it) => {
    it.effect("keys are kept that long", () =>
      Effect.gen(function*() {
        const { customer, event } = yield* aScene()
        const key = aKey()
        expect((yield* book(customer.token, { eventId: event.id, ticketsCount: 1 }, key)).status).toBe(201)
        expect(yield* keyRow(customer.user.id, key)).toMatchObject({ status: 201, ttlHours: 2 })
      }))
  })
})
