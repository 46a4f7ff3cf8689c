/** The servers the bench loads, each a process of its own on a free loopback port. */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { closeSync, openSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"

export interface Child {
  readonly url: string
  readonly pid: number
  readonly rssMb: () => number
  /** CPU time the process has used so far (all its threads), in milliseconds. */
  readonly cpuMs: () => number
  /** From its spawn to its first HTTP answer, in milliseconds. */
  readonly startUpMs: () => number
  readonly stop: () => Promise<void>
}

/** The node flags `npm start` runs the server with, read from package.json so that they cannot drift apart. */
export const npmStartFlags = (): Array<string> =>
  /exec node (.*) dist\/src\/main\.js/.exec(JSON.parse(readFileSync("package.json", "utf8")).scripts.start)![1]!.split(" ")

/** The resident memory of process `pid`, in MB. */
export const rssMbOf = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024)

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

// Bounded: a connection accepted before the server is ready may never be answered.
const answers = (url: string) => fetch(url, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false)

/**
 * Starts `node script PORT` (PORT, or the variable `portVariable` names, also in the environment)
 * and waits until it answers HTTP there.
 */
export const startChild = async (
  registry: Array<Child>,
  script: string,
  env: Record<string, string> = {},
  nodeOptions: ReadonlyArray<string> = [],
  portVariable = "PORT"
): Promise<Child> => {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  // Its output goes to a file, not a pipe: the service writes a log line per request, and Node
  // writes to a pipe synchronously, so a bench process busy driving the load (and so slow to drain
  // the pipe) would stall the service it measures.
  const logFile = join(tmpdir(), `bench-${basename(script, ".js")}-${port}.log`)
  const log = openSync(logFile, "w")
  const spawned = performance.now()
  let startUpMs = Number.NaN
  const child: ChildProcess = spawn(process.execPath, [...nodeOptions, script, String(port)], {
    env: { ...process.env, ...env, [portVariable]: String(port) },
    stdio: ["ignore", log, log]
  })
  closeSync(log)
  const output = () => readFileSync(logFile, "utf8").slice(-4000)
  const handle: Child = {
    url,
    pid: child.pid!,
    rssMb: () => rssMbOf(child.pid!),
    cpuMs: () => {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 10 ms.
      const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ")
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    startUpMs: () => startUpMs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
        await once(child, "exit")
        clearTimeout(timer)
      }
      rmSync(logFile, { force: true })
    }
  }
  registry.push(handle)
  for (const deadline = Date.now() + 60_000; !(await answers(url));) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${script} did not start:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  startUpMs = Math.round(performance.now() - spawned)
  return handle
}

/** Several processes measured as one service: their CPU and memory added up. */
export const together = (first: Child, ...rest: ReadonlyArray<Child>): Child => {
  const all = [first, ...rest]
  return {
    url: first.url,
    pid: first.pid,
    rssMb: () => all.reduce((sum, child) => sum + child.rssMb(), 0),
    cpuMs: () => all.reduce((sum, child) => sum + child.cpuMs(), 0),
    startUpMs: () => Math.max(...all.map((child) => child.startUpMs())),
    stop: async () => {
      for (const child of all) await child.stop()
    }
  }
}

/** Waits until `server` is idle (its queued work, such as confirmation emails, done), at most 30 s. */
export const settle = async (server: Child) => {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const before = server.cpuMs()
    await new Promise((resolve) => setTimeout(resolve, 500))
    if (server.cpuMs() - before < 25) return
  }
}
