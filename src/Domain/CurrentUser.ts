import { Context } from "effect"
import type { UserId } from "./Ids.ts"
import type { Role } from "./Role.ts"

/** The signed-in caller, provided by the Authentication middleware from a verified bearer token. */
export class CurrentUser extends Context.Tag("CurrentUser")<CurrentUser, {
  readonly id: UserId
  readonly role: Role
}>() {}
