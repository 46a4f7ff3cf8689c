/** The repositories' contract (test/support/repositories.ts) on PostgreSQL: the same answers as in memory. */
import { describe, layer } from "@effect/vitest"
import { Layer } from "effect"
import { PersistenceSql } from "../../src/Persistence.ts"
import { AppConfig } from "../../src/Platform/Config.ts"
import { TestDatabaseLive } from "../support/database.ts"
import { repositoryContract } from "../support/repositories.ts"

describe("repositories on PostgreSQL", () => {
  layer(PersistenceSql.pipe(Layer.provide(TestDatabaseLive), Layer.provide(AppConfig.layerTest())), { excludeTestServices: true })((it) =>
    repositoryContract(it)
  )
})
