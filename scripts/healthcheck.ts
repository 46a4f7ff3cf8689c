/**
 * Container health check (the Dockerfile's HEALTHCHECK, docker-compose.yml): exits 0 when healthy.
 *   node dist/scripts/healthcheck.js http://127.0.0.1:4000/api/health/ready   the URL answers 2xx within 3 s
 *   node dist/scripts/healthcheck.js --file /tmp/worker.heartbeat             the worker's heartbeat file
 *                                                                            (HEARTBEAT_FILE) is under 30 s old
 * Plain Node, no Effect: it runs every few seconds and should cost next to nothing.
 */
import { statSync } from "node:fs"

const MAX_HEARTBEAT_AGE_MS = 30_000

const unhealthy = (reason: string): never => {
  process.stderr.write(`unhealthy: ${reason}\n`)
  process.exit(1)
}

const checkFile = (path: string) => {
  let modified: number
  try {
    modified = statSync(path).mtimeMs
  } catch {
    return unhealthy(`${path} does not exist (the process has not started its work, or stopped)`)
  }
  const age = Date.now() - modified
  if (age > MAX_HEARTBEAT_AGE_MS) unhealthy(`${path} was last written ${Math.round(age / 1000)} s ago`)
}

const checkUrl = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) }).catch((error: unknown) =>
    unhealthy(`${url}: ${error instanceof Error ? error.message : String(error)}`)
  )
  if (!response.ok) unhealthy(`${url} answered ${response.status}`)
}

const [first, second] = process.argv.slice(2)
if (first === "--file" && second !== undefined) checkFile(second)
else if (first !== undefined && /^https?:\/\//.test(first)) await checkUrl(first)
else unhealthy("usage: healthcheck <url> | healthcheck --file <heartbeat file>")
