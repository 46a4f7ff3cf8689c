/** `npm run bench` for one second a run, so that it keeps working. Its figures are not checked here: only that it runs and the ledger holds. */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, inject, it } from "vitest"

describe("npm run bench", () => {
  it("runs every scenario against its baselines and finds the ledger exact", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-test-"))
    const out = join(dir, "results.json")
    try {
      const redisUrl = inject("redisUrl")
      const child = spawn("npm", ["run", "--silent", "bench", "--", "--seconds", "1", "--out", out], {
        env: { ...process.env, DATABASE_URL: inject("databaseUrl"), ...(redisUrl ? { REDIS_URL: redisUrl } : {}) },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      child.stdout.on("data", (chunk) => (output += chunk))
      child.stderr.on("data", (chunk) => (output += chunk))
      const [code] = await once(child, "exit")
      expect(code, output).toBe(0)
      const results = JSON.parse(readFileSync(out, "utf8"))
      expect(Object.keys(results.scenarios)).toEqual([
        "loneClient",
        "hotEvent16",
        "hotEvent64",
        "spread1000Events64",
        "listEvents20",
        "hotEvent16DuringLoginStorm"
      ])
      for (const run of [...Object.values(results.baselines), ...Object.values(results.scenarios)] as Array<{ ok: number }>) {
        expect(run.ok).toBeGreaterThan(0)
      }
      // The storm measures bcrypt, not the rate limits (a second may be too short for any login to finish).
      expect(results.scenarios.hotEvent16DuringLoginStorm.logins.statuses["429"]).toBeUndefined()
      expect(results.ledger).toMatchObject({ exact: true, eventsOversold: 0, rush: { created: 2000, sold: 2000, refused: 2000 } })
      expect(Object.keys(results.baselines)).toEqual(["bareNode", "httpApiCeiling", "bookingRoof", "rawSql16", "rawSql64"])
      expect(results.baselines.bookingRoof.failed).toBe(0)
      expect(output).toContain("| hot event, 64 connections |")
      expect(output).toContain("| hot event, one client |")
      // The service as `npm start` runs it: its queues on REDIS_URL's Redis when set, its workers
      // in its process (they sent the confirmations), each target judged.
      expect(results.service.queues).toBe(redisUrl ? "redis" : "postgres")
      expect(results.service.emailsWritten).toBeGreaterThan(0)
      expect(results.service.rssMbAfter).toBeGreaterThan(0)
      expect(results.targets).toHaveLength(10)
      expect(output).toMatch(/Targets met: \d+ of 10\./)
      expect(output).toContain("| booking roof: HttpApi, booking's shape, no database (64) |")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})
