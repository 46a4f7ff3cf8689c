/**
 * Sending email. SMTP through nodemailer when SMTP_URL is set; otherwise a development mailbox
 * that writes each message as an .eml file under MAIL_DIR. Tests use the in-memory mailer.
 */
import { Context, Effect, Layer, Option, Redacted, Ref, Schema } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import nodemailer, { type Transporter } from "nodemailer"
import { AppConfig } from "../Config.ts"
import { traced } from "../Telemetry/Tracing.ts"

export interface Mail {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html: string
}

/** Sending failed (server down, refused, timed out); the job is retried. */
export class MailError extends Schema.TaggedError<MailError>()("MailError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

export class Mailer extends Context.Tag("Mailer")<Mailer, {
  /** Sends `mail` and answers the message id. */
  readonly send: (mail: Mail) => Effect.Effect<string, MailError>
}>() {
  static readonly layer = Layer.unwrapEffect(
    Effect.map(AppConfig, ({ mail }) =>
      Option.match(mail.smtpUrl, {
        onSome: (url) => layerSmtp(Redacted.value(url), mail.from),
        onNone: () => layerMailbox(mail.dir, mail.from)
      }))
  ).pipe(traced(Mailer))

  /** Keeps every message in memory; tests read them through `SentMail`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<Mail>>([]), (sent) =>
      Context.make(Mailer, {
        send: (mail) => Ref.modify(sent, (all) => [`<memory-${all.length + 1}@event-booking.local>`, [...all, mail]] as const)
      }).pipe(Context.add(SentMail, sent)))
  )
}

export class SentMail extends Context.Tag("SentMail")<SentMail, Ref.Ref<ReadonlyArray<Mail>>>() {}

// A stuck server must not hold a job (and so shutdown) for nodemailer's default of minutes.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }

interface Sent {
  readonly messageId: string
  /** The whole MIME message, from the stream transport only. */
  readonly message?: Buffer
}

const sendWith = (transport: Transporter, from: string) => (mail: Mail) =>
  Effect.tryPromise({
    try: (): Promise<Sent> => transport.sendMail({ from, ...mail }),
    catch: (cause) => new MailError({ message: `Sending mail to ${mail.to} failed: ${String(cause)}`, cause })
  })

const layerSmtp = (url: string, from: string) =>
  Layer.scoped(
    Mailer,
    Effect.gen(function*() {
      const transport = yield* Effect.acquireRelease(
        Effect.sync(() => nodemailer.createTransport({ url, ...SMTP_TIMEOUTS })),
        (transport) => Effect.sync(() => transport.close())
      )
      const send = sendWith(transport, from)
      return { send: (mail) => Effect.map(send(mail), (info) => info.messageId) }
    })
  )

const layerMailbox = (directory: string, from: string) =>
  Layer.effect(
    Mailer,
    Effect.gen(function*() {
      const dir = resolve(directory)
      yield* Effect.sync(() => mkdirSync(dir, { recursive: true }))
      yield* Effect.logInfo(`SMTP_URL is not set: mail is written to ${dir}`)
      // nodemailer builds the full MIME message; the "stream" transport hands it back instead of sending it.
      const send = sendWith(nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }), from)
      return {
        send: (mail) =>
          Effect.gen(function*() {
            const info = yield* send(mail)
            const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${fileSafe(info.messageId)}.eml`)
            yield* Effect.try({
              try: () => writeFileSync(file, info.message!),
              catch: (cause) => new MailError({ message: `Writing ${file} failed`, cause })
            })
            yield* Effect.logInfo("mail written").pipe(Effect.annotateLogs({ to: mail.to, subject: mail.subject, file }))
            return info.messageId
          })
      }
    })
  )

const fileSafe = (messageId: string) => messageId.replace(/^<|>$/g, "").replace(/[^\w.-]+/g, "_").slice(0, 80)
