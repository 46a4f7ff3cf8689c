/**
 * Effect's metric registry in Prometheus' text exposition format (version 0.0.4): counters,
 * gauges and histograms (cumulative `_bucket` lines with `le`, then `_sum` and `_count`).
 */
import { Effect, Metric, type MetricLabel, type MetricPair, MetricState, Option } from "effect"

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const number = (value: number | bigint) =>
  typeof value === "bigint" ?
    value.toString()
    : value === Infinity ?
    "+Inf"
    : value === -Infinity ?
    "-Inf"
    : String(value)

const sample = (name: string, labels: ReadonlyArray<MetricLabel.MetricLabel>, value: number | bigint, extra?: string) => {
  const pairs = labels.map((label) => `${label.key}="${escapeLabel(label.value)}"`)
  if (extra !== undefined) pairs.push(extra)
  return `${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${number(value)}`
}

const typeOf = (state: MetricState.MetricState.Untyped) =>
  MetricState.isCounterState(state) ?
    "counter"
    : MetricState.isGaugeState(state) ?
    "gauge"
    : MetricState.isHistogramState(state) ?
    "histogram"
    : undefined

const samples = (pair: MetricPair.MetricPair.Untyped): ReadonlyArray<string> => {
  const { metricKey: { name, tags }, metricState: state } = pair
  if (MetricState.isCounterState(state)) return [sample(name, tags, state.count)]
  if (MetricState.isGaugeState(state)) return [sample(name, tags, state.value)]
  if (MetricState.isHistogramState(state)) {
    return [
      ...state.buckets.map(([bound, count]) => sample(`${name}_bucket`, tags, count, `le="${number(bound)}"`)),
      sample(`${name}_sum`, tags, state.sum),
      sample(`${name}_count`, tags, state.count)
    ]
  }
  return []
}

const seriesKey = ({ metricKey }: MetricPair.MetricPair.Untyped) =>
  `${metricKey.name}{${metricKey.tags.map((label) => `${label.key}=${label.value}`).join(",")}}`

/** The exposition of `pairs`: each metric's series together under one HELP and TYPE, in a stable order. */
export const render = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, { type: string; help: Option.Option<string>; lines: Array<string> }>()
  const sorted = pairs.map((pair) => [seriesKey(pair), pair] as const).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
  for (const [, pair] of sorted) {
    const type = typeOf(pair.metricState)
    if (type === undefined) continue // frequencies and summaries: none are defined here
    const name = pair.metricKey.name
    let family = families.get(name)
    if (family === undefined) families.set(name, family = { type, help: pair.metricKey.description, lines: [] })
    for (const line of samples(pair)) family.lines.push(line)
  }
  const out: Array<string> = []
  for (const [name, family] of families) {
    if (Option.isSome(family.help)) out.push(`# HELP ${name} ${escapeHelp(family.help.value)}`)
    out.push(`# TYPE ${name} ${family.type}`)
    for (const line of family.lines) out.push(line)
  }
  return out.join("\n") + "\n"
}

/** Every metric of this process, rendered. */
export const scrape = Effect.map(Metric.snapshot, render)
