/**
 * Signing a webhook per the Standard Webhooks specification (https://www.standardwebhooks.com/):
 * the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers a receiver verifies.
 */
import { createHmac, randomBytes } from "node:crypto"

const PREFIX = "whsec_"

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export const newSecret = (): string => PREFIX + randomBytes(32).toString("base64")

/** The key a `whsec_…` secret stands for: the bytes of its base64 after the prefix. */
const keyOf = (secret: string): Buffer => Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64")

/** A type, not an interface: it is then a `Record<string, string>` too, as `WebhookSender.post` takes headers. */
export type SignatureHeaders = {
  readonly "webhook-id": string
  readonly "webhook-timestamp": string
  readonly "webhook-signature": string
}

/**
 * The headers of one attempt: `webhook-signature` holds one `v1,<base64 HMAC-SHA256>` of
 * `${id}.${unix seconds}.${body}` per secret, space-separated (two while a rotated secret overlaps).
 * `id` is the event's, stable across retries; `timestamp` the attempt's.
 */
export const signatureHeaders = (input: {
  readonly id: string
  readonly timestamp: Date
  readonly body: string
  readonly secrets: ReadonlyArray<string>
}): SignatureHeaders => {
  const seconds = String(Math.floor(input.timestamp.getTime() / 1000))
  const signed = `${input.id}.${seconds}.${input.body}`
  return {
    "webhook-id": input.id,
    "webhook-timestamp": seconds,
    "webhook-signature": input.secrets
      .map((secret) => `v1,${createHmac("sha256", keyOf(secret)).update(signed).digest("base64")}`)
      .join(" ")
  }
}
