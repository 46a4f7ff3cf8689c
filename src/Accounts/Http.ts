import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer } from "effect"
import { Api } from "../Api.ts"
import { CurrentUser } from "../Domain/CurrentUser.ts"
import { clientAddress } from "../Edge/ClientAddress.ts"
import { setRateLimitHeaders } from "../Edge/RateLimitHeaders.ts"
import { AppConfig } from "../Platform/Config.ts"
import { AttemptLimits } from "../RateLimits/AttemptLimits.ts"
import { Accounts } from "./Accounts.ts"

export const AccountsHttp = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    const limits = yield* AttemptLimits
    const { rateLimits } = yield* AppConfig
    const report = (quota: Parameters<typeof setRateLimitHeaders>[0]) => setRateLimitHeaders(quota, limits.policy)
    return handlers
      .handle("register", ({ payload, request }) =>
        limits.guard(
          "register",
          { address: clientAddress(request, rateLimits.trustProxy), email: payload.email },
          accounts.register(payload).pipe(Effect.map((user) => ({ message: "User registered successfully", user }))),
          { failed: (error) => error._tag === "EmailTaken", report }
        ))
      .handle("login", ({ payload, request }) =>
        limits.guard(
          "login",
          { address: clientAddress(request, rateLimits.trustProxy), email: payload.email },
          accounts.login(payload),
          { failed: (error) => error._tag === "InvalidCredentials", report }
        ))
      .handle("me", () => Effect.flatMap(CurrentUser, (user) => accounts.me(user.id)))
  })).pipe(Layer.provide(AttemptLimits.layer))
