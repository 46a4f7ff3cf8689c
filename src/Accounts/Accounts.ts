import { Context, Effect, Layer, Option, Redacted } from "effect"
import { type EmailTaken, InvalidCredentials, Unauthorized } from "../Domain/Errors.ts"
import type { UserId } from "../Domain/Ids.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { Passwords } from "./Passwords.ts"
import { Tokens } from "./Tokens.ts"
import type { Login, Register, Session, User } from "./User.ts"
import { UsersRepo } from "./UsersRepo.ts"

const invalidCredentials = new InvalidCredentials({ message: "Invalid email or password" })

// bcrypt ignores bytes past the 72nd, so a longer password must never be compared.
const BCRYPT_MAX_BYTES = 72

/** Registration and sign-in. */
export class Accounts extends Context.Tag("Accounts")<Accounts, {
  readonly register: (input: Register) => Effect.Effect<User, EmailTaken>
  /** Unknown email and wrong password fail alike, and take about as long. */
  readonly login: (input: Login) => Effect.Effect<Session, InvalidCredentials>
  /** The account a token was issued for; Unauthorized when it no longer exists. */
  readonly me: (id: UserId) => Effect.Effect<User, Unauthorized>
}>() {
  static readonly layer = Layer.effect(
    Accounts,
    Effect.gen(function*() {
      const users = yield* UsersRepo
      const passwords = yield* Passwords
      const tokens = yield* Tokens
      return {
        register: ({ email, password, role }) =>
          passwords.hash(password).pipe(
            Effect.flatMap((passwordHash) => users.create({ email, passwordHash, role })),
            Effect.tap((user) => Effect.logInfo("user registered").pipe(Effect.annotateLogs({ userId: user.id, role })))
          ),
        login: ({ email, password }) =>
          Effect.gen(function*() {
            const found = yield* users.findByEmail(email)
            const hash = Option.getOrUndefined(Option.map(found, (user) => user.passwordHash))
            const matches = yield* passwords.verify(password, hash)
            if (!matches || Option.isNone(found) || Buffer.byteLength(Redacted.value(password)) > BCRYPT_MAX_BYTES) {
              return yield* invalidCredentials
            }
            const { id, role } = found.value
            const { expiresAt, token } = yield* tokens.issue({ userId: id, role })
            return { token, expiresAt, user: { id, email: found.value.email, role } }
          }),
        me: (id) =>
          Effect.flatMap(users.findById(id), Option.match({ onNone: () => Effect.fail(Unauthorized.accountGone), onSome: Effect.succeed }))
      }
    })
  ).pipe(traced(Accounts))
}
