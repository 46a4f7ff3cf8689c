/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { loadDotEnv } from "../src/Platform/DotEnv.ts"
import { DatabaseLive } from "../src/Storage/Database.ts"

loadDotEnv()
Layer.build(DatabaseLive).pipe(Effect.scoped, Effect.asVoid, NodeRuntime.runMain)
