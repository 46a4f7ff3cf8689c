/** Which receivers a webhook may reach: addresses (as DNS answers them) and URLs (as registered). */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { addressRefusal } from "../../src/Webhooks/ReceiverAddress.ts"
import { checkUrl } from "../../src/Webhooks/WebhookUrl.ts"

const strict = { allowPrivate: false }
const lenient = { allowPrivate: true }

/** Each refused address, and a word its refusal names. */
const refused: ReadonlyArray<readonly [string, string]> = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.0.0.1", "private"],
  ["172.16.5.4", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["100.64.0.1", "carrierGradeNat"],
  ["100.100.100.200", "carrierGradeNat"], // Alibaba Cloud's metadata
  ["169.254.1.1", "linkLocal"],
  ["169.254.169.254", "metadata"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["255.255.255.255", "broadcast"],
  ["240.0.0.1", "reserved"],
  ["192.0.2.1", "reserved"],
  ["198.18.0.1", "reserved"],
  ["168.63.129.16", "metadata"],
  ["::1", "loopback"],
  ["::", "unspecified"],
  ["fe80::1", "linkLocal"],
  ["fe80::1%eth0", "linkLocal"],
  ["fc00::1", "uniqueLocal"],
  ["fd12:3456::1", "uniqueLocal"],
  ["fd00:ec2::254", "metadata"],
  ["ff02::1", "multicast"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.1.2.3", "private"],
  ["::ffff:169.254.169.254", "metadata"],
  ["::ffff:0:a9fe:a9fe", "metadata"], // SIIT (RFC 6145) form of 169.254.169.254
  ["::ffff:0:a00:1", "private"], // SIIT form of 10.0.0.1
  ["::127.0.0.1", "loopback"], // IPv4-compatible
  ["::7f00:1", "loopback"],
  ["::a00:1", "private"],
  ["64:ff9b::7f00:1", "loopback"], // NAT64 of 127.0.0.1
  ["64:ff9b::10.0.0.1", "private"],
  ["64:ff9b:1::1", "rfc6052"], // local-use NAT64 (RFC 8215)
  ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
  ["2002:c0a8:101::1", "private"], // 6to4 of 192.168.1.1
  ["2001:db8::1", "reserved"],
  ["2001::1", "teredo"],
  ["fec0::1", "deprecatedSiteLocal"],
  ["100::1", "discard"],
  ["c000::1", "unallocated"],
  ["4000::1", "unallocated"]
]

const publicAddresses = [
  "8.8.8.8",
  "93.184.216.34",
  "172.32.0.1",
  "100.128.0.1",
  "2606:4700:4700::1111",
  "::ffff:8.8.8.8",
  "64:ff9b::808:808",
  "2002:808:808::1"
]

describe("receiver addresses", () => {
  it.each(refused)("refuses %s (%s)", (address, why) => {
    expect(addressRefusal(address, strict)).toContain(why)
  })

  it.each(publicAddresses)("allows the public %s", (address) => {
    expect(addressRefusal(address, strict)).toBeUndefined()
  })

  it("WEBHOOK_ALLOW_PRIVATE lets every address through but the cloud metadata services'", () => {
    for (const [address] of refused.filter(([, why]) => why !== "metadata")) expect(addressRefusal(address, lenient)).toBeUndefined()
    for (const address of ["169.254.169.254", "fd00:ec2::254", "168.63.129.16", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe"]) {
      expect(addressRefusal(address, lenient)).toContain("cloud metadata")
    }
  })

  it("something that is not an address is refused", () => {
    expect(addressRefusal("example.com", lenient)).toContain("not an IP address")
  })
})

const production = { allowHttp: false, allowPrivate: false }
const development = { allowHttp: true, allowPrivate: true }
const refusalOf = (url: string, policy = production) =>
  Either.getLeft(checkUrl(url, policy)).pipe((left) => left._tag === "Some" ? left.value : undefined)

describe("receiver URLs (checkUrl, no network)", () => {
  it("accepts https URLs of names and public addresses, and gives the URL parsed", () => {
    const url = Either.getOrThrow(checkUrl("https://Hooks.Example.com:8443/in?x=1", production))
    expect(url.hostname).toBe("hooks.example.com")
    expect(url.port).toBe("8443")
    expect(refusalOf("https://8.8.8.8/hook")).toBeUndefined()
    expect(refusalOf("https://[2606:4700:4700::1111]/hook")).toBeUndefined()
  })

  it("refuses what is not an absolute http(s) URL", () => {
    expect(refusalOf("hooks.example.com/in")).toContain("not an absolute URL")
    expect(refusalOf("ftp://hooks.example.com/", development)).toContain("must be https (not ftp)")
    expect(refusalOf("file:///etc/passwd", development)).toContain("must be https (not file)")
    expect(refusalOf("javascript:alert(1)", development)).toContain("must be https")
    expect(refusalOf(`https://hooks.example.com/${"a".repeat(2048)}`)).toContain("longer than 2048")
  })

  it("refuses http unless allowed", () => {
    expect(refusalOf("http://hooks.example.com/in")).toBe("the URL's scheme must be https")
    expect(refusalOf("http://hooks.example.com/in", { allowHttp: true, allowPrivate: false })).toBeUndefined()
  })

  it("refuses non-public IP literals in every spelling Node's URL parser accepts", () => {
    for (
      const url of [
        "https://127.0.0.1/",
        "https://2130706433/", // decimal
        "https://0x7f.1/", // hex, two parts
        "https://0x7f000001/",
        "https://0177.0.0.1/", // octal
        "https://127.1/",
        "https://017700000001/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[0:0:0:0:0:ffff:7f00:1]/",
        "https://10.0.0.1/",
        "https://0xa.0.0.1/",
        "https://3232235777/", // 192.168.1.1
        "https://[fd00:ec2::254]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://0xa9fea9fe/", // 169.254.169.254
        "https://[64:ff9b::7f00:1]/",
        "https://[2002:c0a8:101::1]/",
        "https://0/"
      ]
    ) {
      expect(refusalOf(url), url).toMatch(/is not a public address|is a cloud metadata address/)
    }
    expect(refusalOf("https://0xa9fea9fe/", development)).toContain("cloud metadata")
  })

  it("refuses localhost unless private addresses are allowed", () => {
    expect(refusalOf("https://localhost/")).toBe("the URL's host is localhost")
    expect(refusalOf("https://LOCALHOST./")).toBe("the URL's host is localhost")
    expect(refusalOf("https://api.localhost/")).toBe("the URL's host is localhost")
    expect(refusalOf("http://localhost:4000/", development)).toBeUndefined()
    expect(refusalOf("http://127.0.0.1:4000/", development)).toBeUndefined()
  })
})
