/** Deletes every Redis key under `prefix` (`<prefix>:*`): what a bench run or a test leaves behind. */
import { Redis } from "ioredis"

export const deleteKeysUnder = async (redisUrl: string, prefix: string) => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = "0"
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== "0")
  } finally {
    redis.disconnect()
  }
}
