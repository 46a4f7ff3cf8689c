/** A real SMTP server on loopback that keeps what it receives, for tests of the SMTP mailer. */
import { Effect, Ref } from "effect"
import { SMTPServer } from "smtp-server"

export interface ReceivedMail {
  readonly to: ReadonlyArray<string>
  readonly raw: string
  /** The raw message with quoted-printable undone, to search its text. */
  readonly decoded: string
}

const decodeQuotedPrintable = (raw: string) =>
  Buffer.from(
    raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    "latin1"
  ).toString("utf8")

export interface SmtpSink {
  readonly url: string
  readonly received: Effect.Effect<ReadonlyArray<ReceivedMail>>
  /** Until released, every message's data is read and never acknowledged: a send that hangs. */
  readonly hold: Effect.Effect<void>
  readonly release: Effect.Effect<void>
  /** Messages whose data arrived while held (the sender is waiting on them). */
  readonly held: Effect.Effect<number>
  /** Connections opened to it so far. */
  readonly connections: Effect.Effect<number>
}

export const startSmtpSink = Effect.gen(function*() {
  const received = yield* Ref.make<ReadonlyArray<ReceivedMail>>([])
  const holding = yield* Ref.make(false)
  const held = yield* Ref.make(0)
  let connections = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    closeTimeout: 1_000,
    onConnect(_session, callback) {
      connections++
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Array<Buffer> = []
      stream.on("data", (chunk: Buffer) => chunks.push(chunk))
      stream.on("end", () => {
        if (Effect.runSync(Ref.get(holding))) {
          Effect.runSync(Ref.update(held, (n) => n + 1))
          return // never answered: the client waits until it gives up or dies
        }
        const raw = Buffer.concat(chunks).toString("utf8")
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address)
        Effect.runSync(Ref.update(received, (all) => [...all, { to, raw, decoded: decodeQuotedPrintable(raw) }]))
        callback()
      })
    }
  })
  server.on("error", () => {}) // a client killed mid-message is expected in the fault tests
  const port = yield* Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.server.address() as { port: number }).port)))
    }),
    () => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
  )
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: Ref.get(received),
    hold: Ref.set(holding, true),
    release: Ref.set(holding, false),
    held: Ref.get(held),
    connections: Effect.sync(() => connections)
  } satisfies SmtpSink
})
