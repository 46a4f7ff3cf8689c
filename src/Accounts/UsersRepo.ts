import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Ref } from "effect"
import { EmailTaken } from "../Domain/Errors.ts"
import type { UserId } from "../Domain/Ids.ts"
import type { Role } from "../Domain/Role.ts"
import { MemoryStore, withEntry } from "../Storage/MemoryStore.ts"
import { isUniqueViolation } from "../Storage/SqlErrors.ts"
import { traced } from "../Telemetry/Tracing.ts"
import type { User } from "./User.ts"

export interface UserWithHash extends User {
  readonly passwordHash: string
}

export interface NewUser {
  readonly email: string
  readonly passwordHash: string
  readonly role: Role
}

const emailTaken = new EmailTaken({ message: "An account with this email already exists" })

export class UsersRepo extends Context.Tag("UsersRepo")<UsersRepo, {
  /** Fails with EmailTaken when the (lower-cased) email exists, even under concurrent inserts. */
  readonly create: (user: NewUser) => Effect.Effect<User, EmailTaken>
  readonly findByEmail: (email: string) => Effect.Effect<Option.Option<UserWithHash>>
  readonly findById: (id: UserId) => Effect.Effect<Option.Option<User>>
}>() {
  static readonly layer = Layer.effect(
    UsersRepo,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return {
        create: (user) =>
          sql<User>`
            INSERT INTO users (email, password_hash, role)
            VALUES (${user.email}, ${user.passwordHash}, ${user.role})
            RETURNING id, email, role`.pipe(
            Effect.map((rows) => rows[0]!),
            Effect.catchIf(isUniqueViolation, () => Effect.fail(emailTaken)),
            Effect.catchTag("SqlError", Effect.die)
          ),
        findByEmail: (email) =>
          sql<UserWithHash>`
            SELECT id, email, role, password_hash AS "passwordHash"
            FROM users WHERE lower(email) = lower(${email})`.pipe(
            Effect.map((rows) => Option.fromNullable(rows[0])),
            Effect.orDie
          ),
        findById: (id) =>
          sql<User>`SELECT id, email, role FROM users WHERE id = ${id}`.pipe(
            Effect.map((rows) => Option.fromNullable(rows[0])),
            Effect.orDie
          )
      }
    })
  ).pipe(traced(UsersRepo, { findById: (id) => ({ "user.id": id }) }))

  static readonly layerMemory = Layer.effect(
    UsersRepo,
    Effect.map(MemoryStore, (store) => ({
      create: (user) =>
        Ref.modify(store, (tables) => {
          if ([...tables.users.values()].some((u) => u.email === user.email)) {
            return [Option.none(), tables] as const
          }
          const id = tables.lastId + 1
          const stored = { id, ...user }
          return [Option.some(stored), { ...tables, lastId: id, users: withEntry(tables.users, id, stored) }] as const
        }).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(emailTaken),
            onSome: ({ email, id, role }) => Effect.succeed({ id: id as UserId, email, role })
          }))
        ),
      findByEmail: (email) =>
        Ref.get(store).pipe(
          Effect.map((tables) =>
            Option.fromNullable([...tables.users.values()].find((u) => u.email === email.toLowerCase())).pipe(
              Option.map((u) => ({ ...u, id: u.id as UserId }))
            )
          )
        ),
      findById: (id) =>
        Effect.map(Ref.get(store), (tables) =>
          Option.fromNullable(tables.users.get(id)).pipe(
            Option.map(({ email, role }) => ({ id, email, role }))
          ))
    }))
  )
}
