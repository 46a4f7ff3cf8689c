import type { Job } from "../../src/Jobs.ts"
import type { AnyJob } from "../../src/Jobs/JobCatalogue.ts"

/**
 * The bookings that `jobs` confirm, one entry each: a BookingsConfirmed job lists every booking of
 * its transaction (an older BookingConfirmed job, one).
 */
export const confirmedBookings = (jobs: ReadonlyArray<AnyJob>, eventId?: number) =>
  (jobs as ReadonlyArray<Job>)
    .flatMap((job) => job._tag === "BookingsConfirmed" ? job.bookings : job._tag === "BookingConfirmed" ? [job] : [])
    .filter((booking) => eventId === undefined || booking.eventId === eventId)
    .map(({ bookingId, eventId, ticketsCount, userId }) => ({ bookingId, userId, eventId, ticketsCount }))
