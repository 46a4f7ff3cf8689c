/** The counting proxies of `scripts/bench/scenario.ts --statements` count what a client really said. */
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { describe, expect, inject, it } from "vitest"
import { pgTap, redisTap } from "../../scripts/bench/wire.ts"

describe("the bench's wire counters", () => {
  it("count PostgreSQL statements by their text, round trips and transactions, explicit or a statement's own", async () => {
    const tap = await pgTap(inject("databaseUrl"))
    const client = new pg.Client({ connectionString: tap.url })
    try {
      await client.connect()
      expect(tap.counts()).toMatchObject({ roundTrips: 0, statements: 0, transactions: 0 })
      // A transaction block: three statements (simple and extended protocol), one transaction.
      await client.query("BEGIN")
      await client.query("SELECT $1::int", [1])
      await client.query("COMMIT")
      expect(tap.counts()).toMatchObject({ roundTrips: 3, statements: 3, transactions: 1 })
      // Two statements on their own, one with a parameter larger than any chunk: two transactions.
      await client.query("SELECT 1")
      await client.query("SELECT length($1::text)", ["x".repeat(200_000)])
      expect(tap.counts()).toMatchObject({ roundTrips: 5, statements: 5, transactions: 3 })
      // A failed block rolled back, then an answer larger than any chunk.
      await client.query("BEGIN")
      await expect(client.query("SELECT 1/0")).rejects.toThrow()
      await client.query("ROLLBACK")
      const { rows } = await client.query("SELECT n, (SELECT 1 FROM pg_database LIMIT 1) AS one FROM generate_series(1, 100000) n")
      expect(rows).toHaveLength(100_000)
      // A named statement, parsed once and run twice.
      for (const n of [1, 2]) await client.query({ name: "plus-one", text: "SELECT $1::int + 1", values: [n] })
      expect(tap.counts()).toEqual({
        roundTrips: 11,
        statements: 11,
        transactions: 7,
        // Each by its text, on one line, parameters as `$`, a SELECT's columns left out; a prepared
        // statement by the text it was prepared with.
        byStatement: {
          "BEGIN": 2,
          "SELECT $::int": 1,
          "COMMIT": 1,
          "SELECT 1": 1,
          "SELECT length($::text)": 1,
          "SELECT 1/0": 1,
          "ROLLBACK": 1,
          "SELECT … FROM generate_series(1, 100000) n": 1,
          "SELECT $::int + 1": 2
        }
      })
    } finally {
      await client.end()
      await tap.close()
    }
  })

  // Needs the Redis the machines run (CI sets TEST_REDIS_URL): it fails, not skips, without one.
  it("count Redis commands by name, pipelined or larger than a chunk", async () => {
    const url = inject("redisUrl")
    if (url === "") throw new Error("no Redis: set TEST_REDIS_URL or run one on 127.0.0.1:6379")
    const tap = await redisTap(url)
    const redis = new Redis(tap.url, { lazyConnect: true })
    const key = `test-wire-${randomBytes(4).toString("hex")}`
    try {
      await redis.connect()
      const before = tap.counts()
      await redis.set(key, "v".repeat(200_000))
      expect(await redis.get(key)).toHaveLength(200_000)
      await redis.pipeline().incr(`${key}-n`).del(`${key}-n`).exec()
      await redis.del(key)
      const after = tap.counts()
      expect(after.commands - before.commands).toBe(5)
      expect(after.byName).toMatchObject({ set: 1, get: 1, incr: 1, del: 2 })
    } finally {
      redis.disconnect()
      await tap.close()
    }
  })
})
