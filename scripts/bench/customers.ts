/** The bench's buyers: 200 customer rows, a token for each minted with the server's secret (bcrypt is not the subject), and their booking requests. */
import { Effect, Layer, Redacted } from "effect"
import type pg from "pg"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import type { UserId } from "../../src/Domain/Ids.ts"
import { AppConfig } from "../../src/Platform/Config.ts"

export const customersWithTokens = async (db: pg.Client, secret: string) => {
  const { rows: customers } = await db.query<{ id: number }>(`
    INSERT INTO users (email, password_hash, role)
    SELECT 'c' || n || '@bench.example', 'not a hash', 'CUSTOMER' FROM generate_series(1, 200) n RETURNING id`)
  const tokens = await Effect.runPromise(
    Effect.forEach(
      customers,
      ({ id }) => Effect.map(Effect.flatMap(Tokens, (t) => t.issue({ userId: id as UserId, role: "CUSTOMER" })), (s) => s.token)
    ).pipe(
      Effect.provide(
        Tokens.layer.pipe(Layer.provide(AppConfig.layerTest({ jwt: { ...AppConfig.make().jwt, secret: Redacted.make(secret) } })))
      )
    )
  )
  return { customers, tokens }
}

/** autocannon's request for one ticket of the event `eventOf` names, booked by each buyer in turn. */
export const bookingRequest = (tokens: ReadonlyArray<string>, eventOf: () => number) => {
  let turn = 0
  return {
    method: "POST" as const,
    path: "/api/bookings",
    headers: { "content-type": "application/json" },
    setupRequest: (request: any) => {
      request.headers = { ...request.headers, authorization: `Bearer ${tokens[turn++ % tokens.length]}` }
      request.body = JSON.stringify({ eventId: eventOf(), ticketsCount: 1 })
      return request
    }
  }
}

/** The same booking for the booking roof (`ceiling-httpapi.ts`'s POST /book), which takes any token: one of a real token's length. */
export const roofBookingRequest = () => ({ ...bookingRequest(["x".repeat(180)], () => 1), path: "/book" })
