/**
 * Says when what the public event listing shows (events and their tickets left) may have changed
 * in this process, so that the listing's short-lived cache (Events/Http.ts) never hides this
 * process's own writes. Writers call `changed` after they commit; the cache listens.
 */
import { Context, Effect, Layer, Option } from "effect"

export class CatalogueChanges extends Context.Tag("CatalogueChanges")<CatalogueChanges, {
  readonly changed: Effect.Effect<void>
  readonly onChange: (listener: () => void) => Effect.Effect<void>
}>() {
  static readonly layer = Layer.sync(CatalogueChanges, () => {
    const listeners: Array<() => void> = []
    return {
      changed: Effect.sync(() => listeners.forEach((listener) => listener())),
      onChange: (listener) => Effect.sync(() => void listeners.push(listener))
    }
  })

  /**
   * `changed` of the service when there is one. Services tested without the HTTP listing have
   * nothing listening, and need not provide it.
   */
  static readonly signal: Effect.Effect<Effect.Effect<void>> = Effect.map(
    Effect.serviceOption(CatalogueChanges),
    Option.match({ onNone: () => Effect.void, onSome: ({ changed }) => changed })
  )
}
