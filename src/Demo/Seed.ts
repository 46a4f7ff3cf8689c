/**
 * Demo data (`npm run seed`): an organizer, three customers, a dozen events (some selling several
 * ticket types: General admission, VIP, Student) and bookings across those types, made through the
 * same services as the API (passwords hashed, bookings through the booking engine with their
 * tickets and confirmation jobs). It only adds what is missing and never changes or removes
 * anything, so a second run changes nothing: accounts are found by email, events by their
 * organizer and title (a cancelled one counts as missing), ticket types by event and name,
 * bookings by customer and event.
 */
import { Clock, Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { Passwords } from "../Accounts/Passwords.ts"
import type { User } from "../Accounts/User.ts"
import { UsersRepo } from "../Accounts/UsersRepo.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import { Bookings } from "../Bookings/Bookings.ts"
import { BookingsRepo } from "../Bookings/BookingsRepo.ts"
import type { Event } from "../Domain/Event.ts"
import type { UserId } from "../Domain/Ids.ts"
import type { Role } from "../Domain/Role.ts"
import { DEFAULT_TICKET_TYPE, type TicketType } from "../Domain/TicketType.ts"
import { Events } from "../Events/Events.ts"
import { EventsRepo } from "../Events/EventsRepo.ts"
import { SalesRepo } from "../Events/SalesRepo.ts"
import { Inventory } from "../Inventory/Inventory.ts"
import { InventoryRepo } from "../Inventory/InventoryRepo.ts"
import { JobQueue } from "../Jobs/JobQueue.ts"
import { Outbox } from "../Jobs/Outbox.ts"
import { Transactions } from "../Storage/Transactions.ts"
import { TicketTypes } from "../TicketTypes/TicketTypes.ts"
import { TicketTypesRepo } from "../TicketTypes/TicketTypesRepo.ts"

/** Every demo account's password (demo data only: never seed a database real people use). */
export const DEMO_PASSWORD = "demo-password"

export interface DemoAccount {
  readonly email: string
  readonly role: Role
}

export const ORGANIZER: DemoAccount = { email: "organizer@demo.example.com", role: "ORGANIZER" }
export const CUSTOMERS = {
  alice: { email: "alice@demo.example.com", role: "CUSTOMER" },
  bob: { email: "bob@demo.example.com", role: "CUSTOMER" },
  carol: { email: "carol@demo.example.com", role: "CUSTOMER" }
} as const satisfies Record<string, DemoAccount>

/** The logins the seed prints: the same every run. */
export const logins: ReadonlyArray<DemoAccount> = [ORGANIZER, ...Object.values(CUSTOMERS)]

/** A ticket type beside the event's default one (General admission); all share the event's capacity. */
interface DemoTicketType {
  readonly name: string
  readonly priceCents: number
  readonly quota: number
}

interface DemoEvent {
  readonly title: string
  readonly description: string
  readonly location: string
  /** Days from the day of the first seeding, at 18:00 UTC. */
  readonly inDays: number
  readonly totalTickets: number
  /** The default type's price, in euro cents (set when the seed creates the event; none: free). */
  readonly priceCents?: number
  readonly types?: ReadonlyArray<DemoTicketType>
}

export const GENERAL = DEFAULT_TICKET_TYPE

export const EVENTS: ReadonlyArray<DemoEvent> = [
  { title: "Jazz Night", description: "A quartet, a small room.", location: "Blue Cellar", inDays: 3, totalTickets: 4, priceCents: 2500 },
  {
    title: "Cooking Masterclass",
    description: "Fresh pasta from scratch.",
    location: "Market Kitchen",
    inDays: 5,
    totalTickets: 12,
    priceCents: 6500
  },
  { title: "TypeScript Meetup", description: "Talks and pizza.", location: "Community Hall", inDays: 7, totalTickets: 60 },
  { title: "Photography Walk", description: "Old town at golden hour.", location: "Clock Tower", inDays: 9, totalTickets: 20 },
  { title: "Indie Film Screening", description: "Three shorts and a Q&A.", location: "Lumen Cinema", inDays: 10, totalTickets: 80 },
  { title: "Chess Tournament", description: "Swiss system, 7 rounds.", location: "City Library", inDays: 12, totalTickets: 64 },
  {
    title: "Effect Workshop",
    description: "Typed errors, layers and fibers, hands on.",
    location: "Tech Hub, Room 2",
    inDays: 14,
    totalTickets: 25,
    priceCents: 4900,
    types: [{ name: "Student", priceCents: 1900, quota: 8 }]
  },
  { title: "Startup Pitch Evening", description: "Ten pitches, one jury.", location: "Innovation Center", inDays: 17, totalTickets: 120 },
  { title: "City Marathon Expo", description: "Bib pick-up and stands.", location: "Exhibition Halls", inDays: 21, totalTickets: 500 },
  { title: "Science Museum Late", description: "Exhibits after dark.", location: "Science Museum", inDays: 25, totalTickets: 200 },
  {
    title: "Open-Air Concert",
    description: "Summer orchestra in the park.",
    location: "Riverside Park",
    inDays: 30,
    totalTickets: 300,
    priceCents: 3500,
    types: [{ name: "VIP", priceCents: 9000, quota: 30 }, { name: "Student", priceCents: 1500, quota: 60 }]
  },
  {
    title: "Winter Tech Conference",
    description: "Two days, three tracks.",
    location: "Convention Center",
    inDays: 60,
    totalTickets: 400,
    priceCents: 29900,
    types: [{ name: "VIP", priceCents: 59900, quota: 40 }, { name: "Student", priceCents: 9900, quota: 80 }]
  }
]

interface DemoBooking {
  readonly customer: keyof typeof CUSTOMERS
  readonly event: string
  /** Tickets by type name: the default type alone is booked as `ticketsCount`, one other type by `ticketTypeId`, several as `items`. */
  readonly tickets: Readonly<Record<string, number>>
}

/** Jazz Night ends sold out. */
export const BOOKINGS: ReadonlyArray<DemoBooking> = [
  { customer: "alice", event: "Jazz Night", tickets: { [GENERAL]: 2 } },
  { customer: "bob", event: "Jazz Night", tickets: { [GENERAL]: 2 } },
  { customer: "alice", event: "TypeScript Meetup", tickets: { [GENERAL]: 1 } },
  { customer: "carol", event: "TypeScript Meetup", tickets: { [GENERAL]: 3 } },
  { customer: "alice", event: "Effect Workshop", tickets: { [GENERAL]: 1, Student: 1 } },
  { customer: "bob", event: "Open-Air Concert", tickets: { [GENERAL]: 2, VIP: 2 } },
  { customer: "carol", event: "Cooking Masterclass", tickets: { [GENERAL]: 1 } },
  { customer: "carol", event: "Chess Tournament", tickets: { [GENERAL]: 1 } },
  { customer: "carol", event: "Winter Tech Conference", tickets: { Student: 2 } }
]

export interface Tally {
  readonly total: number
  readonly created: number
}

export interface SeedReport {
  readonly accounts: Tally
  readonly events: Tally
  readonly ticketTypes: Tally
  readonly bookings: Tally
  /** Demo bookings that could not be made, and why (the event has started, or sold out to others). */
  readonly notBooked: ReadonlyArray<string>
}

/** A demo email taken by an account of another role: the seed would not be what it says. */
export class SeedConflict extends Schema.TaggedError<SeedConflict>()("SeedConflict", {
  message: Schema.String
}) {}

const eventDate = (today: Date, inDays: number) =>
  new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + inDays, 18))

