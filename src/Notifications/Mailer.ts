/**
 * Sending email. SMTP through nodemailer when SMTP_URL is set; otherwise a development mailbox
 * that writes each message as an .eml file under MAIL_DIR. Tests use the in-memory mailer.
 */
import { type Array as Arr, Cause, Context, Effect, Layer, Option, Redacted, Ref, Request, RequestResolver, Schema } from "effect"
import { mkdirSync } from "node:fs"
import { createRequire } from "node:module"
import { resolve } from "node:path"
import { AppConfig } from "../Platform/Config.ts"
import { makeThreadPool } from "../Platform/ThreadPool.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { type Drawing, DRAWINGS_SOURCE, drawMail } from "./Drawings.ts"
import { bareAddress, composeMessage } from "./MimeMessage.ts"

export interface Mail {
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly html: string
  readonly attachments?: ReadonlyArray<Attachment>
}

/** A file sent with a mail: an image with a `cid` is shown inline where the HTML says `cid:<cid>`. */
export interface Attachment {
  readonly filename: string
  /** e.g. `image/png`, `text/calendar; charset=utf-8; method=PUBLISH` */
  readonly contentType: string
  /** The file, or what the mail thread draws it from (a QR code's text, a calendar entry: Drawings.ts). */
  readonly content: Uint8Array | string | Drawing
  readonly cid?: string
}

