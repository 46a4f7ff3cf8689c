import { Effect } from "effect"
import { CurrentUser } from "./CurrentUser.ts"
import { Forbidden } from "./Errors.ts"
import type { UserId } from "./Ids.ts"
import type { Role } from "./Role.ts"

const roleNames: Record<Role, string> = { ORGANIZER: "organizers", CUSTOMER: "customers" }

/** The caller, if their role is `role`; otherwise 403. */
export const requireRole = (role: Role): Effect.Effect<CurrentUser["Type"], Forbidden, CurrentUser> =>
  Effect.filterOrFail(
    CurrentUser,
    (user) => user.role === role,
    () => new Forbidden({ message: `Only ${roleNames[role]} can do this` })
  )

/** Succeeds when `actor` owns the resource; otherwise 403. */
export const requireOwner = (actor: UserId, ownerId: UserId, what: string): Effect.Effect<void, Forbidden> =>
  actor === ownerId ? Effect.void : Effect.fail(new Forbidden({ message: `You can only do this with your own ${what}` }))