/** Puts the demo data in place. */
export class Seed extends Context.Tag("Seed")<Seed, {
  readonly run: Effect.Effect<SeedReport, SeedConflict>
}>() {
  /** Needs the (migrated) database and AppConfig. */
  static readonly layer = Layer.effect(
    Seed,
    Effect.gen(function*() {
      const users = yield* UsersRepo
      const passwords = yield* Passwords
      const eventsRepo = yield* EventsRepo
      const events = yield* Events
      const ticketTypesRepo = yield* TicketTypesRepo
      const ticketTypes = yield* TicketTypes
      const bookings = yield* Bookings

      const conflict = ({ email, role }: DemoAccount, existing: Option.Option<User>) =>
        Option.isSome(existing) && existing.value.role !== role
          ? Option.some(new SeedConflict({ message: `${email} already exists as ${existing.value.role}, not ${role}` }))
          : Option.none()
      const conflictOf = (demo: DemoAccount) => Effect.map(users.findByEmail(demo.email), (existing) => conflict(demo, existing))

      const account = ({ email, role }: DemoAccount): Effect.Effect<{ readonly id: UserId; readonly created: boolean }, SeedConflict> =>
        Effect.gen(function*() {
          const existing = yield* users.findByEmail(email)
          if (Option.isSome(existing)) {
            const refused = conflict({ email, role }, existing)
            if (Option.isSome(refused)) return yield* refused.value
            return { id: existing.value.id, created: false }
          }
          const passwordHash = yield* passwords.hash(Redacted.make(DEMO_PASSWORD))
          return yield* users.create({ email, passwordHash, role }).pipe(
            Effect.map((user) => ({ id: user.id, created: true })),
            // Another seed run got there first.
            Effect.catchTag("EmailTaken", () => account({ email, role }))
          )
        })

      return {
        run: Effect.gen(function*() {
          // Every account is checked before anything is written.
          const conflicts = yield* Effect.forEach(logins, conflictOf)
          const conflict = Option.firstSomeOf(conflicts)
          if (Option.isSome(conflict)) return yield* conflict.value

          const organizer = yield* account(ORGANIZER)
          const organizerUser = { id: organizer.id, role: "ORGANIZER" } as const
          const customers = yield* Effect.forEach(
            Object.entries(CUSTOMERS),
            ([name, demo]) => Effect.map(account(demo), (result) => [name, result] as const)
          )
          const customerIds = Object.fromEntries(customers.map(([name, { id }]) => [name, id])) as Record<keyof typeof CUSTOMERS, UserId>

          // The demo organizer's events still running (a cancelled one counts as missing); the demo has a dozen.
          const existing = (yield* eventsRepo.listByOrganizer(organizer.id, { limit: 100, offset: 0 })).items
            .filter((event) => event.status !== "CANCELLED")
          const today = new Date(yield* Clock.currentTimeMillis)
          let eventsCreated = 0
          let typesCreated = 0
          const byTitle = new Map<string, { readonly event: Event; readonly types: ReadonlyArray<TicketType> }>()
          for (const demo of EVENTS) {
            let event = existing.find((event) => event.title === demo.title)
            if (event === undefined) {
              event = yield* events.create(organizerUser, {
                title: demo.title,
                description: demo.description,
                location: demo.location,
                date: eventDate(today, demo.inDays),
                totalTickets: demo.totalTickets
              }).pipe(Effect.orDie) // the organizer exists and every date is ahead
              eventsCreated++
              typesCreated++ // its default type
              // Priced once, when made: an existing event's default type is left as it is.
              const general = (yield* ticketTypesRepo.listByEvent(event.id)).find((type) => type.isDefault)!
              if (demo.priceCents !== undefined) {
                yield* ticketTypes.update(organizerUser, event.id, general.id, { priceCents: demo.priceCents }).pipe(Effect.orDie)
              }
            }
            const present = yield* ticketTypesRepo.listByEvent(event.id)
            for (const type of demo.types ?? []) {
              if (present.some((p) => p.name.toLowerCase() === type.name.toLowerCase())) continue
              // Its own fresh event (or a running one of the demo organizer's): nothing to refuse.
              yield* ticketTypes.create(organizerUser, event.id, type).pipe(Effect.orDie)
              typesCreated++
            }
            byTitle.set(demo.title, { event, types: yield* ticketTypesRepo.listByEvent(event.id) })
          }

          let bookingsCreated = 0
          let bookingsTotal = 0
          const notBooked: Array<string> = []
          for (const demo of BOOKINGS) {
            const { event, types } = byTitle.get(demo.event)!
            const customerId = customerIds[demo.customer]
            const mine = (yield* bookings.listMine(customerId, { limit: 100, offset: 0 })).items
            if (mine.some((booking) => booking.eventId === event.id)) {
              bookingsTotal++
              continue
            }
            const items = Object.entries(demo.tickets).map(([name, count]) => {
              const type = types.find((type) => type.name === name)!
              return { type, count }
            })
            // The three ways to ask: the default type alone, one other type, several at once.
            const asked = items.length > 1
              ? { items: items.map(({ count, type }) => ({ ticketTypeId: type.id, count })) }
              : items[0]!.type.isDefault
              ? { ticketsCount: items[0]!.count }
              : { ticketTypeId: items[0]!.type.id, ticketsCount: items[0]!.count }
            const outcome = yield* Effect.either(bookings.book(customerId, { eventId: event.id, ...asked }))
            if (Either.isRight(outcome)) {
              bookingsCreated++
              bookingsTotal++
            } else {
              notBooked.push(`${demo.customer} on "${demo.event}": ${outcome.left.message}`)
            }
          }

          return {
            accounts: { total: 1 + customers.length, created: [organizer, ...customers.map(([, c]) => c)].filter((a) => a.created).length },
            events: { total: EVENTS.length, created: eventsCreated },
            ticketTypes: { total: EVENTS.reduce((sum, event) => sum + 1 + (event.types ?? []).length, 0), created: typesCreated },
            bookings: { total: bookingsTotal, created: bookingsCreated },
            notBooked
          } satisfies SeedReport
        })
      }
    })
  ).pipe(
    Layer.provide(Layer.mergeAll(Events.layer, TicketTypes.layer.pipe(Layer.provide(Events.layer)), Bookings.layer)),
    Layer.provide(Inventory.layer),
    Layer.provide(JobQueue.layer),
    Layer.provide(Outbox.layer),
    Layer.provide(
      Layer.mergeAll(
        UsersRepo.layer,
        EventsRepo.layer,
        SalesRepo.layer,
        TicketTypesRepo.layer,
        BookingsRepo.layer,
        InventoryRepo.layer,
        AuditLog.layer,
        Transactions.layer,
        Passwords.layer
      )
    )
  )
}
