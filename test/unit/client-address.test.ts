/** Which address the rate limits count: the socket's, or X-Forwarded-For's behind trusted proxies; IPv6 by its /64. */
import { HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { clientAddress, normalize } from "../../src/Edge/ClientAddress.ts"

const requestFrom = (socket: string, forwardedFor?: string) =>
  HttpServerRequest.fromWeb(
    new Request("http://localhost/api/auth/login", { headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor } })
  ).modify({ remoteAddress: socket })

describe("clientAddress", () => {
  it("is the socket's address unless proxies are trusted: a client cannot pick its own", () => {
    expect(clientAddress(requestFrom("192.0.2.1"), 0)).toBe("192.0.2.1")
    expect(clientAddress(requestFrom("192.0.2.1", "198.51.100.7"), 0)).toBe("192.0.2.1")
  })

  it("behind n trusted proxies, is the n-th address from the right of X-Forwarded-For", () => {
    const spoofed = "6.6.6.6, 198.51.100.7, 10.0.0.2"
    expect(clientAddress(requestFrom("10.0.0.1", spoofed), 1)).toBe("10.0.0.2")
    expect(clientAddress(requestFrom("10.0.0.1", spoofed), 2)).toBe("198.51.100.7")
    expect(clientAddress(requestFrom("10.0.0.1", "198.51.100.7"), 3)).toBe("198.51.100.7")
    expect(clientAddress(requestFrom("10.0.0.1"), 1)).toBe("10.0.0.1")
    expect(clientAddress(requestFrom("10.0.0.1", "not an address"), 1)).toBe("10.0.0.1")
  })

  it("counts IPv4-mapped IPv6 as IPv4 and other IPv6 addresses by their /64", () => {
    expect(normalize("::ffff:127.0.0.1")).toBe("127.0.0.1")
    expect(normalize("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64")
    expect(normalize("2001:DB8:1:2::1")).toBe("2001:db8:1:2::/64")
    expect(normalize("2001:db8::1")).toBe("2001:db8:0:0::/64")
    expect(normalize("::1")).toBe("0:0:0:0::/64")
    expect(normalize("fe80::1%eth0")).toBe("fe80:0:0:0::/64")
    expect(normalize("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64")
  })
})
