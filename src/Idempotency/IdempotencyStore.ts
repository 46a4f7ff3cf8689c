/**
 * Where Idempotency-Keys live: one row per user and key, in PostgreSQL (migration 0006), or in
 * memory for the fast test tiers. Idempotency/Idempotency.ts decides what to do with them.
 *
 * A key is *held* by one request at a time, for a short lease that its process renews while the
 * request runs; when that request ends it stores its response, lets go of the key (the response
 * was not one to keep), or forgets it (nothing ran). A key whose holder died (the lease ran out,
 * nobody renewed it) is taken over by the next request with the same fingerprint, keeping the key's
 * `id`, so the retry finds what the dead one created. A key past its time to live is gone: the
 * next request starts it afresh, with a new `id`.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Clock, Context, Effect, Layer, Option, Ref, Schedule, Schema } from "effect"
import { randomUUID } from "node:crypto"
import { IdempotencyId, UserId } from "../Domain/Ids.ts"

/** A key as a request presents it: whose, which, and what was asked (method, route, body). */
export interface KeyedRequest {
  readonly userId: UserId
  readonly key: string
  readonly fingerprint: string
}

/** How long a claim holds the key, and how long the key is kept. */
export interface KeyTerms {
  readonly leaseMs: number
  readonly ttlMs: number
}

/** The key, held by this request. */
export interface HeldKey {
  readonly userId: UserId
  readonly key: string
  /** What the operation records on what it creates. */
  readonly id: IdempotencyId
  /** This holder; once another request took the key over, this one can no longer change it. */
  readonly attempt: string
  /** The key is new (or renewed after it expired), not taken over from a request that died. */
  readonly fresh: boolean
}

export interface StoredResponse {
  readonly status: number
  /** The body exactly as sent (JSON text), or "" for none. */
  readonly body: string
}

export type Claim =
  | { readonly _tag: "Held"; readonly held: HeldKey }
  | { readonly _tag: "Completed"; readonly response: StoredResponse }
  /** Another request holds the key. */
  | { readonly _tag: "InProgress" }
  /** The key was used for a different request. */
  | { readonly _tag: "Mismatch" }

export class IdempotencyStore extends Context.Tag("IdempotencyStore")<IdempotencyStore, {
  /** Holds the key for this request, or says why not: its stored response, another holder, another request. */
  readonly claim: (request: KeyedRequest, terms: KeyTerms) => Effect.Effect<Claim>
  /** Extends the leases of the keys still held by these holders to `leaseMs` from now, in one statement. */
  readonly renew: (held: ReadonlyArray<HeldKey>, leaseMs: number) => Effect.Effect<void>
  /** Stores the response and lets go of the key. */
  readonly complete: (held: HeldKey, response: StoredResponse) => Effect.Effect<void>
  /** Lets go of the key, keeping its id and fingerprint: the next request with the same fingerprint runs. */
  readonly release: (held: HeldKey) => Effect.Effect<void>
  /** Deletes the key: the next request with it starts afresh, whatever it asks. */
  readonly forget: (held: HeldKey) => Effect.Effect<void>
  /** Deletes expired keys that nobody holds; answers how many. */
  readonly purge: Effect.Effect<number>
}>() {
  /** In the `idempotency_keys` table; expired keys are purged every 10 minutes (the first a minute after start). */
  static readonly layer = Layer.scoped(
    IdempotencyStore,
    Effect.gen(function*() {
      const store = makeSql(yield* SqlClient.SqlClient)
      yield* store.purge.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("purging expired idempotency keys failed", cause)),
        Effect.repeat(Schedule.spaced("10 minutes")),
        Effect.delay("1 minute"),
        Effect.forkScoped
      )
      return store
    })
  )

  static readonly layerMemory = Layer.effect(
    IdempotencyStore,
    Effect.suspend(() => Effect.map(Ref.make(new Map<string, MemoryKey>()), makeMemory))
  )
}

/** A claim that lost a race (the key changed between two statements) is tried again, a few times. */
const CLAIM_TRIES = 3
const PURGE_BATCH = 1000

const KeyOfUser = Schema.Struct({ userId: UserId, key: Schema.String })

