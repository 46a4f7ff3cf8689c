/**
 * Who makes a change and from where, read from the fiber that asks for it: the actor (the
 * signed-in `CurrentUser`; an operator's call, marked `ActingAs` by its middleware; else the
 * service itself, `system`), and the request's id (the one its X-Request-Id answers) and client
 * address. Nothing is set per request for it: the edge has named the request already
 * (Platform/Logging.ts), and it is read only where a change is made. Work that runs apart from its
 * request (the engine's batches) captures the origin where the change is asked for and carries it.
 */
import { HttpServerRequest } from "@effect/platform"
import { Context, Effect } from "effect"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { clientAddress } from "../Edge/ClientAddress.ts"
import { requestIdOf } from "../Platform/Logging.ts"
import { type Actor, SYSTEM } from "./AuditEntry.ts"

export interface Origin {
  readonly actor: Actor
  readonly requestId: string | null
  readonly clientAddress: string | null
}

/** Set where the caller is not a user (the operator endpoints: ADMIN_TOKEN): whom the trail names. */
export class ActingAs extends Context.Tag("Audit/ActingAs")<ActingAs, Actor>() {}

/** The service on its own, in no request (jobs, the sweep). */
export const SYSTEM_ORIGIN: Origin = { actor: SYSTEM, requestId: null, clientAddress: null }

/** The origin of the current fiber; `trustProxy` as for rate limits (TRUST_PROXY). */
export const currentOrigin = (trustProxy: number): Effect.Effect<Origin> =>
  Effect.contextWith((context: Context.Context<never>): Origin => {
    const request = Context.getOption(context, HttpServerRequest.HttpServerRequest)
    const actingAs = Context.getOption(context, ActingAs)
    const user = Context.getOption(context, CurrentUser)
    const actor: Actor = actingAs._tag === "Some"
      ? actingAs.value
      : user._tag === "Some"
      ? { type: "user", userId: user.value.id, role: user.value.role }
      : SYSTEM
    if (request._tag === "None") return actor === SYSTEM ? SYSTEM_ORIGIN : { actor, requestId: null, clientAddress: null }
    return { actor, requestId: requestIdOf(request.value) ?? null, clientAddress: clientAddress(request.value, trustProxy) }
  })

/** The same request, the service acting on its own in it (an offer made because a booking was cancelled). */
export const asSystem = (origin: Origin): Origin => origin.actor === SYSTEM ? origin : { ...origin, actor: SYSTEM }
