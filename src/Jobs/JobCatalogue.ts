/**
 * The jobs the machinery carries, given to it from above. A feature declares the jobs it emits as
 * `JobType`s (the payload's schema, its queue, when it may run); the application joins them into
 * one `JobCatalogue` (src/Jobs.ts), as src/Api.ts joins the HttpApi groups. The outbox encodes
 * with it, the workers decode with it, the relay merges with it: Jobs/ knows no feature's job.
 *
 * Everything here is built once, with the catalogue: the hot path only looks a tag up.
 */
import { Context, type Effect, type ParseResult, Schema, SchemaAST } from "effect"

/**
 * The queues the workers run (each with its concurrency, Workers.ts): a customer's emails, the
 * fan-outs attendees must hear of, and delayed work (hold expiries) that a mail backlog must not delay.
 * Each job type names its own; webhooks (fan-out and deliveries) have theirs, so a slow receiver
 * never delays an email.
 */
export const QueueNames = ["email-queue", "notification-queue", "holds-queue", "webhook-queue"] as const
export type QueueName = typeof QueueNames[number]

/** Any job: a tagged value; its tag names it on the wire (the outbox row, the BullMQ job). */
export interface AnyJob {
  readonly _tag: string
  readonly [field: string]: unknown
}

/**
 * Several payloads (as encoded) of one job type published as one job, up to `max` by `size`: the
 * queue and the worker pay their per-job cost once for them. The first payload's other fields
 * (its `traceparent`) stay.
 */
export interface JobMerge {
  readonly max: number
  readonly size: (payload: unknown) => number
  readonly combine: (payloads: ReadonlyArray<unknown>) => unknown
}

/** One job type, as its feature declares it. */
export interface JobType<A extends AnyJob = AnyJob> {
  readonly tag: A["_tag"]
  readonly schema: Schema.Schema<A, any>
  readonly queue: QueueName
  /** When a job may run (null: at once). */
  readonly runAt?: (job: A) => Date | null
  readonly merge?: JobMerge
  /**
   * A condition (SQL over the outbox row's `r.payload`, jsonb) decided in the caller's transaction:
   * a job of this type is written only where it holds (a webhook event only when some endpoint
   * listens). Given by the application (src/Jobs.ts), which knows the tables it reads.
   */
  readonly onlyIf?: string
}

/** The literal `_tag` of a tagged struct's schema. */
const tagOf = (schema: Schema.Schema.Any): string => {
  const tag = SchemaAST.getPropertySignatures(schema.ast).find((property) => property.name === "_tag")
  if (tag === undefined || !SchemaAST.isLiteral(tag.type)) throw new Error("a job's schema is a tagged struct")
  return String(tag.type.literal)
}

/** A job type of `schema` (a tagged struct), on `queue`. */
export const jobType = <A extends AnyJob, I>(
  schema: Schema.Schema<A, I>,
  options: {
    readonly queue: QueueName
    readonly runAt?: (job: A) => Date | null
    readonly merge?: JobMerge
    readonly onlyIf?: string
  }
): JobType<A> => ({ tag: tagOf(schema), schema, ...options })

/** The union of the jobs of `types`. */
export type JobOf<Types extends ReadonlyArray<JobType<any>>> = Types[number] extends infer T ? T extends JobType<infer A> ? A : never
  : never

export interface JobCatalogueShape {
  /** The union of the jobs' schemas (payload to job). */
  readonly schema: Schema.Schema<AnyJob, any>
  /** Every job's tag: the names an outbox row may carry. */
  readonly names: ReadonlyArray<string>
  /** A job as its payload (JSON); a job of no declared type is a defect. */
  readonly encode: (job: AnyJob) => unknown
  /** A payload (a BullMQ job's data) as its job, by the union of the declared schemas. */
  readonly decode: (payload: unknown) => Effect.Effect<AnyJob, ParseResult.ParseError>
  readonly queueOf: (job: AnyJob) => QueueName
  readonly runAtOf: (job: AnyJob) => Date | null
  /** The merge of each type that has one, by tag. */
  readonly merges: ReadonlyMap<string, JobMerge>
  /** The condition of each type that has one, by tag. */
  readonly conditions: ReadonlyMap<string, string>
}

export class JobCatalogue extends Context.Tag("JobCatalogue")<JobCatalogue, JobCatalogueShape>() {
  /** The catalogue of `types` (their tags must differ). */
  static make(types: ReadonlyArray<JobType<any>>): JobCatalogueShape {
    const byTag = new Map(types.map((type) => [type.tag, { type, encode: Schema.encodeSync(type.schema) }] as const))
    if (byTag.size !== types.length) throw new Error("two job types share a tag")
    const find = (job: AnyJob) => {
      const found = byTag.get(job._tag)
      if (found === undefined) throw new Error(`no job type is named ${job._tag}`)
      return found
    }
    const [first, ...rest] = types.map((type) => type.schema)
    const union: Schema.Schema<AnyJob, any> = rest.length === 0 ? first! : Schema.Union(first!, ...rest)
    return {
      schema: union,
      names: types.map((type) => type.tag),
      encode: (job) => find(job).encode(job),
      decode: Schema.decodeUnknown(union),
      queueOf: (job) => find(job).type.queue,
      runAtOf: (job) => find(job).type.runAt?.(job) ?? null,
      merges: new Map(types.flatMap((type) => type.merge === undefined ? [] : [[type.tag, type.merge] as const])),
      conditions: new Map(types.flatMap((type) => type.onlyIf === undefined ? [] : [[type.tag, type.onlyIf] as const]))
    }
  }
}