/** Sending failed (server down, refused, timed out); the job is retried. */
export class MailError extends Schema.TaggedError<MailError>()("MailError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

export class Mailer extends Context.Tag("Mailer")<Mailer, {
  /**
   * Sends `mail` and answers its message id, `<id@the sender's domain>`: the same `id` (a delivery's,
   * stable across retries) makes the same Message-ID, by which mail systems recognise a repeat.
   */
  readonly send: (mail: Mail, id: string) => Effect.Effect<string, MailError>
}>() {
  static readonly layer = Layer.unwrapEffect(
    Effect.map(AppConfig, ({ mail }) =>
      Option.match(mail.smtpUrl, {
        onSome: (url) => layerThread({ from: mail.from, smtpUrl: Redacted.value(url) }),
        onNone: () => layerThread({ from: mail.from, dir: resolve(mail.dir) })
      }))
  ).pipe(traced(Mailer))

  /** Keeps every message in memory; tests read them through `SentMail`. */
  static readonly layerMemory = Layer.effectContext(
    Effect.map(Ref.make<ReadonlyArray<SentMessage>>([]), (sent) =>
      Context.make(Mailer, {
        send: (mail, id) => {
          const messageId = messageIdOf(id, "memory@event-booking.local")
          // Drawn as the mail thread draws them: tests read the files a mail program would receive.
          return Effect.flatMap(
            Effect.sync(() => drawMail(mail)),
            (drawn) => Ref.modify(sent, (all) => [messageId, [...all, { ...drawn, messageId }]] as const)
          )
        }
      }).pipe(Context.add(SentMail, sent)))
  )
}

/** A mail as sent, its attachments' drawings drawn (a Uint8Array or a string each). */
export interface SentMessage extends Mail {
  readonly messageId: string
}

export class SentMail extends Context.Tag("SentMail")<SentMail, Ref.Ref<ReadonlyArray<SentMessage>>>() {}

/** `<id@domain>`, the domain the sender's address's (`Name <user@domain>` or `user@domain`). */
export const messageIdOf = (id: string, from: string) => `<${id}@${/@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? "localhost"}>`

const SMTP_OPTIONS = {
  // A stuck server must not hold a job (and so shutdown) for nodemailer's default of minutes.
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  // Connections are kept and reused (at most 5, 100 messages each) rather than one opened per
  // message: at a rush, thousands of handshakes a minute would cost the server and us more than
  // the mail. A `?pool=false` in SMTP_URL turns it off.
  pool: true
}

/**
 * The mail thread: it draws a confirmation's QR images and .ics (Drawings.ts), writes the MIME
 * message (MimeMessage.ts) and sends it; on the event loop this work slowed the bookings of a rush.
 * With SMTP_URL nodemailer sends the message over SMTP; otherwise the thread writes it as an .eml
 * file under `dir` (the development mailbox).
 */
const MAILER_SOURCE = `
  ${DRAWINGS_SOURCE}
  const composeMessage = ${composeMessage.toString()}
  const bareAddress = ${bareAddress.toString()}
  const { parentPort, workerData } = require("node:worker_threads")
  const { writeFileSync } = require("node:fs")
  const { join } = require("node:path")
  const { dir, from, smtp } = workerData
  const transport = smtp === undefined ? undefined : require(workerData.nodemailer).createTransport(smtp)
  const fileSafe = (messageId) => messageId.replace(/^<|>$/g, "").replace(/[^\\w.-]+/g, "_").slice(0, 80)
  const deliver = async (mail) => {
    const attachments = mail.attachments === undefined ? undefined : drawAttachments(mail.attachments)
    const raw = composeMessage({ ...mail, from, attachments }, new Date())
    if (transport !== undefined) {
      await transport.sendMail({ envelope: { from: bareAddress(from), to: [bareAddress(mail.to)] }, raw })
      return { messageId: mail.messageId }
    }
    const file = join(dir, new Date().toISOString().replace(/[:.]/g, "-") + "-" + fileSafe(mail.messageId) + ".eml")
    writeFileSync(file, raw)
    return { messageId: mail.messageId, file }
  }
  // A task is several mails (those sent at once): one message each way for all of them.
  parentPort.on("message", ({ id, task }) => {
    Promise.allSettled(task.map(deliver)).then((settled) => parentPort.postMessage({
      id,
      value: settled.map((one) => one.status === "fulfilled" ? one.value : { error: String(one.reason) })
    }))
  })`

interface Delivered {
  readonly messageId: string
  /** Where the development mailbox wrote it. */
  readonly file?: string
}

type Outcome = Delivered | { readonly error: string }

type Task = Mail & { readonly messageId: string }

/**
 * A mail as it crosses to the thread (structured clone): each attachment's bytes copied into an
 * array of their own. A small Buffer is a view into Node's shared 8 KB pool, and cloning a view
 * clones all of the memory under it.
 */
const taskOf = (mail: Mail, messageId: string): Task => ({
  ...mail,
  messageId,
  ...(mail.attachments === undefined ? {} : {
    attachments: mail.attachments.map((file) =>
      file.content instanceof Uint8Array ? { ...file, content: new Uint8Array(file.content) } : file
    )
  })
})

/** One mail for the thread; the sends made at once go to it together (`RequestResolver.makeBatched`). */
class SendRequest extends Request.TaggedClass("SendRequest")<Delivered, MailError, { readonly task: Task }> {}

const failure = (task: Task, message: string, cause?: unknown) =>
  new MailError({ message: `Sending mail to ${task.to} failed: ${message}`, cause })

const layerThread = (settings: { readonly from: string; readonly smtpUrl?: string; readonly dir?: string }) =>
  Layer.scoped(
    Mailer,
    Effect.gen(function*() {
      const { dir, from, smtpUrl } = settings
      if (dir !== undefined) {
        yield* Effect.sync(() => mkdirSync(dir, { recursive: true }))
        yield* Effect.logInfo(`SMTP_URL is not set: mail is written to ${dir}`)
      }
      const deliver = yield* makeThreadPool<ReadonlyArray<Task>, ReadonlyArray<Outcome>>({
        source: MAILER_SOURCE,
        workerData: {
          nodemailer: createRequire(import.meta.url).resolve("nodemailer"),
          from,
          dir,
          smtp: smtpUrl === undefined ? undefined : { url: smtpUrl, ...SMTP_OPTIONS }
        },
        size: 1
      })
      // Posting a message to the thread and hearing back costs both threads a wake-up (~0.1 ms of
      // CPU here): the mails of a batch of sends share one.
      const resolver = RequestResolver.makeBatched((requests: Arr.NonEmptyArray<SendRequest>) =>
        deliver(requests.map(({ task }) => task)).pipe(
          Effect.flatMap((outcomes) =>
            Effect.forEach(requests, (request, i) => {
              const outcome = outcomes[i]!
              return Request.completeEffect(
                request,
                "error" in outcome ? Effect.fail(failure(request.task, outcome.error)) : Effect.succeed(outcome)
              )
            }, { discard: true })
          ),
          Effect.catchAll((error) =>
            Effect.forEach(requests, (request) => Request.fail(request, failure(request.task, error.message, error)), { discard: true })
          ),
          // A thread that died: each of its mails hears the same defect.
          Effect.catchAllDefect((defect) =>
            Effect.forEach(requests, (request) => Request.failCause(request, Cause.die(defect)), { discard: true })
          )
        )
      )
      return {
        send: (mail, id) =>
          Effect.request(new SendRequest({ task: taskOf(mail, messageIdOf(id, from)) }), resolver).pipe(
            Effect.tap(({ file }) =>
              file === undefined
                ? Effect.void
                : Effect.logInfo("mail written").pipe(Effect.annotateLogs({ to: mail.to, subject: mail.subject, file }))
            ),
            Effect.map(({ messageId }) => messageId)
          )
      }
    })
  )
