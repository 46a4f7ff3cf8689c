import { Schema } from "effect"
import { checkAsked, TicketsAsked, TicketsOfType } from "./Booking.ts"
import { EventId, HoldId, WaitlistEntryId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"

export const WaitlistEntry = Schema.Struct({
  id: WaitlistEntryId,
  eventId: EventId,
  ticketsCount: Schema.Int,
  items: Schema.Array(TicketsOfType).annotations({ description: "The tickets it waits for, by type (ticketsCount is their sum)" }),
  position: Schema.Int.annotations({ description: "1 for the first in line (entries with an open offer count)" }),
  status: Schema.Literal("WAITING", "OFFERED").annotations({
    description: "OFFERED: tickets are held for you (holdId); confirm the hold before it expires"
  }),
  holdId: Schema.NullOr(HoldId)
}).annotations({ identifier: "WaitlistEntry" })
export type WaitlistEntry = typeof WaitlistEntry.Type

export const JoinWaitlist = Schema.Struct({
  ...TicketsAsked
}).pipe(Schema.filter(checkAsked)).annotations({ identifier: "JoinWaitlist", ...strictPayload })
export type JoinWaitlist = typeof JoinWaitlist.Type
