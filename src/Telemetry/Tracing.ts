/**
 * Tracing: spans exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and none at all
 * otherwise. "None at all" is deliberate: even with the tracer disabled, `Effect.withSpan` (and so
 * `Effect.fn`) builds a no-op span, two contexts and a stack trace on every call, ~10 µs here, so
 * services are wrapped in spans only when tracing is on (`traced`), and cost nothing when it is off.
 */
import { OtlpSerialization, OtlpTracer } from "@effect/opentelemetry"
import { FetchHttpClient, Headers, HttpTraceContext } from "@effect/platform"
import { Context, Effect, FiberRef, Layer, Option, Redacted, Tracer } from "effect"
import { AppConfig } from "../Platform/Config.ts"

/**
 * Provide it under everything else (like the logger): with an OTLP endpoint, every fiber gets the
 * exporting tracer; without one, tracing is switched off for every fiber (the platform's HTTP and
 * SQL spans included).
 */
export const TracingLive = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ telemetry }) =>
    Option.match(telemetry.otlp, {
      onNone: () => Layer.setTracerEnabled(false),
      onSome: (otlp) =>
        OtlpTracer.layer({
          url: `${otlp.endpoint}/v1/traces`,
          headers: Redacted.value(otlp.headers),
          resource: { serviceName: otlp.serviceName },
          exportInterval: `${otlp.exportIntervalMs} millis`
        }).pipe(Layer.provide([FetchHttpClient.layer, OtlpSerialization.layerJson]))
    }))
)

type Methods<S> = { readonly [K in keyof S]?: S[K] extends (...args: infer A) => unknown ? (...args: A) => Record<string, unknown> : never }

/**
 * A service's layer whose calls each run in a span named `<service>.<method>` (an Effect-valued
 * member, `<service>.<member>`), with the attributes `attributes` derives from the call's arguments.
 * Decided once when the layer is built: with tracing off the service is left as it is.
 */
export const traced =
  <I, S extends object>(tag: Context.Tag<I, S>, attributes: Methods<S> = {}) => <E, R>(layer: Layer.Layer<I, E, R>): Layer.Layer<I, E, R> =>
    Layer.flatMap(layer, (context) =>
      Layer.effect(
        tag,
        Effect.map(FiberRef.get(FiberRef.currentTracerEnabled), (enabled) => {
          const service = Context.get(context, tag)
          return enabled ? wrap(tag.key, service, attributes) : service
        })
      ))

const wrap = <S extends object>(name: string, service: S, attributes: Methods<S>): S => {
  const wrapped: Record<string, unknown> = {}
  for (const [key, member] of Object.entries(service)) {
    const spanName = `${name}.${key}`
    const attributesOf = (attributes as Record<string, ((...args: Array<unknown>) => Record<string, unknown>) | undefined>)[key]
    wrapped[key] = Effect.isEffect(member)
      ? Effect.withSpan(member, spanName, { captureStackTrace: false })
      : typeof member === "function"
      ? (...args: Array<unknown>) => {
        const result = member.apply(service, args)
        return Effect.isEffect(result)
          ? Effect.withSpan(result, spanName, { attributes: attributesOf?.(...args), captureStackTrace: false })
          : result
      }
      : member
  }
  return wrapped as S
}

/**
 * Runs `self` in a span when tracing is on; otherwise runs it as it is (no span is built, and
 * `options`, when a function, is not called).
 */
export const withSpan =
  (name: string, options: Tracer.SpanOptions | (() => Tracer.SpanOptions) = {}) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.withFiberRuntime<A, E, R>((fiber) =>
      fiber.getFiberRef(FiberRef.currentTracerEnabled)
        ? Effect.withSpan(self, name, { captureStackTrace: false, ...(typeof options === "function" ? options() : options) })
        : self
    )

/** The span the calling fiber runs in, when tracing is on (to carry into work done elsewhere). */
export const currentSpan: Effect.Effect<Tracer.AnySpan | undefined> = Effect.withFiberRuntime((fiber) =>
  Effect.succeed(
    fiber.getFiberRef(FiberRef.currentTracerEnabled)
      ? Option.getOrUndefined(Context.getOption(fiber.currentContext, Tracer.ParentSpan))
      : undefined
  )
)

/** A span as a W3C `traceparent`, to travel with a job. */
export const traceparentOf = (span: Tracer.AnySpan): string => `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** A link to the span a `traceparent` names; none for a missing or malformed one. */
export const linkTo = (traceparent: unknown): ReadonlyArray<Tracer.SpanLink> =>
  typeof traceparent !== "string" ? [] : Option.match(HttpTraceContext.w3c(Headers.fromInput({ traceparent })), {
    onNone: () => [],
    onSome: (span) => [{ _tag: "SpanLink", span, attributes: {} }]
  })
