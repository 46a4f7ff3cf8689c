/** The relay's direct path publishes the confirmations of the commits it gathered as one job. */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { BookingsConfirmed, MERGED_BOOKINGS_MAX } from "../../src/Inventory/InventoryJobTypes.ts"
import { jobCatalogue } from "../../src/Jobs.ts"
import type { OutboxEntry } from "../../src/Jobs/Outbox.ts"
import { jobsOf } from "../../src/Jobs/Relay.ts"

const confirmation = (id: number, bookings: number): OutboxEntry => ({
  id: String(id),
  jobId: `job-${id}`,
  queue: "email-queue",
  name: "BookingsConfirmed",
  payload: {
    _tag: "BookingsConfirmed",
    bookings: Array.from({ length: bookings }, (_, i) => ({ bookingId: id * 1000 + i, userId: 7, eventId: 3, ticketsCount: 1 }))
  },
  delayMs: 0
})
const expiry: OutboxEntry = {
  id: "9",
  jobId: "job-9",
  queue: "holds-queue",
  name: "HoldExpiry",
  payload: { _tag: "HoldExpiry", holdId: 1, eventId: 3, expiresAt: "2099-01-01T00:00:00.000Z" },
  delayMs: 1000
}
const bookingIds = (entry: OutboxEntry) =>
  Schema.decodeUnknownSync(BookingsConfirmed)(entry.payload).bookings.map(({ bookingId }) => bookingId)

describe("the relay's merging of confirmations", () => {
  it("confirmations of several commits become one valid job under a new id; other jobs pass as they are", () => {
    const jobs = jobsOf([confirmation(1, 2), expiry, confirmation(2, 1), confirmation(3, 1)], jobCatalogue.merges)
    expect(jobs.map(({ jobId, name }) => [name, jobId])).toEqual([["BookingsConfirmed", "job-1-3"], ["HoldExpiry", "job-9"]])
    expect(bookingIds(jobs[0]!)).toEqual([1000, 1001, 2000, 3000])
  })

  it("a lone confirmation keeps its own row's job id", () => {
    expect(jobsOf([confirmation(1, 3), expiry], jobCatalogue.merges)).toEqual([confirmation(1, 3), expiry])
  })

  it("a merged job carries at most MERGED_BOOKINGS_MAX bookings; every booking is in exactly one job", () => {
    const entries = Array.from({ length: 7 }, (_, i) => confirmation(i + 1, 60))
    const jobs = jobsOf(entries, jobCatalogue.merges)
    expect(jobs.every((job) => bookingIds(job).length <= MERGED_BOOKINGS_MAX)).toBe(true)
    expect(jobs.flatMap(bookingIds).sort()).toEqual(entries.flatMap(bookingIds).sort())
    expect(new Set(jobs.map(({ jobId }) => jobId)).size).toBe(jobs.length)
  })
})
