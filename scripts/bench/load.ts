/** autocannon, reduced to the figures the bench reports. */
import autocannon from "autocannon"

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