function makeSql(sql: SqlClient.SqlClient): IdempotencyStore["Type"] {
  const seconds = (ms: number) => ms / 1000
  const where = (held: HeldKey) => sql`user_id = ${held.userId} AND key = ${held.key} AND attempt = ${held.attempt}`

  // One statement for the common cases: a new key, an expired one nobody holds (renewed, with a
  // new id), or one whose holder let go or died with the same fingerprint (taken over, same id).
  const hold = SqlSchema.findOne({
    Request: Schema.Struct({
      ...KeyOfUser.fields,
      id: IdempotencyId,
      fingerprint: Schema.String,
      attempt: Schema.String,
      leaseMs: Schema.Number,
      ttlMs: Schema.Number
    }),
    Result: Schema.Struct({ id: IdempotencyId, fresh: Schema.Boolean }),
    execute: ({ attempt, fingerprint, id, key, leaseMs, ttlMs, userId }) =>
      sql`
        INSERT INTO idempotency_keys AS k (user_id, key, id, fingerprint, attempt, locked_until, expires_at)
        VALUES (${userId}, ${key}, ${id}, ${fingerprint}, ${attempt},
                now() + make_interval(secs => ${seconds(leaseMs)}), now() + make_interval(secs => ${seconds(ttlMs)}))
        ON CONFLICT (user_id, key) DO UPDATE SET
          id = CASE WHEN k.expires_at <= now() THEN excluded.id ELSE k.id END,
          expires_at = CASE WHEN k.expires_at <= now() THEN excluded.expires_at ELSE k.expires_at END,
          fingerprint = excluded.fingerprint, status = NULL, body = NULL,
          attempt = excluded.attempt, locked_until = excluded.locked_until
        WHERE (k.locked_until IS NULL OR k.locked_until <= now())
          AND (k.expires_at <= now() OR (k.status IS NULL AND k.fingerprint = excluded.fingerprint))
        RETURNING k.id, k.id = ${id} AS fresh`
  })
  const standing = SqlSchema.findOne({
    Request: KeyOfUser,
    Result: Schema.Struct({
      fingerprint: Schema.String,
      status: Schema.NullOr(Schema.Int),
      body: Schema.NullOr(Schema.String),
      locked: Schema.Boolean,
      expired: Schema.Boolean
    }),
    execute: ({ key, userId }) =>
      sql`
        SELECT fingerprint, status, body, COALESCE(locked_until > now(), false) AS locked, expires_at <= now() AS expired
        FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`
  })

  const claimOnce = ({ fingerprint, key, userId }: KeyedRequest, { leaseMs, ttlMs }: KeyTerms) =>
    Effect.gen(function*() {
      const id = randomUUID() as IdempotencyId
      const attempt = randomUUID()
      const held = yield* hold({ userId, key, id, fingerprint, attempt, leaseMs, ttlMs })
      if (Option.isSome(held)) {
        return { _tag: "Held", held: { userId, key, id: held.value.id, attempt, fresh: held.value.fresh } } as const
      }
      // Not ours: a separate statement sees the key as it now stands.
      const row = Option.getOrUndefined(yield* standing({ userId, key }))
      if (row === undefined || (row.expired && !row.locked)) return undefined // gone meanwhile: try again
      if (!row.expired && row.fingerprint !== fingerprint) return { _tag: "Mismatch" } as const
      if (!row.expired && row.status !== null) {
        return { _tag: "Completed", response: { status: row.status, body: row.body ?? "" } } as const
      }
      return row.locked ? { _tag: "InProgress" } as const : undefined // let go meanwhile: try again
    })

  const claim = (request: KeyedRequest, terms: KeyTerms, tries = CLAIM_TRIES): Effect.Effect<Claim> =>
    Effect.flatMap(
      claimOnce(request, terms).pipe(Effect.orDie),
      (claimed) =>
        claimed !== undefined
          ? Effect.succeed(claimed)
          : tries > 1
          ? claim(request, terms, tries - 1)
          : Effect.succeed({ _tag: "InProgress" })
    )

  return {
    claim: (request, terms) => claim(request, terms),
    // Only keys still held by these very holders (one taken over, stored or let go is left alone).
    renew: (held, leaseMs) => {
      const [users, keys, attempts] = [held.map((h) => h.userId), held.map((h) => h.key), held.map((h) => h.attempt)]
      return sql`
        UPDATE idempotency_keys k SET locked_until = now() + make_interval(secs => ${seconds(leaseMs)})
        FROM unnest(${users}::int[], ${keys}::text[], ${attempts}::uuid[]) AS h (user_id, key, attempt)
        WHERE k.user_id = h.user_id AND k.key = h.key AND k.attempt = h.attempt AND k.locked_until IS NOT NULL`.pipe(
        Effect.asVoid,
        Effect.orDie
      )
    },
    complete: (held, { body, status }) =>
      sql`UPDATE idempotency_keys SET status = ${status}, body = ${body}, locked_until = NULL WHERE ${where(held)}`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    release: (held) =>
      sql`UPDATE idempotency_keys SET locked_until = NULL WHERE ${where(held)} AND status IS NULL`.pipe(Effect.asVoid, Effect.orDie),
    forget: (held) => sql`DELETE FROM idempotency_keys WHERE ${where(held)} AND status IS NULL`.pipe(Effect.asVoid, Effect.orDie),
    // In batches, each rechecking its rows as it deletes them (a key renewed meanwhile stays).
    purge: Effect.gen(function*() {
      let total = 0
      for (;;) {
        const rows = yield* sql`
          DELETE FROM idempotency_keys k
          USING (SELECT user_id, key FROM idempotency_keys WHERE expires_at <= now() LIMIT ${PURGE_BATCH}) old
          WHERE k.user_id = old.user_id AND k.key = old.key
            AND k.expires_at <= now() AND (k.locked_until IS NULL OR k.locked_until <= now())
          RETURNING 1`
        total += rows.length
        if (rows.length < PURGE_BATCH) return total
      }
    }).pipe(Effect.orDie)
  }
}

