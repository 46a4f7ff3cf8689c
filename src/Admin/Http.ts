import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { Api } from "../Api.ts"
import { ADMIN } from "../Audit/AuditEntry.ts"
import { AuditLog } from "../Audit/AuditLog.ts"
import { Unauthorized } from "../Domain/Errors.ts"
import { pageRequest } from "../Domain/Paging.ts"
import { OperatorApiDisabled } from "../Edge/HttpErrors.ts"
import { pageBody } from "../Edge/PageHeaders.ts"
import { QueueHealth } from "../Jobs/QueueHealth.ts"
import { AppConfig } from "../Platform/Config.ts"
import { OperatorAuthentication } from "./Api.ts"

export const AdminHttp = HttpApiBuilder.group(Api, "admin", (handlers) =>
  Effect.gen(function*() {
    const health = yield* QueueHealth
    const audit = yield* AuditLog
    return handlers
      .handle("queues", () => health.report)
      .handle("audit", ({ request, urlParams: { action, eventId, from, to, ...paging } }) => {
        const page = pageRequest(paging)
        return Effect.flatMap(audit.page({ action, eventId, from, to }, page), (found) => pageBody(request, page, found))
      })
  }))

// Digests have one length whatever the input, so the comparison takes the same time for any guess.
const digest = (text: string) => createHash("sha256").update(text).digest()

export const OperatorAuthenticationLive = Layer.effect(
  OperatorAuthentication,
  Effect.map(AppConfig, ({ adminToken }) => ({
    operatorToken: (token) =>
      Effect.gen(function*() {
        if (Option.isNone(adminToken)) return yield* OperatorApiDisabled.instance
        if (!timingSafeEqual(digest(Redacted.value(token)), digest(Redacted.value(adminToken.value)))) {
          return yield* new Unauthorized({ message: "A valid operator token is required: 'Authorization: Bearer <ADMIN_TOKEN>'" })
        }
        return ADMIN
      })
  }))
)
