/**
 * The webhook transport over real sockets on loopback: what reaches a receiver, what never leaves
 * (SSRF guard, scheme policy), redirects, the 1 KB of answer kept, timeouts and resets.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { createServer as createHttpsServer } from "node:https"
import { type AddressInfo, createServer } from "node:net"
import { createSecureContext } from "node:tls"
import { Webhook } from "standardwebhooks"
import { AppConfig, type SettingsMap } from "../../src/Platform/Config.ts"
import { newSecret, signatureHeaders } from "../../src/Webhooks/Signature.ts"
import { type Attempt, type Resolve, USER_AGENT, WebhookSender } from "../../src/Webhooks/WebhookSender.ts"
import { startWebhookReceiver } from "../support/webhookReceiver.ts"

const body = JSON.stringify({ type: "ping", timestamp: "2026-12-05T16:00:00.000Z", data: {} })
const request = { headers: {}, body }

/** `post` over the system resolver (or `resolve`) with these settings. */
const post = (url: string, settings: SettingsMap = {}, resolve?: Resolve) =>
  Effect.flatMap(WebhookSender, (sender) => sender.post(url, request)).pipe(
    Effect.provide(
      (resolve === undefined ? WebhookSender.layer : WebhookSender.layerResolving(resolve)).pipe(
        Layer.provide(AppConfig.layerTest(settings))
      )
    )
  )

const allowPrivate = { WEBHOOK_ALLOW_PRIVATE: true }

/** A resolver that answers `addresses` for every name, and counts its calls. */
const resolvingTo = (...addresses: ReadonlyArray<string>) => {
  const calls: Array<string> = []
  const resolve: Resolve = (hostname) => {
    calls.push(hostname)
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })))
  }
  return { resolve, calls }
}

const expectRefused = (attempt: Attempt, words: string) => {
  expect(attempt._tag).toBe("Refused")
  expect(attempt._tag === "Refused" && attempt.reason).toContain(words)
}

const expectFailed = (attempt: Attempt, pattern: RegExp) => {
  expect(attempt._tag).toBe("Failed")
  expect(attempt._tag === "Failed" && attempt.reason).toMatch(pattern)
}