interface MemoryKey {
  readonly id: IdempotencyId
  readonly fingerprint: string
  readonly attempt: string
  readonly lockedUntil: number | null
  readonly response: StoredResponse | null
  readonly expiresAt: number
}

/** The same rules as the table, on Effect's Clock (a TestClock moves leases and expiry). */
function makeMemory(keys: Ref.Ref<Map<string, MemoryKey>>): IdempotencyStore["Type"] {
  const slot = (userId: UserId, key: string) => `${userId}\u0000${key}`
  const isLocked = (row: MemoryKey, now: number) => row.lockedUntil !== null && row.lockedUntil > now

  /** Applies `change` to the key if `held` was its last holder (`WHERE attempt = ...`), and `also` holds. */
  const ifLastHeldBy = (
    held: HeldKey,
    change: (row: MemoryKey, all: Map<string, MemoryKey>) => void,
    also: (row: MemoryKey) => boolean = () => true
  ) =>
    Ref.update(keys, (all) => {
      const row = all.get(slot(held.userId, held.key))
      if (row !== undefined && row.attempt === held.attempt && also(row)) change(row, all)
      return all
    })
  /** ...and it has no response yet (`AND status IS NULL`). */
  const ifHeld = (held: HeldKey, change: (row: MemoryKey, all: Map<string, MemoryKey>) => void) =>
    ifLastHeldBy(held, change, (row) => row.response === null)

  return {
    claim: ({ fingerprint, key, userId }, { leaseMs, ttlMs }) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(keys, (all): [Claim, Map<string, MemoryKey>] => {
          const row = all.get(slot(userId, key))
          const expired = row !== undefined && row.expiresAt <= now
          const attempt = randomUUID()
          const hold = (id: IdempotencyId, expiresAt: number, fresh: boolean): [Claim, Map<string, MemoryKey>] => {
            all.set(slot(userId, key), { id, fingerprint, attempt, lockedUntil: now + leaseMs, response: null, expiresAt })
            return [{ _tag: "Held", held: { userId, key, id, attempt, fresh } }, all]
          }
          if (row === undefined || (expired && !isLocked(row, now))) return hold(randomUUID() as IdempotencyId, now + ttlMs, true)
          if (!expired && row.fingerprint !== fingerprint) return [{ _tag: "Mismatch" }, all]
          if (!expired && row.response !== null) return [{ _tag: "Completed", response: row.response }, all]
          if (isLocked(row, now)) return [{ _tag: "InProgress" }, all]
          return hold(row.id, row.expiresAt, false)
        })),
    renew: (held, leaseMs) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.forEach(held, (h) =>
          ifHeld(h, (row, all) => {
            if (row.lockedUntil !== null) all.set(slot(h.userId, h.key), { ...row, lockedUntil: now + leaseMs })
          }), { discard: true })),
    // As the table's UPDATE: a holder completing again (none does) stores the later response.
    complete: (held, response) =>
      ifLastHeldBy(held, (row, all) => all.set(slot(held.userId, held.key), { ...row, response, lockedUntil: null })),
    release: (held) => ifHeld(held, (row, all) => all.set(slot(held.userId, held.key), { ...row, lockedUntil: null })),
    forget: (held) => ifHeld(held, (_, all) => all.delete(slot(held.userId, held.key))),
    purge: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Ref.modify(keys, (all) => {
        let purged = 0
        for (const [name, row] of all) {
          if (row.expiresAt <= now && !isLocked(row, now)) {
            all.delete(name)
            purged++
          }
        }
        return [purged, all]
      }))
  }
}
