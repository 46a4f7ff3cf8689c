import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { EmailTaken, errorResponse, InvalidCredentials } from "../Domain/Errors.ts"
import { Login, Register, Registered, Session } from "./User.ts"

export class AccountsApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("register", "/register")
      .setPayload(Register)
      .addSuccess(Registered, { status: 201 })
      .addError(errorResponse(EmailTaken))
      .annotate(OpenApi.Summary, "Create an account")
      .annotate(OpenApi.Description, "The email is stored lower-cased and is unique regardless of case.")
  )
  .add(
    HttpApiEndpoint.post("login", "/login")
      .setPayload(Login)
      .addSuccess(Session)
      .addError(errorResponse(InvalidCredentials))
      .annotate(OpenApi.Summary, "Sign in and receive a bearer token")
  )
  .annotate(OpenApi.Title, "Authentication")
  .prefix("/auth")
{}
