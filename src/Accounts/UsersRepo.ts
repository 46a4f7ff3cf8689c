import { SqlClient, SqlSchema } from "@effect/sql"
import { Context, Effect, Layer, Option, Ref, Schema } from "effect"
import { EmailTaken } from "../Domain/Errors.ts"
import { UserId } from "../Domain/Ids.ts"
import { Role } from "../Domain/Role.ts"
import { MemoryStore, withEntry } from "../Storage/MemoryStore.ts"
import { driverRow, storageDefects } from "../Storage/Rows.ts"
import { isUniqueViolation } from "../Storage/SqlErrors.ts"
import { traced } from "../Telemetry/Tracing.ts"
import { User } from "./User.ts"

export interface UserWithHash extends User {
  readonly passwordHash: string
}

export interface NewUser {
  readonly email: string
  readonly passwordHash: string
  readonly role: Role
}

const UserRow = driverRow(User)
const UserWithHashRow = Schema.Struct({ ...User.fields, passwordHash: Schema.String })
const NewUserRequest = Schema.Struct({ email: Schema.String, passwordHash: Schema.String, role: Role })

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
      const create = SqlSchema.single({
        Request: NewUserRequest,
        Result: UserRow,
        execute: (user) =>
          sql`
            INSERT INTO users (email, password_hash, role)
            VALUES (${user.email}, ${user.passwordHash}, ${user.role})
            RETURNING id, email, role`
      })
      const findByEmail = SqlSchema.findOne({
        Request: Schema.String,
        Result: UserWithHashRow,
        execute: (email) =>
          sql`
            SELECT id, email, role, password_hash AS "passwordHash"
            FROM users WHERE lower(email) = lower(${email})`
      })
      const findById = SqlSchema.findOne({
        Request: UserId,
        Result: UserRow,
        execute: (id) => sql`SELECT id, email, role FROM users WHERE id = ${id}`
      })
      return {
        create: (user) =>
          create(user).pipe(
            Effect.catchIf(isUniqueViolation, () => Effect.fail(emailTaken)),
            Effect.catchTag("NoSuchElementException", Effect.die),
            storageDefects
          ),
        findByEmail: (email) => findByEmail(email).pipe(Effect.orDie),
        findById: (id) => findById(id).pipe(Effect.orDie)
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
