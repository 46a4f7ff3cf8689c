import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AlreadyOnWaitlist, BookingFailed, NotOnWaitlist, Overloaded, TicketsAvailable } from "../Domain/Errors.ts"
import { EventIdFromPath } from "../Domain/Ids.ts"
import { JoinWaitlist, WaitlistEntry } from "../Domain/WaitlistEntry.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { takesTickets } from "../Edge/Refusals.ts"

const id = HttpApiSchema.param("id", EventIdFromPath)

export class WaitlistApi extends HttpApiGroup.make("waitlist")
  .add(
    HttpApiEndpoint.post("join")`/events/${id}/waitlist`
      .setPayload(JoinWaitlist)
      .addSuccess(WaitlistEntry, { status: 201 })
      .pipe(takesTickets)
      .addError(errorResponse(TicketsAvailable))
      .addError(errorResponse(AlreadyOnWaitlist))
      .annotate(OpenApi.Summary, "Wait for tickets of an event with fewer left than you need (customers)")
      .annotate(
        OpenApi.Description,
        "When tickets come back they are offered in line order to the first entries whose whole group fits; an entry passed over " +
          "3 times has returned tickets kept for it until its group fits. An offer is a hold in your name (and an email): " +
          "confirm it before it expires, or it passes to the next entry."
      )
  )
  .add(
    HttpApiEndpoint.del("leave")`/events/${id}/waitlist`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(errorResponse(NotOnWaitlist))
      .addError(errorResponse(Overloaded))
      .addError(errorResponse(BookingFailed))
      .annotate(OpenApi.Summary, "Leave an event's waiting list (an open offer is released)")
  )
  .add(
    HttpApiEndpoint.get("mine", "/waitlist/mine")
      .addSuccess(Schema.Array(WaitlistEntry))
      .annotate(OpenApi.Summary, "List your places on waiting lists")
  )
  .middleware(Authentication)
  .annotate(OpenApi.Title, "Waiting list")
{}
