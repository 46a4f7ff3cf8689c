/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function, the top N, so that a
 * bench run with `--profile` says where the server spends its time.
 *
 *   node dist/scripts/bench/profile-top.js bench/profile/<file>.cpuprofile [N]
 */
import { readFileSync } from "node:fs"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

export const topFunctions = (path: string, count = 30) => {
  const profile = JSON.parse(readFileSync(path, "utf8")) as { nodes: ReadonlyArray<Node>; samples: ReadonlyArray<number> }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  for (const id of profile.samples) {
    const { functionName, lineNumber, url } = byId.get(id)!.callFrame
    const where = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/(src|dist)\//, "$1/")
    const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + 1)
  }
  const total = profile.samples.length
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, n]) => `${(100 * n / total).toFixed(1).padStart(5)}%  ${key}`)
}

if (process.argv[1]?.endsWith("profile-top.js")) {
  console.log(topFunctions(process.argv[2]!, Number(process.argv[3] ?? 30)).join("\n"))
}