describe("WebhookSender", () => {
  it.scoped("posts the body and headers to a loopback receiver when private addresses are allowed; it verifies both signatures", () =>
    Effect.gen(function*() {
      const receiver = yield* startWebhookReceiver((_request, response) => response.writeHead(202).end("accepted"))
      const [old, rotated] = [newSecret(), newSecret()]
      const headers = signatureHeaders({ id: "msg_ping", timestamp: new Date(), body, secrets: [rotated, old] })
      const attempt = yield* Effect.flatMap(WebhookSender, (sender) => sender.post(receiver.url, { headers, body })).pipe(
        Effect.provide(WebhookSender.layer.pipe(Layer.provide(AppConfig.layerTest(allowPrivate))))
      )
      expect(attempt).toEqual({ _tag: "Answered", status: 202, body: "accepted" })
      const [received] = receiver.received()
      expect(receiver.received()).toHaveLength(1)
      expect(received!.method).toBe("POST")
      expect(received!.path).toBe("/hook")
      expect(received!.body).toBe(body)
      expect(received!.headers["content-type"]).toBe("application/json")
      expect(received!.headers["user-agent"]).toBe(USER_AGENT)
      expect(received!.headers["webhook-id"]).toBe("msg_ping")
      const asReceived = {
        "webhook-id": String(received!.headers["webhook-id"]),
        "webhook-timestamp": String(received!.headers["webhook-timestamp"]),
        "webhook-signature": String(received!.headers["webhook-signature"])
      }
      for (const secret of [old, rotated]) expect(new Webhook(secret).verify(received!.body, asReceived)).toEqual(JSON.parse(body))
    }))

  it.scoped("refuses the same loopback receiver by default, and sends it nothing", () =>
    Effect.gen(function*() {
      const receiver = yield* startWebhookReceiver()
      expectRefused(yield* post(receiver.url), "127.0.0.1 is not a public address: loopback")
      expectRefused(yield* post(receiver.url.replace("127.0.0.1", "localhost")), "localhost")
      expect(receiver.received()).toEqual([])
    }))

  it.scoped("refuses IP literals in every spelling of a loopback address, and sends nothing", () =>
    Effect.gen(function*() {
      const receiver = yield* startWebhookReceiver()
      for (
        const host of [
          "2130706433",
          "0x7f.1",
          "0177.0.0.1",
          "127.1",
          "0x7f000001",
          "[::ffff:127.0.0.1]",
          "[::ffff:7f00:1]",
          "[::1]",
          "[64:ff9b::7f00:1]"
        ]
      ) {
        const attempt = yield* post(`http://${host}:${receiver.port}/hook`)
        expect(attempt._tag, host).toBe("Refused")
      }
      expect(receiver.received()).toEqual([])
    }))

  it.effect("refuses a name resolving to a non-public address of any family, without connecting", () =>
    Effect.gen(function*() {
      for (
        const [address, why] of [
          ["10.0.0.1", "private"],
          ["172.20.0.1", "private"],
          ["192.168.0.10", "private"],
          ["100.64.1.1", "carrierGradeNat"],
          ["169.254.10.10", "linkLocal"],
          ["169.254.169.254", "cloud metadata"],
          ["224.0.0.251", "multicast"],
          ["0.0.0.0", "unspecified"],
          ["255.255.255.255", "broadcast"],
          ["::1", "loopback"],
          ["::", "unspecified"],
          ["fe80::1", "linkLocal"],
          ["fc00::5", "uniqueLocal"],
          ["fd00:ec2::254", "cloud metadata"],
          ["ff02::fb", "multicast"],
          ["::ffff:127.0.0.1", "loopback"],
          ["::ffff:7f00:1", "loopback"],
          ["::ffff:192.168.1.1", "private"],
          ["64:ff9b::a00:1", "private"],
          ["2002:a00:1::1", "private"]
        ] as const
      ) {
        const { calls, resolve } = resolvingTo(address)
        expectRefused(yield* post("https://hooks.example.com/in", {}, resolve), `hooks.example.com resolves to ${address}`)
        expectRefused(yield* post("https://hooks.example.com/in", {}, resolve), why)
        expect(calls).toEqual(["hooks.example.com", "hooks.example.com"])
      }
    }))

  it.effect("a name with one public and one private address is refused: neither is trusted", () =>
    Effect.gen(function*() {
      const { resolve } = resolvingTo("93.184.216.34", "10.1.1.1")
      expectRefused(yield* post("https://hooks.example.com/in", {}, resolve), "10.1.1.1")
    }))

  it.effect("metadata addresses stay refused when private addresses are allowed", () =>
    Effect.gen(function*() {
      for (const address of ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"]) {
        expectRefused(yield* post("http://hooks.example.com/in", allowPrivate, resolvingTo(address).resolve), "cloud metadata")
      }
      expectRefused(yield* post("http://169.254.169.254/latest/meta-data/", allowPrivate), "cloud metadata")
    }))

  it.scoped("connects to the address it vetted: a name only the injected resolver knows reaches the receiver, resolved once", () =>
    Effect.gen(function*() {
      const receiver = yield* startWebhookReceiver()
      const { calls, resolve } = resolvingTo("127.0.0.1")
      // `.invalid` never resolves through the system (RFC 6761): reaching the receiver proves the
      // connection used the vetted address, not a second lookup.
      const attempt = yield* post(`http://hooks.invalid:${receiver.port}/hook`, allowPrivate, resolve)
      expect(attempt).toEqual({ _tag: "Answered", status: 200, body: "ok" })
      expect(calls).toEqual(["hooks.invalid"])
      expect(receiver.received()[0]!.headers.host).toBe(`hooks.invalid:${receiver.port}`)
    }))

  it.scoped("follows no redirect: a 302 is answered as such and its target sees nothing", () =>
    Effect.gen(function*() {
      const target = yield* startWebhookReceiver()
      const redirecting = yield* startWebhookReceiver((_request, response) =>
        response.writeHead(302, { location: target.url }).end("moved")
      )
      expect(yield* post(redirecting.url, allowPrivate)).toEqual({ _tag: "Answered", status: 302, body: "moved" })
      expect(redirecting.received()).toHaveLength(1)
      expect(target.received()).toEqual([])
    }))

  it.scoped("keeps 1 KB of an answer and does not wait for the rest", () =>
    Effect.gen(function*() {
      const large = yield* startWebhookReceiver((_request, response) => response.end("x".repeat(100_000)))
      expect(yield* post(large.url, allowPrivate)).toEqual({ _tag: "Answered", status: 200, body: "x".repeat(1024) })
      // Three-byte characters: the one cut at the limit is dropped, not mangled.
      const euros = yield* startWebhookReceiver((_request, response) => response.end("€".repeat(1000)))
      expect(yield* post(euros.url, allowPrivate)).toEqual({ _tag: "Answered", status: 200, body: "€".repeat(341) })
      // 2 KB and then an answer that never ends: with a minute's timeout, the test's own 30 s limit
      // would fail this if the sender waited for the end.
      const endless = yield* startWebhookReceiver((_request, response) => {
        response.writeHead(500)
        response.write("y".repeat(2048))
      })
      expect(yield* post(endless.url, { ...allowPrivate, WEBHOOK_TIMEOUT_MS: 60_000 })).toEqual({
        _tag: "Answered",
        status: 500,
        body: "y".repeat(1024)
      })
    }))

  it.scoped("a receiver that never answers: Failed once WEBHOOK_TIMEOUT_MS has passed", () =>
    Effect.gen(function*() {
      const silent = yield* startWebhookReceiver(() => {})
      expectFailed(yield* post(silent.url, { ...allowPrivate, WEBHOOK_TIMEOUT_MS: 200 }), /no answer within 200 ms/)
      expect(silent.received()).toHaveLength(1)
    }))

  it.scoped("a status sent, then a body that never comes: Answered with the status when the time is up", () =>
    Effect.gen(function*() {
      const slow = yield* startWebhookReceiver((_request, response) => {
        response.writeHead(200, { "content-length": "10" })
        response.write("par")
      })
      expect(yield* post(slow.url, { ...allowPrivate, WEBHOOK_TIMEOUT_MS: 200 })).toEqual({ _tag: "Answered", status: 200, body: "par" })
    }))

  it.scoped("a connection reset before the answer: Failed", () =>
    Effect.gen(function*() {
      const resetting = yield* startWebhookReceiver((request) => request.socket.resetAndDestroy())
      expectFailed(yield* post(resetting.url, allowPrivate), /ECONNRESET|socket hang up/)
    }))

  it.scoped("a connection refused, and a name that does not resolve: Failed", () =>
    Effect.gen(function*() {
      // A port that was just free: nothing listens on it.
      const port = yield* Effect.async<number>((resume) => {
        const server = createServer().listen(0, "127.0.0.1", () => {
          const { port } = server.address() as { port: number }
          server.close(() => resume(Effect.succeed(port)))
        })
      })
      expectFailed(yield* post(`http://127.0.0.1:${port}/hook`, allowPrivate), /ECONNREFUSED/)
      const unknown: Resolve = () =>
        Promise.reject(Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" }))
      expectFailed(yield* post("https://nowhere.invalid/hook", {}, unknown), /could not resolve nowhere.invalid: .*ENOTFOUND/)
      expectFailed(yield* post("https://nowhere.invalid/hook", {}, () => Promise.resolve([])), /nowhere.invalid has no address/)
    }))

  it.scoped("TLS to a server that does not speak it: Failed", () =>
    Effect.gen(function*() {
      const plain = yield* startWebhookReceiver()
      expectFailed(yield* post(plain.url.replace("http:", "https:"), allowPrivate), /SSL|TLS|EPROTO|wrong version/i)
      expect(plain.received()).toEqual([])
    }))

  it.scoped("https verifies the receiver's certificate for the URL's name, on the pinned address: a self-signed one fails", () =>
    Effect.gen(function*() {
      // A certificate for hooks.test that no authority signed (test/support/tls, 100 years).
      const tls = (name: string) => readFileSync(new URL(`../support/tls/hooks.test.${name}`, import.meta.url))
      let requests = 0
      const serverNames: Array<string> = []
      const context = createSecureContext({ key: tls("key"), cert: tls("crt") })
      const server = createHttpsServer({
        SNICallback: (name, done) => {
          serverNames.push(name)
          done(null, context)
        }
      }, (_request, response) => {
        requests += 1
        response.end("ok")
      })
      server.on("tlsClientError", () => {})
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () =>
          Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const { port } = server.address() as AddressInfo
      const { calls, resolve } = resolvingTo("127.0.0.1")
      expectFailed(yield* post(`https://hooks.test:${port}/hook`, allowPrivate, resolve), /self.signed certificate/)
      expect(calls).toEqual(["hooks.test"])
      expect(requests).toBe(0)
      expect(serverNames).toEqual(["hooks.test"])
    }))

  it.effect("a header that cannot be sent: Failed at once, not a hang", () =>
    Effect.gen(function*() {
      const attempt = yield* Effect.flatMap(WebhookSender, (sender) =>
        sender.post("https://hooks.test/in", { headers: { "x-bad": "a\nb" }, body })).pipe(
          Effect.provide(
            WebhookSender.layerResolving(resolvingTo("127.0.0.1").resolve).pipe(
              Layer.provide(AppConfig.layerTest({ ...allowPrivate, WEBHOOK_TIMEOUT_MS: 60_000 }))
            )
          )
        )
      expectFailed(attempt, /ERR_INVALID_CHAR|Invalid character/)
    }))

  it.scoped("https is required in production unless WEBHOOK_ALLOW_HTTP, and http allowed elsewhere by default", () =>
    Effect.gen(function*() {
      const receiver = yield* startWebhookReceiver()
      const production = { NODE_ENV: "production", ...allowPrivate }
      expectRefused(yield* post(receiver.url, production), "must be https")
      expectRefused(yield* post(receiver.url, { ...allowPrivate, WEBHOOK_ALLOW_HTTP: false }), "must be https")
      expect(receiver.received()).toEqual([])
      expect((yield* post(receiver.url, { ...production, WEBHOOK_ALLOW_HTTP: true }))._tag).toBe("Answered")
      expect((yield* post(receiver.url, allowPrivate))._tag).toBe("Answered")
      expectRefused(yield* post("ftp://hooks.example.com/", allowPrivate), "must be https (not ftp)")
    }))
})
