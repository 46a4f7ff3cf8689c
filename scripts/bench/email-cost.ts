/**
 * The CPU one confirmation email costs to build, against nothing else, in three parts: rendering it
 * (`Emails.bookingConfirmation` for a booking of two tickets: text, HTML, and what to draw), as the
 * job does on the worker's event loop; then, as the mail thread does, drawing its two QR images and
 * the .ics (`drawMail`, the thread's renderer) and writing its MIME message (`composeMessage`,
 * without the file write or SMTP). A floor under any booking's cost that includes its email:
 * compare with the booking roof's CPU per request. Beside them, in the same run, the same message
 * composed by nodemailer (as the thread did before MimeMessage.ts).
 *
 *   npx tsx scripts/bench/email-cost.ts [count]
 */
import { Effect } from "effect"
import nodemailer from "nodemailer"
import type { Booking } from "../../src/Domain/Booking.ts"
import { drawMail } from "../../src/Notifications/Drawings.ts"
import { bookingConfirmation } from "../../src/Notifications/Emails.ts"
import { composeMessage } from "../../src/Notifications/MimeMessage.ts"

const count = Number(process.argv[2] ?? 3000)
const booking = {
  id: 123456,
  userId: 7,
  eventId: 3,
  ticketsCount: 2,
  status: "CONFIRMED",
  cancelledAt: null,
  createdAt: new Date(),
  event: {
    id: 3,
    title: "Sold-out Night",
    description: "An evening of music",
    date: new Date("2099-06-01T19:00:00Z"),
    location: "Arena",
    totalTickets: 1000,
    availableTickets: 998,
    organizerId: 1,
    status: "PUBLISHED",
    salesStart: null,
    salesEnd: null,
    createdAt: new Date(),
    updatedAt: new Date()
  }
} as unknown as Booking
const tickets = [
  { code: "7K2QF-M9XRB-0C4TD-HW3NP", type: "General admission" },
  { code: "Q0D4K-8XW2M-HT7R9-BC1FA", type: "VIP" }
]
const render = (i: number) => Effect.runPromise(Effect.sync(() => bookingConfirmation(booking, `customer${i}@example.com`, tickets)))
const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" })
const from = "Event Booking <no-reply@event-booking.local>"
const compose = (mail: Awaited<ReturnType<typeof render>>, i: number) =>
  composeMessage({
    from,
    ...mail,
    attachments: mail.attachments?.map((file) => ({ ...file, content: file.content as Uint8Array | string })),
    messageId: `<booking-confirmed-${i}.ns@event-booking.local>`
  }, new Date())
const send = (mail: Awaited<ReturnType<typeof render>>, i: number) =>
  transport.sendMail({
    from,
    ...mail,
    attachments: mail.attachments?.map((file) => ({
      ...file,
      content: typeof file.content === "string" ? file.content : Buffer.from(file.content as Uint8Array)
    })),
    messageId: `<booking-confirmed-${i}.ns@event-booking.local>`
  })

const named = await Promise.all(Array.from({ length: count }, (_, i) => render(i)))
const mails = named.map(drawMail)
for (let i = 0; i < 300; i++) await send(mails[i % count]!, i) // warm-up
for (let i = 0; i < 300; i++) compose(mails[i % count]!, i)
const cpu = async (work: (i: number) => Promise<unknown>) => {
  const before = process.cpuUsage()
  for (let i = 0; i < count; i++) await work(i)
  const used = process.cpuUsage(before)
  return ((used.user + used.system) / 1000 / count).toFixed(3)
}
console.log(`one confirmation email rendered, what to draw named (event loop): ${await cpu(render)} ms of CPU (${count} emails)`)
console.log(`its 2 QR images and .ics drawn (mail thread): ${await cpu(async (i) => drawMail(named[i]!))} ms of CPU (${count} emails)`)
console.log(`its MIME message written (mail thread): ${await cpu(async (i) => compose(mails[i]!, i))} ms of CPU (${count} emails)`)
console.log(`the same message composed by nodemailer (before): ${await cpu((i) => send(mails[i]!, i))} ms of CPU (${count} emails)`)
