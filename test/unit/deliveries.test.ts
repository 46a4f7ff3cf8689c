/** The delivery log's contract (test/support/deliveries.ts) on its memory twin, which the fast tiers use. */
import { describe, layer } from "@effect/vitest"
import { Layer } from "effect"
import { Deliveries } from "../../src/Notifications/Deliveries.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { deliveriesContract } from "../support/deliveries.ts"

describe("Deliveries.onceEach in memory", () => {
  layer(Deliveries.layerMemory.pipe(Layer.provide(AppConfig.layerTest())), { excludeTestServices: true })((it) => deliveriesContract(it))
})
