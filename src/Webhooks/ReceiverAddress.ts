/**
 * Which addresses a webhook may be posted to: public unicast ones only, so that a receiver's URL
 * cannot make the server reach its own network (server-side request forgery). The ranges are
 * ipaddr.js's (RFC-named, maintained); what is written here is the policy over them and the
 * IPv6 forms that carry an IPv4 address, which are judged by the address they carry.
 */
import ipaddr from "ipaddr.js"

/**
 * Never a receiver, even with WEBHOOK_ALLOW_PRIVATE: the instance metadata services (AWS, GCP,
 * Azure, OpenStack at 169.254.169.254; AWS over IPv6; Azure's WireServer) hand out credentials.
 */
const METADATA = new Set(["169.254.169.254", "fd00:ec2::254", "168.63.129.16"])

/** Global unicast IPv6 (2000::/3): outside it nothing is allocated to the public internet. */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3")
/** ::/96 holds the deprecated IPv4-compatible forms (::127.0.0.1 is ::7f00:1). */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96")
/** The well-known NAT64 prefix: 64:ff9b::a.b.c.d reaches a.b.c.d through a translator. */
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96")

const ipv4Of = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])

/** The IPv4 address an IPv6 one stands for (mapped, compatible, SIIT, NAT64, 6to4), if any. */
const embeddedIpv4 = (address: ipaddr.IPv6): ipaddr.IPv4 | undefined => {
  const parts = address.parts
  const range = address.range()
  if (
    range === "ipv4Mapped" || range === "rfc6145" || (address.match(IPV4_COMPATIBLE) && range !== "unspecified" && range !== "loopback")
  ) {
    return ipv4Of(parts[6]!, parts[7]!)
  }
  if (address.match(NAT64)) return ipv4Of(parts[6]!, parts[7]!)
  if (range === "6to4") return ipv4Of(parts[1]!, parts[2]!)
  return undefined
}

/** Why an IPv4 address is not public (ipaddr.js's range name), or undefined when it is. */
const ipv4Refusal = (address: ipaddr.IPv4): string | undefined => {
  const range = address.range()
  return range === "unicast" ? undefined : range
}

/** Why an IPv6 address is not public, or undefined when it is. */
const ipv6Refusal = (address: ipaddr.IPv6): string | undefined => {
  const carried = embeddedIpv4(address)
  if (carried !== undefined) {
    const refusal = ipv4Refusal(carried)
    return refusal === undefined ? undefined : `${refusal} (as ${carried.toString()})`
  }
  const range = address.range()
  if (range !== "unicast") return range
  return address.match(GLOBAL_UNICAST) ? undefined : "unallocated"
}

const isMetadata = (address: ipaddr.IPv4 | ipaddr.IPv6): boolean => {
  if (address.kind() === "ipv4") return METADATA.has(address.toString())
  const v6 = address as ipaddr.IPv6
  const carried = embeddedIpv4(v6)
  return METADATA.has(v6.toRFC5952String()) || (carried !== undefined && METADATA.has(carried.toString()))
}

/**
 * Why a webhook may not be posted to `address` (an IP address's text, as DNS answers it or a
 * URL's host holds it), or undefined when it may. `allowPrivate` lets every address through but
 * the metadata services'.
 */
export const addressRefusal = (address: string, options: { readonly allowPrivate: boolean }): string | undefined => {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, ""))
  } catch {
    return `${address} is not an IP address`
  }
  if (isMetadata(parsed)) return `${address} is a cloud metadata address`
  if (options.allowPrivate) return undefined
  const refusal = parsed.kind() === "ipv4" ? ipv4Refusal(parsed as ipaddr.IPv4) : ipv6Refusal(parsed as ipaddr.IPv6)
  return refusal === undefined ? undefined : `${address} is not a public address: ${refusal}`
}
