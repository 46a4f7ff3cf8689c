import { Schema } from "effect"

export const Role = Schema.Literal("ORGANIZER", "CUSTOMER").annotations({
  identifier: "Role",
  message: () => ({ message: "must be \"ORGANIZER\" or \"CUSTOMER\"", override: true }),
  description: "ORGANIZER publishes events; CUSTOMER books tickets"
})
export type Role = typeof Role.Type
