/** Webhook signatures, checked by an independent implementation of Standard Webhooks (the `standardwebhooks` package). */
import { describe, expect, it } from "@effect/vitest"
import { Webhook } from "standardwebhooks"
import { newSecret, signatureHeaders } from "../../src/Webhooks/Signature.ts"

const body = JSON.stringify({
  type: "booking.created",
  timestamp: "2026-12-05T16:00:00.000Z",
  data: { id: "b1", tickets: 2, name: "Zoë ✓" }
})

describe("webhook signatures", () => {
  it("a new secret is whsec_ and the base64 of 32 random bytes", () => {
    const secrets = [newSecret(), newSecret()]
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
      expect(Buffer.from(secret.slice("whsec_".length), "base64")).toHaveLength(32)
    }
    expect(secrets[0]).not.toBe(secrets[1])
  })

  it("one secret: the receiver's library verifies the body, and refuses another body or secret", () => {
    const secret = newSecret()
    const headers = signatureHeaders({ id: "msg_1", timestamp: new Date(), body, secrets: [secret] })
    expect(headers["webhook-id"]).toBe("msg_1")
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
    expect(() => new Webhook(secret).verify(body.replace("2", "3"), headers)).toThrow()
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow()
  })

  it("two secrets while a rotated one overlaps: a receiver holding either verifies", () => {
    const [old, rotated] = [newSecret(), newSecret()]
    const headers = signatureHeaders({ id: "msg_2", timestamp: new Date(), body, secrets: [rotated, old] })
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2)
    expect(new Webhook(old).verify(body, headers)).toEqual(JSON.parse(body))
    expect(new Webhook(rotated).verify(body, headers)).toEqual(JSON.parse(body))
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow()
  })

  it("signs the timestamp in whole seconds, as the library does", () => {
    const secret = newSecret()
    const timestamp = new Date(Date.UTC(2026, 11, 5, 16, 0, 0, 987))
    const headers = signatureHeaders({ id: "msg_3", timestamp, body, secrets: [secret] })
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(timestamp.getTime() / 1000)))
    expect(headers["webhook-signature"]).toBe(new Webhook(secret).sign("msg_3", timestamp, body))
  })
})
