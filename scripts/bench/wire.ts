/**
 * What a service says to PostgreSQL and Redis, counted on the wire (`scenario.ts --statements`): a
 * TCP proxy in front of each server reads the protocol as it passes through. Only the service's
 * own connections are counted, on servers other programs share, and with no server setting
 * (pg_stat_statements needs shared_preload_libraries; Redis's INFO commandstats counts every
 * client). Plain TCP only: no TLS to the servers.
 */
import { connect, createServer, type Server, type Socket } from "node:net"

export interface PgCounts {
  /** Round trips: answers the service waited for (ReadyForQuery). */
  readonly roundTrips: number
  /** Statements run (Execute, or a simple Query). */
  readonly statements: number
  /** Statements run by their text (on one line, `$n` as `$`, a SELECT's columns left out, at most 120 characters). */
  readonly byStatement: Readonly<Record<string, number>>
  /** Transactions ended, explicit (BEGIN … COMMIT or ROLLBACK) or a statement's own. */
  readonly transactions: number
}

export interface RedisCounts {
  readonly commands: number
  readonly byName: Readonly<Record<string, number>>
}

export interface Tap<Counts> {
  /** The server's URL with the proxy's address in its place. */
  readonly url: string
  /** What was counted so far, on every connection. */
  readonly counts: () => Counts
  readonly close: () => Promise<void>
}

/** A proxy to `target`'s host and port, each connection's two directions fed to the readers `connection()` makes. */
const proxy = async (
  target: string,
  connection: () => { readonly fromClient: (chunk: Buffer) => void; readonly fromServer: (chunk: Buffer) => void }
) => {
  const upstream = new URL(target)
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const server = connect({ host: upstream.hostname, port: Number(upstream.port) })
    const readers = connection()
    for (const socket of [client, server]) {
      sockets.add(socket)
      socket.on("error", () => {
        client.destroy()
        server.destroy()
      }).on("close", () => sockets.delete(socket))
    }
    client.on("data", readers.fromClient).pipe(server)
    server.on("data", readers.fromServer).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = new URL(target)
  url.hostname = "127.0.0.1"
  url.port = String((server.address() as { port: number }).port)
  return {
    url: url.toString(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

const code = (letter: string) => letter.charCodeAt(0)
const [READY_FOR_QUERY, PARSE, BIND, EXECUTE, QUERY, IDLE] = ["Z", "P", "B", "E", "Q", "I"].map(code)
/** Of a Parse, Bind or Query, the first bytes (the statement's name and text): enough to tell statements apart. */
const TEXT_BYTES = 16_384

/**
 * Reads a stream of PostgreSQL messages (a type byte, then a length that counts itself; the
 * client's first message, the start-up, has no type byte), calling `each` with every message's
 * type and the first bytes of its body, as many as `wanted` asks for that type.
 */
const pgMessages = (wanted: (type: number) => number, each: (type: number, body: Buffer) => void, startsUntyped: boolean) => {
  let untyped = startsUntyped
  let head: Buffer = Buffer.alloc(0) // the message's type, length and the body's first bytes wanted
  let need = untyped ? 4 : 5
  let skip = 0
  return (chunk: Buffer) => {
    for (let at = 0; at < chunk.length;) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at)
        skip -= n
        at += n
        continue
      }
      const take = Math.min(need - head.length, chunk.length - at)
      head = Buffer.concat([head, chunk.subarray(at, at + take)])
      at += take
      if (head.length < need) continue
      const lengthAt = untyped ? 0 : 1
      const type = untyped ? 0 : head[0]!
      const bodyLength = head.readInt32BE(lengthAt) - 4
      if (need === lengthAt + 4) {
        need += Math.min(bodyLength, wanted(type))
        if (head.length < need) continue
      }
      each(type, head.subarray(lengthAt + 4))
      skip = bodyLength - (head.length - lengthAt - 4)
      head = Buffer.alloc(0)
      untyped = false
      need = 5
    }
  }
}

/** The NUL-terminated strings at the start of a message's body (what of them arrived). */
const strings = (body: Buffer) => body.toString("utf8").split("\0")

/** `text` with each SELECT's list of columns left out: up to its FROM, at its own depth of parentheses. */
const withoutColumns = (text: string) => {
  let out = ""
  let at = 0
  for (let select = text.indexOf("SELECT ", at); select !== -1; select = text.indexOf("SELECT ", at)) {
    let depth = 0
    let end = select + "SELECT ".length
    for (; end < text.length && !(depth === 0 && text.startsWith(" FROM ", end)); end++) {
      if (text[end] === "(") depth++
      else if (text[end] === ")" && depth-- === 0) break // the end of a sub-select with no FROM
    }
    const from = text.startsWith(" FROM ", end)
    out += text.slice(at, select) + (from ? "SELECT …" : "SELECT ")
    at = from ? end : select + "SELECT ".length
  }
  return out + text.slice(at)
}

