/**
 * The transport of webhooks: one POST to a receiver's URL, whose every outcome is an `Attempt`
 * (the caller decides what is delivered and what is retried). Before each attempt the host is
 * resolved and every address it has is vetted (Webhooks/ReceiverAddress.ts); the connection is
 * then made to those vetted addresses only, so a DNS answer that changes between the check and
 * the connection (rebinding) cannot reach another. No redirect is followed; at most 1 KB of the
 * answer is kept; the whole attempt has one deadline. docs/decisions/0030-webhook-transport.md.
 */
import { Context, Effect, Either, Layer, Ref } from "effect"
import { lookup as dnsLookup } from "node:dns/promises"
import { type ClientRequest, request as httpRequest } from "node:http"
import { request as httpsRequest } from "node:https"
import { isIP, type LookupFunction } from "node:net"
import { StringDecoder } from "node:string_decoder"
import { AppConfig, type WebhookSettings } from "../Platform/Config.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { addressRefusal } from "./ReceiverAddress.ts"
import { checkUrl, hostOf } from "./WebhookUrl.ts"

export type Attempt =
  /** The receiver answered (any status, 3xx included: no redirect is followed); `body`: its first 1 KB at most. */
  | { readonly _tag: "Answered"; readonly status: number; readonly body: string }
  /** No answer: name not resolved, connection refused or reset, timeout, TLS. */
  | { readonly _tag: "Failed"; readonly reason: string }
  /** Never sent: the URL or one of its host's addresses is refused (scheme policy, non-public address). */
  | { readonly _tag: "Refused"; readonly reason: string }

export interface WebhookRequest {
  /** The signature headers (Webhooks/Signature.ts) and any other; `content-type` is JSON unless given. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Bytes of a receiver's answer kept (and read: the rest is not waited for). */
export const MAX_ANSWER_BYTES = 1024

/** The User-Agent of every attempt: receivers see who calls. */
export const USER_AGENT = "event-booking-webhooks/1.0"

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}

/** A host name's addresses: every one of them, as the system resolver (`dns.lookup`) answers. */
export type Resolve = (hostname: string) => Promise<ReadonlyArray<ResolvedAddress>>

const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

export class WebhookSender extends Context.Tag("WebhookSender")<WebhookSender, {
  /** Posts `request` to `url`; never fails: every outcome is an `Attempt`. */
  readonly post: (url: string, request: WebhookRequest) => Effect.Effect<Attempt>
}>() {
  /** Over the system's resolver, with the WEBHOOK_* settings. */
  static readonly layer = Layer.suspend(() => WebhookSender.layerResolving(systemResolve))

  /** Over `resolve`: tests make a name stand for any address without DNS. */
  static layerResolving(resolve: Resolve): Layer.Layer<WebhookSender, never, AppConfig> {
    return Layer.effect(
      WebhookSender,
      Effect.map(AppConfig, ({ webhooks }) =>
        WebhookSender.of({
          post: (url, request) => Effect.promise((signal) => attempt(url, request, { settings: webhooks, resolve, signal }))
        }))
    ).pipe(traced(WebhookSender))
  }

  /** Answers each post with `answer` (Answered 200 by default) and keeps what was posted, in `SentWebhooks`. */
  static layerMemory(answer: (url: string, request: WebhookRequest) => Attempt = () => ({ _tag: "Answered", status: 200, body: "" })) {
    return Layer.effectContext(
      Effect.map(Ref.make<ReadonlyArray<SentWebhook>>([]), (sent) =>
        Context.make(WebhookSender, {
          post: (url, request) => Ref.update(sent, (all) => [...all, { url, ...request }]).pipe(Effect.as(answer(url, request)))
        }).pipe(Context.add(SentWebhooks, sent)))
    )
  }
}

export interface SentWebhook extends WebhookRequest {
  readonly url: string
}

/** What the memory sender was asked to post, in order. */
export class SentWebhooks extends Context.Tag("SentWebhooks")<SentWebhooks, Ref.Ref<ReadonlyArray<SentWebhook>>>() {}

const failed = (reason: string): Attempt => ({ _tag: "Failed", reason })
const refused = (reason: string): Attempt => ({ _tag: "Refused", reason })

/** An error's code and message, as the reason of a failed attempt. */
const describe = (error: unknown): string => {
  const { code, message } = error as { code?: unknown; message?: unknown }
  const text = typeof message === "string" && message !== "" ? message : String(error)
  return typeof code === "string" && !text.includes(code) ? `${code}: ${text}` : text
}

