/**
 * The application's jobs: each feature's job types joined into the one catalogue the job
 * machinery runs on (as src/Api.ts joins the HttpApi groups). A job type missing here cannot be
 * enqueued (its feature's jobs die at the outbox) nor run.
 */
import { Layer } from "effect"
import { AnnouncementJobTypes } from "./Announcements/Announcements.ts"
import { EventJobTypes } from "./Events/EventJobTypes.ts"
import { InventoryJobTypes } from "./Inventory/InventoryJobTypes.ts"
import { JobCatalogue, type JobOf } from "./Jobs/JobCatalogue.ts"
import { someEndpointListens, WebhookJobTypes } from "./Webhooks/WebhookJobTypes.ts"

// An announcement is written only where a webhook endpoint listens (decided in the transaction).
const [announcement] = AnnouncementJobTypes
const ListenedAnnouncement = { ...announcement, onlyIf: someEndpointListens }

const AppJobTypes = [...InventoryJobTypes, ...EventJobTypes, ListenedAnnouncement, ...WebhookJobTypes] as const

/** Every job of the application. */
export type Job = JobOf<typeof AppJobTypes>
export type JobName = Job["_tag"]

export const jobCatalogue = JobCatalogue.make(AppJobTypes)

export const JobCatalogueLive = Layer.succeed(JobCatalogue, jobCatalogue)
