import { Schema } from "effect"
import { UserId } from "../Domain/Ids.ts"
import { plainText, strictPayload } from "../Domain/Payload.ts"
import { Role } from "../Domain/Role.ts"

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** Trimmed and lower-cased on the way in, so `Ann@Example.com ` and `ann@example.com` are one account. */
export const Email = Schema.compose(Schema.Trim, Schema.Lowercase).pipe(
  plainText({ multiline: false }),
  Schema.filter((email) => email.length <= 254 && EMAIL.test(email), {
    message: () => "must be a valid email address"
  })
).annotations({
  identifier: "Email",
  description: "An email address (case-insensitive)",
  examples: ["ann@example.com"],
  // Random strings almost never look like an address: generate addresses (for property tests).
  arbitrary: () => (fc) => fc.emailAddress().map((email) => email.toLowerCase()).filter((email) => email.length <= 254)
})

const byteLength = (text: string) => Buffer.byteLength(text, "utf8")

/** bcrypt reads at most 72 bytes: a longer password would be silently cut, so it is refused. */
export const NewPassword = Schema.Redacted(
  Schema.String.pipe(
    Schema.filter((password) => byteLength(password) >= 8 && byteLength(password) <= 72, {
      message: () => "must be between 8 and 72 bytes long"
    })
  ).annotations({ description: "8 to 72 bytes", examples: ["securePass123"] })
)

export const Password = Schema.Redacted(
  Schema.String.pipe(Schema.minLength(1, { message: () => "is required" }), Schema.maxLength(1024, { message: () => "is too long" }))
)

export const User = Schema.Struct({
  id: UserId,
  email: Schema.String,
  role: Role
}).annotations({ identifier: "User" })
export type User = typeof User.Type

export const Register = Schema.Struct({
  email: Email,
  password: NewPassword,
  role: Role
}).annotations({ identifier: "Register", ...strictPayload })
export type Register = typeof Register.Type

export const Login = Schema.Struct({
  email: Email,
  password: Password
}).annotations({ identifier: "Login", ...strictPayload })
export type Login = typeof Login.Type

export const Registered = Schema.Struct({
  message: Schema.String,
  user: User
}).annotations({ identifier: "Registered" })

export const Session = Schema.Struct({
  token: Schema.String,
  expiresAt: Schema.Date,
  user: User
}).annotations({ identifier: "Session" })
export type Session = typeof Session.Type