/**
 * A statement's text, short and on one line: its parameters' numbers dropped (a batch's INSERT has
 * as many as it has rows), and its columns too (they say less than where they come from).
 */
const shortened = (text: string) =>
  withoutColumns(text.replace(/\s+/g, " ").replace(/\$\d+/g, "$").replace(/E?'(?:[^']|'')*'/g, "'…'").trim()).slice(0, 120)

/** Counts the statements (by their text), round trips and transactions of every connection made through it to PostgreSQL at `target`. */
export const pgTap = async (target: string): Promise<Tap<PgCounts>> => {
  let roundTrips = 0
  let transactions = 0
  const byStatement: Record<string, number> = {}
  const tap = await proxy(target, () => {
    const prepared = new Map<string, string>() // the text of each statement parsed, by its name ("" the unnamed one)
    let bound = "" // the text of the statement the next Execute runs
    let status: number | undefined // the transaction status of the last ReadyForQuery; none before the first
    let ran = false // a statement ran since then
    const count = (text: string) => {
      byStatement[text] = (byStatement[text] ?? 0) + 1
      ran = true
    }
    return {
      fromClient: pgMessages((type) => (type === PARSE || type === BIND || type === QUERY ? TEXT_BYTES : 0), (type, body) => {
        const [first = "", second = ""] = strings(body)
        if (type === PARSE) prepared.set(first, shortened(second))
        else if (type === BIND) bound = prepared.get(second) ?? "(a statement prepared before the count)"
        else if (type === EXECUTE) count(bound)
        else if (type === QUERY) count(shortened(first))
      }, true),
      fromServer: pgMessages((type) => (type === READY_FOR_QUERY ? 1 : 0), (type, body) => {
        if (type !== READY_FOR_QUERY) return
        const now = body[0]!
        if (status !== undefined) {
          roundTrips++
          // Idle again after a transaction block, or after a statement outside one (its own transaction).
          if (now === IDLE && (status !== IDLE || ran)) transactions++
        }
        status = now
        ran = false
      }, false)
    }
  })
  return {
    ...tap,
    counts: () => ({
      roundTrips,
      statements: Object.values(byStatement).reduce((sum, n) => sum + n, 0),
      transactions,
      byStatement: { ...byStatement }
    })
  }
}

/** Reads the commands of a Redis client's stream (RESP arrays of bulk strings, or inline lines), calling `each` with each command's name. */
const redisCommands = (each: (name: string) => void) => {
  let pending: Buffer = Buffer.alloc(0)
  /** The end of the command at `at`, or -1 if it has not all arrived. */
  const command = (at: number): number => {
    const line = (from: number) => {
      const end = pending.indexOf("\r\n", from)
      return end === -1 ? undefined : { text: pending.toString("latin1", from, end), next: end + 2 }
    }
    const header = line(at)
    if (header === undefined) return -1
    if (!header.text.startsWith("*")) {
      each(header.text.trim().split(/\s+/)[0]!.toLowerCase())
      return header.next
    }
    let next = header.next
    let name = ""
    for (let i = 0; i < Number(header.text.slice(1)); i++) {
      const bulk = line(next)
      if (bulk === undefined) return -1
      const end = bulk.next + Number(bulk.text.slice(1)) + 2
      if (end > pending.length) return -1
      if (i === 0) name = pending.toString("latin1", bulk.next, end - 2).toLowerCase()
      next = end
    }
    each(name)
    return next
  }
  return (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let at = 0
    for (let end = command(at); end !== -1; end = command(at)) at = end
    pending = pending.subarray(at)
  }
}

/** Counts the commands, by name, of every connection made through it to Redis at `target`. */
export const redisTap = async (target: string): Promise<Tap<RedisCounts>> => {
  const byName: Record<string, number> = {}
  const tap = await proxy(target, () => ({
    fromClient: redisCommands((name) => (byName[name] = (byName[name] ?? 0) + 1)),
    fromServer: () => {}
  }))
  return {
    ...tap,
    counts: () => ({ commands: Object.values(byName).reduce((sum, n) => sum + n, 0), byName: { ...byName } })
  }
}
