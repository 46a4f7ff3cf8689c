/** autocannon, reduced to the figures the bench reports; and one client timed request by request. */
import autocannon from "autocannon"
import { Agent, request as httpRequest } from "node:http"

export interface Load {
  readonly url: string
  readonly connections: number
  /** Run for this long... */
  readonly seconds?: number
  /** ...or until this many requests were answered. */
  readonly amount?: number
  readonly request?: {
    readonly method: "GET" | "POST"
    readonly path: string
    readonly headers?: Record<string, string>
    readonly body?: string
    readonly setupRequest?: (request: any) => any
  }
}

export interface Run {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  /** 2xx answers. */
  readonly ok: number
  /** Non-2xx answers, errors and timeouts. */
  readonly failed: number
  readonly statuses: Record<string, number>
}

export const load = async (options: Load): Promise<Run> => {
  const result: any = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 10 }),
    ...(options.request ? { requests: [options.request] } : {}),
    timeout: 30
  })
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats as Record<string, { count: number }>).map(([code, { count }]) => [code, count])
  )
  return {
    perSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result["2xx"],
    failed: result.non2xx + result.errors + result.timeouts,
    statuses
  }
}

/** The median and 99th percentile of latencies timed one by one, to 0.01 ms. */
export const percentiles = (latencies: ReadonlyArray<number>) => {
  const sorted = [...latencies].sort((a, b) => a - b)
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100
  return { p50: at(0.5), p99: at(0.99) }
}

/**
 * One client on one keep-alive connection, each request sent when the previous one is answered,
 * for `seconds`. Each latency is timed with `performance.now()`: autocannon's are whole
 * milliseconds, too coarse for a lone client's few.
 */
export const sequential = async (options: Omit<Load, "connections" | "amount">): Promise<Run> => {
  const seconds = options.seconds ?? 10
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const { method = "GET", path = "", headers = {}, body, setupRequest = (r: any) => r } = options.request ?? {}
  const send = () =>
    new Promise<number>((resolve, reject) => {
      const request = setupRequest({ headers, body })
      const payload: string | undefined = request.body
      const outgoing = httpRequest(new URL(path, options.url), {
        method,
        agent,
        headers: { ...request.headers, ...(payload === undefined ? {} : { "content-length": Buffer.byteLength(payload) }) }
      }, (response) => {
        response.resume().on("end", () => resolve(response.statusCode!))
      })
      outgoing.on("error", reject).end(payload)
    })
  const latencies: Array<number> = []
  const statuses: Record<string, number> = {}
  try {
    for (const until = performance.now() + seconds * 1000; performance.now() < until;) {
      const started = performance.now()
      const status = await send()
      latencies.push(performance.now() - started)
      statuses[status] = (statuses[status] ?? 0) + 1
    }
  } finally {
    agent.destroy()
  }
  const ok = Object.entries(statuses).reduce((sum, [code, n]) => sum + (code.startsWith("2") ? n : 0), 0)
  return { perSecond: Math.round(latencies.length / seconds), ...percentiles(latencies), ok, failed: latencies.length - ok, statuses }
}
