import { Schema } from "effect"
import { RequestedTickets } from "./Booking.ts"
import { EventId, HoldId, WaitlistEntryId } from "./Ids.ts"
import { strictPayload } from "./Payload.ts"

export const WaitlistEntry = Schema.Struct({
  id: WaitlistEntryId,
  eventId: EventId,
  ticketsCount: Schema.Int,
  position: Schema.Int.annotations({ description: "1 for the first in line (entries with an open offer count)" }),
  status: Schema.Literal("WAITING", "OFFERED").annotations({
    description: "OFFERED: tickets are held for you (holdId); confirm the hold before it expires"
  }),
  holdId: Schema.NullOr(HoldId)
}).annotations({ identifier: "WaitlistEntry" })
export type WaitlistEntry = typeof WaitlistEntry.Type

export const JoinWaitlist = Schema.Struct({
  ticketsCount: RequestedTickets
}).annotations({ identifier: "JoinWaitlist", ...strictPayload })
export type JoinWaitlist = typeof JoinWaitlist.Type
