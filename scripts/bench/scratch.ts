/**
 * What a bench run leaves on the machine, and takes away when it ends: the folder its service
 * writes confirmation emails to (tens of thousands of files a run) and, with REDIS_URL, its queue
 * keys in Redis, under a prefix of the run's own.
 */
import { randomBytes } from "node:crypto"
import { existsSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { deleteKeysUnder } from "../redis-keys.ts"

/**
 * The emails go to a RAM disk when the machine has one: creating a file on this machine's disk
 * costs 0.02–0.6 ms of kernel time, varying from run to run, and tens of thousands a run made the
 * figures swing; that is the development mailbox's cost (SMTP writes no file), not the service's.
 */
const RAM_DISK = "/dev/shm"

export const scratch = () => {
  const run = randomBytes(4).toString("hex")
  const mailDir = join(existsSync(RAM_DISK) ? RAM_DISK : tmpdir(), `bench-mail-${run}`)
  const queuePrefix = `bench-${run}`
  const redisUrl = process.env.REDIS_URL
  return {
    mailDir,
    /** The service's settings for it. */
    env: { MAIL_DIR: mailDir, ...(redisUrl ? { REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix } : {}) },
    remove: async () => {
      rmSync(mailDir, { recursive: true, force: true })
      if (redisUrl) await deleteKeysUnder(redisUrl, queuePrefix)
    }
  }
}

/** A new, empty database on DATABASE_URL's server, named `<prefix>_<random>`: its URL, and how to drop it. */
export const scratchDatabase = async (prefix: string) => {
  const server = process.env.DATABASE_URL
  if (server === undefined) throw new Error("DATABASE_URL: the PostgreSQL server to make a scratch database on")
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  const database = `${prefix}_${randomBytes(6).toString("hex")}`
  await admin.query(`CREATE DATABASE ${database}`)
  const url = new URL(server)
  url.pathname = `/${database}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      await admin.end()
    }
  }
}
