/** Tracing is decided once: with no OTLP endpoint, services are left as built and no span is ever made. */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../../src/Platform/Config.ts"
import { currentSpan, linkTo, traced, traceparentOf, TracingLive, withSpan } from "../../src/Telemetry/Tracing.ts"

class Greeter extends Context.Tag("Greeter")<Greeter, {
  readonly greet: (name: string) => Effect.Effect<string>
  readonly attributeOf: (key: string) => Effect.Effect<unknown>
  readonly spanName: Effect.Effect<string>
  readonly kind: string
}>() {}

const spanName = Effect.map(Effect.option(Effect.currentSpan), Option.match({ onNone: () => "none", onSome: (span) => span.name }))
const greeter = {
  greet: (name: string) => Effect.map(spanName, (span) => `hello ${name} (${span})`),
  attributeOf: (key: string) => Effect.map(Effect.currentSpan, (span) => span.attributes.get(key)).pipe(Effect.orDie),
  spanName,
  kind: "plain"
}
const GreeterTraced = Layer.succeed(Greeter, greeter).pipe(traced(Greeter, { attributeOf: (key) => ({ "greeter.key": key }) }))

/** As `npm start` builds it with OTEL_EXPORTER_OTLP_ENDPOINT unset. */
const Untraced = GreeterTraced.pipe(Layer.provide(TracingLive), Layer.provide(AppConfig.layerTest()))

describe("tracing off (no OTLP endpoint)", () => {
  it.effect("a traced service is the very object its layer built, so its calls cost nothing more", () =>
    Effect.gen(function*() {
      const service = yield* Greeter
      expect(service).toBe(greeter)
      expect(yield* service.greet("ann")).toBe("hello ann (none)")
    }).pipe(Effect.provide(Untraced)))

  it.effect("withSpan runs the effect without a span; currentSpan is undefined", () =>
    Effect.gen(function*() {
      expect(yield* spanName.pipe(withSpan("not made"))).toBe("none")
      expect(yield* currentSpan.pipe(Effect.withSpan("disabled"))).toBeUndefined()
    }).pipe(Effect.provide(Layer.setTracerEnabled(false))))
})

describe("tracing on", () => {
  it.effect("each call runs in a span named <service>.<member>, with its attributes; plain values stay", () =>
    Effect.gen(function*() {
      const service = yield* Greeter
      expect(yield* service.greet("ann")).toBe("hello ann (Greeter.greet)")
      expect(yield* service.spanName).toBe("Greeter.spanName")
      expect(yield* service.attributeOf("greeter.key")).toBe("greeter.key")
      expect(service.kind).toBe("plain")
    }).pipe(Effect.provide(GreeterTraced)))

  it.effect("a span travels as a traceparent and comes back as a link to it", () =>
    Effect.gen(function*() {
      const span = (yield* currentSpan.pipe(withSpan("request")))!
      const traceparent = traceparentOf(span)
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(linkTo(traceparent).map((link) => [link.span.traceId, link.span.spanId])).toEqual([[span.traceId, span.spanId]])
      expect(linkTo(undefined)).toEqual([])
      expect(linkTo("garbage")).toEqual([])
    }))
})
