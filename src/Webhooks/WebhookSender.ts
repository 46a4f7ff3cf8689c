/**
 * The transport of webhooks: one POST to a receiver's URL, whose every outcome is an `Attempt`
 * (the caller decides what is delivered and what is retried). STEP 1: a simple implementation;
 * the SSRF guard, pinned address and limits follow.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { AppConfig } from "../Platform/Config.ts"

export type Attempt =
  /** The receiver answered (any status, 3xx included: no redirect is followed); `body`: its first 1 KB at most. */
  | { readonly _tag: "Answered"; readonly status: number; readonly body: string }
  /** No answer: DNS failure, connection refused or reset, timeout, TLS. */
  | { readonly _tag: "Failed"; readonly reason: string }
  /** Never sent: the URL or its addresses are refused (scheme policy, private address). */
  | { readonly _tag: "Refused"; readonly reason: string }

export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export class WebhookSender extends Context.Tag("WebhookSender")<WebhookSender, {
  /** Posts `request` to `url`; never fails: every outcome is an `Attempt`. */
  readonly post: (url: string, request: WebhookRequest) => Effect.Effect<Attempt>
}>() {
  static readonly layer = Layer.effect(
    WebhookSender,
    Effect.gen(function*() {
      yield* AppConfig
      return {
        post: (url, request) =>
          Effect.tryPromise(async (signal) => {
            const response = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", ...request.headers },
              body: request.body,
              redirect: "manual",
              signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)])
            })
            const text = await response.text()
            return { _tag: "Answered", status: response.status, body: text.slice(0, 1024) } as Attempt
          }).pipe(Effect.catchAll((error) => Effect.succeed<Attempt>({ _tag: "Failed", reason: String(error.cause) })))
      }
    })
  )

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
