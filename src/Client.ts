/**
 * The typed client for this API, derived from the same declaration as the server (src/Api.ts):
 * one method per endpoint, grouped as the API is (`auth`, `events`, `bookings`, `tickets`, `health`, `admin`, ...),
 * payloads checked and answers decoded by the API's schemas, and failures as the domain's error
 * classes (`EmailTaken`, `NotEnoughTickets`, ...) to handle with `Effect.catchTag`.
 *
 *   const api = yield* Client.makeFetch({ baseUrl: "http://localhost:4000", token })
 *   const booking = yield* api.bookings.book({ payload: { eventId, ticketsCount: 2 } })
 *
 * See examples/booking-flow.ts for a whole flow (`npm run example`).
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, type Redacted } from "effect"
import { Api } from "./Api.ts"

export interface ClientOptions {
  /**
   * Where the server is, e.g. `http://localhost:4000` (the endpoints' paths already start with
   * `/api`). Unset: requests go wherever the provided HttpClient sends them (the tests' server).
   */
  readonly baseUrl?: string | URL | undefined
  /** The token from `auth.login`, sent as `Authorization: Bearer <token>` on every request. */
  readonly token?: string | Redacted.Redacted | undefined
}

/** The client over whichever `HttpClient` the caller provides. */
export const make = ({ baseUrl, token }: ClientOptions = {}) =>
  HttpApiClient.make(Api, {
    baseUrl,
    transformClient: token === undefined ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  })

/** Ready to use: the client over `fetch` (Node 18+, Deno, Bun, browsers). */
export const makeFetch = (options: ClientOptions = {}) => make(options).pipe(Effect.provide(FetchHttpClient.layer))

export type Client = Effect.Effect.Success<ReturnType<typeof make>>
