import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { EmailTaken, InvalidCredentials } from "../Domain/Errors.ts"
import { Authentication } from "../Edge/Authentication.ts"
import { errorResponse } from "../Edge/ErrorResponse.ts"
import { TooManyRequests } from "../Edge/HttpErrors.ts"
import { documentRateLimitHeaders } from "../Edge/RateLimitHeaders.ts"
import { Login, Register, Registered, Session, User } from "./User.ts"

export class AccountsApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("register", "/register")
      .setPayload(Register)
      .addSuccess(Registered, { status: 201 })
      .addError(errorResponse(EmailTaken))
      .addError(errorResponse(TooManyRequests))
      .annotate(OpenApi.Transform, documentRateLimitHeaders)
      .annotate(OpenApi.Summary, "Create an account")
      .annotate(OpenApi.Description, "The email is stored lower-cased and is unique regardless of case.")
  )
  .add(
    HttpApiEndpoint.post("login", "/login")
      .setPayload(Login)
      .addSuccess(Session)
      .addError(errorResponse(InvalidCredentials))
      .addError(errorResponse(TooManyRequests))
      .annotate(OpenApi.Transform, documentRateLimitHeaders)
      .annotate(OpenApi.Summary, "Sign in and receive a bearer token")
  )
  .add(
    HttpApiEndpoint.get("me", "/me")
      .addSuccess(User)
      .middleware(Authentication)
      .annotate(OpenApi.Summary, "The signed-in user")
      .annotate(OpenApi.Description, "401 also when the token's account no longer exists.")
  )
  .annotate(OpenApi.Title, "Authentication")
  .prefix("/auth")
{}
