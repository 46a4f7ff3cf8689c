/**
 * A real HTTP server on loopback that keeps every request it receives: a webhook receiver for
 * tests. It answers 200 `ok` unless given how to answer (a status, a body, a hang, a reset...).
 */
import { Effect } from "effect"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface ReceivedWebhook {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook` */
  readonly url: string
  readonly port: number
  /** The requests received so far, in order. */
  readonly received: () => ReadonlyArray<ReceivedWebhook>
}

export type Answer = (request: IncomingMessage, response: ServerResponse, received: ReceivedWebhook) => void

const okay: Answer = (_request, response) => response.end("ok")

/** Starts a receiver on 127.0.0.1 for the scope; its open connections are cut when the scope closes. */
export const startWebhookReceiver = (answer: Answer = okay) =>
  Effect.acquireRelease(
    Effect.async<{ readonly receiver: WebhookReceiver; readonly close: () => Promise<void> }>((resume) => {
      const received: Array<ReceivedWebhook> = []
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const webhook = {
            method: request.method ?? "",
            path: request.url ?? "",
            headers: request.headers,
            body: Buffer.concat(chunks).toString("utf8")
          }
          received.push(webhook)
          answer(request, response, webhook)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          receiver: { url: `http://127.0.0.1:${port}/hook`, port, received: () => [...received] },
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections()
              server.close(() => done())
            })
        }))
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ receiver }) => receiver))
