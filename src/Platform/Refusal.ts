/**
 * Refusals: a process cannot start, or a tool cannot run, because of something its user fixes (a
 * setting, a database that is not there or is in use). They are told as one line that names the
 * fix, without a stack trace: the stack of a bundle tells the person who must act nothing. Any
 * other failure is a bug, and keeps its whole cause.
 */
import { Cause, Chunk, ConfigError, Option, Schema } from "effect"

/** A refusal, told to the user as its message alone. */
export class Refusal extends Schema.TaggedError<Refusal>()("Refusal", { message: Schema.String }) {}

const WHERE_SETTINGS_LIVE = "set it in the environment or in .env"

/** The leaves of a configuration error, each as "NAME: what is wrong" (or its message, when that names the setting). */
const configProblems = (error: ConfigError.ConfigError): ReadonlyArray<string> => {
  switch (error._op) {
    case "And":
      return [...configProblems(error.left), ...configProblems(error.right)]
    case "Or":
      return configProblems(error.left)
    default: {
      const name = error.path.join(".")
      return [name === "" || error.message.startsWith(name) ? error.message : `${name}: ${error.message}`]
    }
  }
}

const lineOf = (reason: unknown): Option.Option<string> => {
  if (reason instanceof Refusal) return Option.some(reason.message)
  if (ConfigError.isConfigError(reason)) {
    return Option.some(`invalid setting: ${configProblems(reason).join("; ")} (${WHERE_SETTINGS_LIVE})`)
  }
  return Option.none()
}

/**
 * The line telling `cause`, when it is a refusal (a Refusal or a configuration error, as a failure
 * or a defect; interruptions it caused are ignored). None when anything else failed.
 */
export const refusalLine = (cause: Cause.Cause<unknown>): Option.Option<string> => {
  const reasons = [...Chunk.toReadonlyArray(Cause.failures(cause)), ...Chunk.toReadonlyArray(Cause.defects(cause))]
  const lines = reasons.map(lineOf)
  return lines.length > 0 && lines.every(Option.isSome) ? lines[0]! : Option.none()
}
