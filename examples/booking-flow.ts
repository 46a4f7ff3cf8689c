/**
 * The booking flow through the typed client (src/Client.ts), against a running server:
 * an organizer signs up, publishes an event and adds a VIP ticket type beside the default one; a
 * customer signs up, finds it, books one ticket of each type in one booking, is refused more than
 * are left (a typed `NotEnoughTickets`), lists their bookings and their tickets' codes; the organizer
 * checks one ticket in at the door, and is refused when it is scanned again (a typed `AlreadyCheckedIn`).
 *
 *   npm start                                         # in another terminal
 *   npm run example                                   # http://localhost:4000
 *   npm run example -- http://localhost:8080          # or API_URL=http://localhost:8080 npm run example
 *
 * New accounts each run (emails carry the run's time), so it can be run again and again.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Option, Redacted } from "effect"
import * as Client from "../src/Client.ts"

const DEFAULT_URL = "http://localhost:4000"

// The command line's first argument, else API_URL, else the default.
const baseUrl = Effect.gen(function*() {
  const argument = Option.fromNullable(process.argv[2])
  if (Option.isSome(argument)) return argument.value
  return yield* Config.string("API_URL").pipe(Config.withDefault(DEFAULT_URL))
})

const flow = Effect.gen(function*() {
  const url = yield* baseUrl
  yield* Console.log(`API at ${url}`)
  const api = yield* Client.makeFetch({ baseUrl: url })
  const run = Date.now().toString(36)
  const password = Redacted.make("example-password-123")

  // Register, then sign in: the token makes a client that acts as that account.
  const signUp = (role: "ORGANIZER" | "CUSTOMER") =>
    Effect.gen(function*() {
      const email = `${role.toLowerCase()}-${run}@example.com`
      yield* api.auth.register({ payload: { email, password, role } })
      const session = yield* api.auth.login({ payload: { email, password } })
      yield* Console.log(`${role.toLowerCase()} ${email} signed in (user ${session.user.id})`)
      return yield* Client.makeFetch({ baseUrl: url, token: session.token })
    })

  const organizer = yield* signUp("ORGANIZER")
  const event = yield* organizer.events.create({
    payload: {
      title: `Example Conf ${run}`,
      description: "Published by examples/booking-flow.ts",
      date: new Date(Date.now() + 30 * 86_400_000),
      location: "Convention Center",
      // Few enough that asking for more than are left stays within a customer's own limit
      // (MAX_TICKETS_PER_CUSTOMER_PER_EVENT, 10): the refusal is for want of tickets.
      totalTickets: 5
    }
  })
  yield* Console.log(`published event ${event.id} "${event.title}" on ${event.date.toISOString()}, ${event.totalTickets} tickets`)

  // Every event starts with a default type ("General admission"); a second type shares its capacity.
  const vip = yield* organizer.ticketTypes.create({ path: { id: event.id }, payload: { name: "VIP", priceCents: 9900, quota: 2 } })
  const types = yield* organizer.ticketTypes.list({ path: { id: event.id } })
  const general = types.find((type) => type.isDefault)!
  yield* Console.log(`ticket types: ${types.map((t) => `${t.name} ${t.priceCents / 100} ${t.currency} (${t.left} left)`).join(", ")}`)

  const customer = yield* signUp("CUSTOMER")
  const upcoming = yield* customer.events.list({ urlParams: {} })
  const listed = upcoming.find((e) => e.id === event.id)
  yield* Console.log(`upcoming events: ${upcoming.length}; ours is listed with ${listed?.availableTickets} tickets available`)

  // Several types in one booking: all of them or nothing.
  const items = [{ ticketTypeId: general.id, count: 1 }, { ticketTypeId: vip.id, count: 1 }]
  const booking = yield* customer.bookings.book({ headers: {}, payload: { eventId: event.id, items } })
  const kinds = booking.items.map((item) => `${item.count} ${item.name}`).join(" + ")
  yield* Console.log(`booked ${booking.ticketsCount} tickets, ${kinds} (booking ${booking.id}); ${booking.event.availableTickets} left`)

  // Failures are values of the API's error classes: handle the ones that mean something here.
  yield* customer.bookings.book({ headers: {}, payload: { eventId: event.id, ticketsCount: booking.event.availableTickets + 1 } }).pipe(
    Effect.flatMap(() => Effect.dieMessage("booking more tickets than are left should have been refused")),
    Effect.catchTag(
      "NotEnoughTickets",
      (refused) => Console.log(`asking for more was refused (${refused._tag}, ${refused.available} available): ${refused.message}`)
    )
  )

  const mine = yield* customer.bookings.mine({ urlParams: {} })
  yield* Console.log(`my bookings: ${mine.map((b) => `${b.ticketsCount} × "${b.event.title}"`).join(", ")}`)

  // Each ticket has its own code (its QR image: GET /api/bookings/:id/tickets/:code/qr.svg).
  const tickets = yield* customer.tickets.listForBooking({ path: { id: booking.id } })
  yield* Console.log(`my tickets: ${tickets.map((t) => `${t.code} (${t.ticketTypeName}, ${t.status})`).join(", ")}`)

  // At the door the organizer scans a code: once it is in, the same code again is refused.
  const checkIn = (code: string) => organizer.tickets.checkIn({ path: { id: event.id }, headers: {}, payload: { code } })
  const scanned = yield* checkIn(tickets[0]!.code)
  yield* Console.log(`checked in ${scanned.code} (${scanned.ticketTypeName}) for ${scanned.email} at ${scanned.checkedInAt.toISOString()}`)
  yield* checkIn(tickets[0]!.code).pipe(
    Effect.flatMap(() => Effect.dieMessage("scanning a ticket twice should have been refused")),
    Effect.catchTag("AlreadyCheckedIn", (refused) => Console.log(`scanned again: refused (${refused._tag}): ${refused.message}`))
  )
})

flow.pipe(
  // The server is not there: say so plainly rather than with a stack.
  Effect.catchTag(
    "RequestError",
    (error) =>
      Effect.flatMap(baseUrl, (url) => Effect.fail(`cannot reach the API at ${url} (is the server running? npm start): ${error.message}`))
  ),
  NodeRuntime.runMain
)
