import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files share one PostgreSQL server (each gets its own database): two at a time fits 2 cores.
    maxWorkers: 2,
    minWorkers: 1,
    // What tests and the servers they start log is shown for failing tests only (TEST_LOGS=1: all
    // of it): tests that break things on purpose log errors that would read like failures.
    silent: process.env.TEST_LOGS === "1" ? false : "passed-only",
    // CI reads the counts from a JSON report (see .ci/run); people read the default one.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: ".ci/results.json" }
  }
})
