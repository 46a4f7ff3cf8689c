/**
 * Who is calling, as far as rate limits are concerned: the socket's peer, or, behind `trustProxy`
 * trusted proxies, the address the outermost of them saw (X-Forwarded-For is appended to by each
 * proxy, so only its right end is trustworthy; anything further left is the client's own claim).
 */
import type { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"
import { isIP } from "node:net"

export const clientAddress = (request: HttpServerRequest.HttpServerRequest, trustProxy: number): string => {
  const socket = Option.getOrElse(request.remoteAddress, () => "unknown")
  const forwarded = request.headers["x-forwarded-for"]
  if (trustProxy === 0 || forwarded === undefined || forwarded.trim() === "") return normalize(socket)
  const hops = forwarded.split(",").map((hop) => hop.trim())
  // Like Express's `trust proxy = n`: the n-th address from the right, or the leftmost if fewer.
  const chosen = hops[Math.max(0, hops.length - trustProxy)]!
  return isIP(withoutZone(chosen)) === 0 ? normalize(socket) : normalize(chosen)
}

const withoutZone = (address: string) => address.replace(/%.*$/, "")

/**
 * IPv4-mapped IPv6 as IPv4; other IPv6 addresses by their /64, the block one host usually holds
 * (counting single addresses would let one host rotate through 2^64 of them).
 */
export const normalize = (raw: string): string => {
  const address = withoutZone(raw).toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (mapped) return mapped[1]!
  if (isIP(address) !== 6) return address
  const [head = "", tail] = address.split("::")
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])))
  const left = groupsOf(head)
  const right = tail === undefined ? [] : groupsOf(tail)
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`
}
