/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) of the bundled server: self time by function
 * (the top N), and the booking's cost centres (`costCentres`): each busy sample charged to the
 * part of the service its stack is in, by the bundle's source map, so that a bench run with
 * `--profile` says where a request's CPU goes.
 *
 *   node dist/scripts/bench/profile-top.js bench/profile/<file>.cpuprofile [N]
 */
import { existsSync, readFileSync } from "node:fs"
import { SourceMapConsumer } from "source-map-js"

interface Node {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number }
  readonly children?: ReadonlyArray<number>
}

interface Profile {
  readonly nodes: ReadonlyArray<Node>
  readonly samples: ReadonlyArray<number>
  readonly startTime: number
  readonly endTime: number
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Profile

export const topFunctions = (path: string, count = 30) => {
  const profile = read(path)
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

/** Loading and compiling the bundle: before any request, left out of the shares. */
const STARTUP = "start-up"

/**
 * The parts of the service a sample is charged to: the first rule that matches a frame, from the
 * sampled function up its stack. Effect's runtime runs every fiber from its scheduler, so a
 * sample in the runtime itself has no caller to tell whose it is: it stays "Effect runtime".
 */
export const CENTRES: ReadonlyArray<readonly [string, RegExp]> = [
  [STARTUP, /node:internal\/modules\/|node:internal\/bootstrap|^ file:.*\/main\.js$/],
  ["GC", /^\(garbage collector\)/],
  ["SQL: pg driver, @effect/sql", /(^|\/)(pg|pg-protocol|pg-pool|pg-types|@effect\/sql|@effect\/sql-pg)\/|src\/Platform\/Transactions/],
  ["queue: BullMQ and ioredis", /(^|\/)(bullmq|ioredis|@ioredis|msgpackr|cluster-key-slot)\//],
  ["passwords: bcrypt and its thread", /(^|\/)bcryptjs\//],
  // The mail thread runs its code from source text ("[worker eval]"): drawing, MIME, its zlib and file writes.
  [
    "email: mailer and its thread",
    /nodemailer\/|qrcode\/|src\/Notifications\/Mailer|src\/Platform\/ThreadPool|^postMessage|\[worker eval\]/
  ],
  ["worker: jobs, delivery log", /src\/Notifications\/|src\/Jobs\/Workers|src\/Background/],
  ["outbox and relay", /src\/Jobs\//],
  ["engine: group commit, decide, its SQL text", /src\/Inventory\/|src\/Platform\/GroupCommit/],
  ["token (jose)", /(^|\/)jose\/|src\/Accounts\/(Tokens|Authentication)/],
  ["logging and metrics", /src\/Platform\/Logging|src\/Telemetry\/|effect\/src\/internal\/(logger|metric)/],
  ["schema decode and encode", /effect\/src\/(Schema|ParseResult|SchemaAST)/],
  [
    "HTTP: router, edge, handlers",
    /@effect\/platform|find-my-way|src\/Platform\/(Edge|NodeServer|RequestBodies)|src\/ErrorResponses|src\/(Bookings|Events|Accounts)\/Http/
  ],
  ["Effect runtime", /effect\/src\//],
  // Node's own frames (a socket write, the HTTP parser) belong to the first caller above that matches.
  ["Node: HTTP server, sockets", /^.* node:/]
]

/**
 * Busy time of the profiles (one per thread of a process) by cost centre: each centre's share of
 * the busy samples, weighted by each profile's sampling interval.
 */
export const costCentres = (paths: ReadonlyArray<string>, sourceMap: string) => {
  const map = existsSync(sourceMap) ? new SourceMapConsumer(JSON.parse(readFileSync(sourceMap, "utf8"))) : undefined
  const charged = new Map<string, number>()
  let busy = 0
  for (const path of paths) {
    const profile = read(path)
    const byId = new Map(profile.nodes.map((node) => [node.id, node]))
    const parent = new Map<number, number>()
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
    const names = new Map<number, string>()
    const nameOf = (node: Node) => {
      let name = names.get(node.id)
      if (name !== undefined) return name
      const { columnNumber, functionName, lineNumber, url } = node.callFrame
      const original = map !== undefined && url.endsWith("/main.js")
        ? map.originalPositionFor({ line: lineNumber + 1, column: columnNumber }).source
        : null
      name = original !== null ? original.replace(/^(\.\.\/)+/, "") : `${functionName} ${url}`
      names.set(node.id, name)
      return name
    }
    const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
    for (const id of profile.samples) {
      if (byId.get(id)!.callFrame.functionName === "(idle)") continue
      // The first centre, in CENTRES's order, that a frame of the stack matches (nearest frame first).
      const stack: Array<string> = []
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(nameOf(byId.get(at)!))
      const centre = CENTRES.find(([, pattern]) => stack.some((name) => pattern.test(name)))?.[0] ?? "other"
      if (centre === STARTUP) continue
      charged.set(centre, (charged.get(centre) ?? 0) + msPerSample)
      busy += msPerSample
    }
  }
  return [...charged].sort((a, b) => b[1] - a[1]).map(([label, ms]) => ({ label, share: ms / busy }))
}

if (process.argv[1]?.endsWith("profile-top.js")) {
  console.log(topFunctions(process.argv[2]!, Number(process.argv[3] ?? 30)).join("\n"))
}
