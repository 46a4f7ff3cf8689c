/** The SMTP mailer against a real SMTP server on loopback. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { Mailer } from "../../src/Notifications/Mailer.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { startSmtpSink } from "../support/smtpSink.ts"

const mailerFor = (url: string) =>
  Mailer.layer.pipe(
    Layer.provide(
      AppConfig.layerTest({ mail: { smtpUrl: Option.some(Redacted.make(url)), from: "Tickets <t@example.com>", dir: "unused" } })
    )
  )

const mail = (i: number) => ({ to: `customer${i}@example.com`, subject: `Booking ${i}`, text: `Booking ${i}`, html: `<p>Booking ${i}</p>` })

describe("Mailer over SMTP", () => {
  it.scoped("reuses its connections: 20 messages, 5 at a time, over at most 5 of them", () =>
    Effect.gen(function*() {
      const sink = yield* startSmtpSink
      const ids = yield* Effect.flatMap(Mailer, (mailer) =>
        Effect.forEach(
          Array.from({ length: 20 }, (_, i) => mail(i)),
          (m, i) => mailer.send(m, `delivery-${i}`),
          { concurrency: 5 }
        ))
        .pipe(Effect.provide(mailerFor(sink.url)))
      expect(new Set(ids).size).toBe(20)
      const recipients = (yield* sink.received).map((received) => received.to[0]).sort()
      expect(recipients).toEqual(Array.from({ length: 20 }, (_, i) => `customer${i}@example.com`).sort())
      expect(yield* sink.connections).toBeLessThanOrEqual(5)
    }))

  it.scoped("?pool=false in SMTP_URL opens a connection per message", () =>
    Effect.gen(function*() {
      const sink = yield* startSmtpSink
      yield* Effect.flatMap(Mailer, (mailer) => Effect.forEach([mail(1), mail(2), mail(3)], (m, i) => mailer.send(m, `delivery-${i}`)))
        .pipe(Effect.provide(mailerFor(`${sink.url}?pool=false`)))
      expect(yield* sink.connections).toBe(3)
    }))

  it.scoped("the Message-ID is made of the id given: a resend of one delivery carries the same one", () =>
    Effect.gen(function*() {
      const sink = yield* startSmtpSink
      const answered = yield* Effect.flatMap(Mailer, (mailer) =>
        Effect.forEach(
          [["booking-confirmed-7.ns", mail(7)], ["booking-confirmed-8.ns", mail(8)], ["booking-confirmed-7.ns", mail(7)]] as const,
          ([id, m]) => mailer.send(m, id)
        ))
        .pipe(Effect.provide(mailerFor(sink.url)))
      const headers = (yield* sink.received).map((received) => /^Message-ID:\s+(<[^>]*>)/im.exec(received.raw)?.[1])
      expect(answered).toEqual([
        "<booking-confirmed-7.ns@example.com>",
        "<booking-confirmed-8.ns@example.com>",
        "<booking-confirmed-7.ns@example.com>"
      ])
      expect([...headers].sort()).toEqual([...answered].sort())
    }))
})
