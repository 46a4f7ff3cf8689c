import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.ts"
import { Accounts } from "./Accounts.ts"

export const AccountsHttp = HttpApiBuilder.group(Api, "auth", (handlers) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts
    return handlers
      .handle("register", ({ payload }) =>
        accounts.register(payload).pipe(
          Effect.map((user) => ({ message: "User registered successfully", user }))
        ))
      .handle("login", ({ payload }) => accounts.login(payload))
  }))
