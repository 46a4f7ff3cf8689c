/** A booking's tickets, their QR images and the door over HTTP, on the in-memory repositories (test/support/door.ts). */
import { describe, layer } from "@effect/vitest"
import { doorSuite } from "../support/door.ts"
import { MemoryServer } from "../support/server.ts"

describe("tickets and check-ins over HTTP (in memory)", () => {
  layer(MemoryServer(), { excludeTestServices: true })(doorSuite)
})