/**
 * The host's addresses, every one vetted: Right with them, or Left with the attempt it ends in
 * (Refused if any address is refused: a name that answers one public and one private address is
 * not trusted with either; Failed if it does not resolve).
 */
const vettedAddresses = async (
  url: URL,
  settings: WebhookSettings,
  resolve: Resolve
): Promise<Either.Either<ReadonlyArray<ResolvedAddress>, Attempt>> => {
  const host = hostOf(url)
  const family = isIP(host)
  let addresses: ReadonlyArray<ResolvedAddress>
  if (family !== 0) {
    addresses = [{ address: host, family }]
  } else {
    try {
      addresses = await resolve(host)
    } catch (error) {
      return Either.left(failed(`could not resolve ${host}: ${describe(error)}`))
    }
    if (addresses.length === 0) return Either.left(failed(`${host} has no address`))
  }
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, settings)
    if (refusal !== undefined) return Either.left(refused(family === 0 ? `${host} resolves to ${refusal}` : refusal))
  }
  return Either.right(addresses)
}

/**
 * The connection's name resolution: the vetted addresses and nothing else. Node asks for all of
 * them when it tries IPv6 and IPv4 in turn (`autoSelectFamily`), else for one of a family.
 */
const pinnedLookup = (addresses: ReadonlyArray<ResolvedAddress>): LookupFunction => (_hostname, options, callback) => {
  const wanted = options.family === 4 || options.family === 6
    ? addresses.filter((address) => address.family === options.family)
    : addresses
  if (options.all === true) return callback(null, wanted.map(({ address, family }) => ({ address, family })))
  const first = wanted[0]
  if (first === undefined) {
    return callback(Object.assign(new Error(`no vetted address of family ${options.family}`), { code: "ENOTFOUND" }), "", 0)
  }
  callback(null, first.address, first.family)
}

/** One attempt, within `settings.timeoutMs` from the start (resolution included); never rejects. */
const attempt = (
  url: string,
  webhook: WebhookRequest,
  options: { readonly settings: WebhookSettings; readonly resolve: Resolve; readonly signal: AbortSignal }
): Promise<Attempt> => {
  const { resolve, settings, signal } = options
  const target = checkUrl(url, settings)
  if (Either.isLeft(target)) return Promise.resolve(refused(target.left))
  return new Promise<Attempt>((settle) => {
    let done = false
    let request: ClientRequest | undefined
    /** Set once the status line arrived: the attempt is Answered from then on, whatever follows. */
    let answer: { readonly status: number; readonly chunks: Array<Buffer>; bytes: number } | undefined
    const answered = (): Attempt => {
      const kept = Buffer.concat(answer!.chunks).subarray(0, MAX_ANSWER_BYTES)
      // A character cut at the limit is dropped, not replaced: the body stays within its bytes.
      return { _tag: "Answered", status: answer!.status, body: new StringDecoder("utf8").write(kept) }
    }
    const finish = (outcome: Attempt) => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal.removeEventListener("abort", interrupted)
      request?.destroy()
      settle(outcome)
    }
    const timer = setTimeout(
      () => finish(answer !== undefined ? answered() : failed(`no answer within ${settings.timeoutMs} ms`)),
      settings.timeoutMs
    )
    const interrupted = () => finish(failed("interrupted"))
    signal.addEventListener("abort", interrupted)

    vettedAddresses(target.right, settings, resolve).then((vetted) => {
      if (done) return
      if (Either.isLeft(vetted)) return finish(vetted.left)
      const send = target.right.protocol === "https:" ? httpsRequest : httpRequest
      request = send(target.right, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...webhook.headers,
          "user-agent": USER_AGENT,
          "content-length": String(Buffer.byteLength(webhook.body))
        },
        // A connection of its own: a pooled one could have been opened to another address.
        agent: false,
        lookup: pinnedLookup(vetted.right)
      })
      request.on("response", (response) => {
        answer = { status: response.statusCode ?? 0, chunks: [], bytes: 0 }
        response.on("data", (chunk: Buffer) => {
          answer!.chunks.push(chunk)
          answer!.bytes += chunk.length
          if (answer!.bytes >= MAX_ANSWER_BYTES) finish(answered())
        })
        response.on("end", () => finish(answered()))
        // The status arrived: a connection lost in the body still leaves it Answered.
        response.on("error", () => finish(answered()))
        response.on("close", () => finish(answered()))
      })
      request.on("error", (error) => finish(answer !== undefined ? answered() : failed(describe(error))))
      request.end(webhook.body)
    }).catch((error: unknown) => finish(failed(describe(error))))
  })
}
