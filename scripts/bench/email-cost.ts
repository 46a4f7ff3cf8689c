/**
 * The CPU one confirmation email costs to build, against nothing else: nodemailer composing the
 * MIME message (text and HTML, as `Emails.bookingConfirmation` makes it) in this thread, as the
 * mail thread does for every email (without the file write or SMTP). A floor under any booking's
 * cost that includes its email: compare with the booking roof's CPU per request.
 *
 *   npx tsx scripts/bench/email-cost.ts [count]
 */
import nodemailer from "nodemailer"
import type { Booking } from "../../src/Domain/Booking.ts"
import { bookingConfirmation } from "../../src/Notifications/Emails.ts"

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
const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" })
const send = (i: number) =>
  transport.sendMail({
    from: "Event Booking <no-reply@event-booking.local>",
    ...bookingConfirmation(booking, `customer${i}@example.com`),
    messageId: `<booking-confirmed-${i}.ns@event-booking.local>`
  })

for (let i = 0; i < 300; i++) await send(i) // warm-up
const before = process.cpuUsage()
for (let i = 0; i < count; i++) await send(i)
const used = process.cpuUsage(before)
console.log(
  `one confirmation email built by nodemailer: ${((used.user + used.system) / 1000 / count).toFixed(3)} ms of CPU (${count} emails)`
)
