/**
 * A short-lived cache for hot reads that many clients ask at once (the public event listing during
 * an on-sale rush): identical reads in flight share one lookup, and an answer is reused for at most
 * `timeToLiveMs`, or until this process says what it depends on changed (`invalidate`). So a
 * process always reads its own writes; another process's writes show within `timeToLiveMs`.
 */
import { Deferred, Effect, Exit, FiberId } from "effect"

export interface ReadCacheOptions {
  readonly timeToLiveMs: number
  /** Most keys kept; past that the cache starts over (reads are keyed by query, which clients choose). */
  readonly capacity: number
}

export interface ReadCache<A, E> {
  /** The answer for `key`: a fresh one kept, the one being looked up, or `lookup`'s. */
  readonly get: (key: string, lookup: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** What answers depend on changed here: the next read of every key looks up again. */
  readonly invalidate: () => void
}

interface Entry<A, E> {
  readonly answer: Deferred.Deferred<A, E>
  readonly generation: number
  /** Set once the lookup succeeded; until then the entry is a lookup in flight. */
  expiresAt: number
}

export const make = <A, E>(options: ReadCacheOptions): Effect.Effect<ReadCache<A, E>> =>
  Effect.sync(() => {
    const entries = new Map<string, Entry<A, E>>()
    let generation = 0

    const fresh = (entry: Entry<A, E> | undefined, now: number): entry is Entry<A, E> =>
      entry !== undefined && entry.generation === generation && (entry.expiresAt === 0 || entry.expiresAt > now)

    const get = (key: string, lookup: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        const cached = entries.get(key)
        if (fresh(cached, now)) return Deferred.await(cached.answer)
        if (entries.size >= options.capacity) entries.clear()
        const entry: Entry<A, E> = { answer: Deferred.unsafeMake(FiberId.none), generation, expiresAt: 0 }
        entries.set(key, entry)
        // The lookup runs on its own fiber: a caller that gives up does not fail the others waiting.
        return Effect.forkDaemon(
          Effect.onExit(lookup, (exit) =>
            Effect.sync(() => {
              if (Exit.isSuccess(exit)) entry.expiresAt = clock.unsafeCurrentTimeMillis() + options.timeToLiveMs
              else if (entries.get(key) === entry) entries.delete(key) // failures are not remembered
              Deferred.unsafeDone(entry.answer, exit)
            }))
        ).pipe(Effect.zipRight(Deferred.await(entry.answer)))
      })

    return {
      get,
      invalidate: () => {
        generation++
        entries.clear()
      }
    }
  })
