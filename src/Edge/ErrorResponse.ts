/**
 * Every error a client can see travels as `{ "message", "status", "code", ...details }` (the class
 * tag becomes `code`): `errorResponse` gives that schema for an error class, so the server, the
 * OpenAPI document and the typed client all agree on one error shape.
 */
import type { HttpApiEndpoint } from "@effect/platform"
import { HttpApiSchema, HttpServerResponse } from "@effect/platform"
import type { HttpMethod } from "@effect/platform/HttpMethod"
import { Option, Schema, SchemaAST } from "effect"

/** What every error body looks like on the wire. */
export interface ErrorBody {
  readonly message: string
  readonly status: number
  readonly code: string
}

const responses = new WeakMap<object, Schema.Schema.Any>()

/**
 * An error's detail as the wire carries it: encoded (a Date as its ISO string), which the class
 * then decodes; refinements short of a transformation are kept (an Int stays an integer).
 */
const onTheWire = (field: Schema.Struct.Field): Schema.Struct.Field => Schema.isSchema(field) ? Schema.encodedBoundSchema(field) : field

/**
 * The wire schema of an error class: `{ code: <tag>, status, message, ...details }` ⇄ the class.
 * Memoised so that each error appears once in the API's error union and in the OpenAPI document.
 */
export const errorResponse = <Self, Tag extends string, Fields extends Schema.Struct.Fields>(
  errorClass: Schema.TaggedErrorClass<Self, Tag, Fields>
): Schema.Schema<Self, ErrorBody & Omit<Schema.Struct.Encoded<Fields>, "_tag">> => {
  const cached = responses.get(errorClass)
  if (cached) return cached as any
  const status = HttpApiSchema.getStatusError(errorClass)
  const { _tag, ...details } = errorClass.fields as Schema.Struct.Fields
  const encodedDetails = Object.fromEntries(Object.entries(details).map(([name, field]) => [name, onTheWire(field)]))
  const wire = Schema.Struct({
    ...encodedDetails,
    status: Schema.Literal(status),
    code: Schema.Literal(errorClass._tag)
  }).annotations({
    identifier: errorClass._tag,
    ...Option.match(SchemaAST.getDescriptionAnnotation(errorClass.ast), {
      onNone: () => ({}),
      onSome: (description) => ({ description })
    })
  })
  const schema = Schema.transform(wire, errorClass as unknown as Schema.Schema<Self, any>, {
    strict: false,
    decode: ({ code, status: _status, ...rest }) => ({ ...rest, _tag: code }),
    encode: ({ _tag, ...rest }) => ({ ...rest, code: _tag, status })
  }).annotations(HttpApiSchema.annotations({ status }))
  responses.set(errorClass, schema)
  return schema as any
}

/** A response carrying `error` in the standard shape `{ message, status, code }`, with its status. */
export const errorResponseOf = <Self, Tag extends string, Fields extends Schema.Struct.Fields>(
  errorClass: Schema.TaggedErrorClass<Self, Tag, Fields>,
  error: Self
) =>
  HttpServerResponse.unsafeJson(Schema.encodeSync(errorResponse(errorClass))(error), {
    status: HttpApiSchema.getStatusError(errorClass)
  })

/** An error class as `errorResponse` takes it (`Schema.TaggedError`). */
type ErrorClass = Schema.Schema.AnyNoContext & { readonly _tag: string; readonly fields: Schema.Struct.Fields }

/**
 * The refusals an endpoint may answer with, in the standard shape, listed once:
 * `endpoint.pipe(addErrors(HoldNotFound, HoldExpired))`. The order is the OpenAPI document's.
 */
export const addErrors =
  <const Classes extends ReadonlyArray<ErrorClass>>(...classes: Classes) =>
  <Name extends string, Method extends HttpMethod, Path, UrlParams, Payload, Headers, Success, Error, R, RE>(
    endpoint: HttpApiEndpoint.HttpApiEndpoint<Name, Method, Path, UrlParams, Payload, Headers, Success, Error, R, RE>
  ): HttpApiEndpoint.HttpApiEndpoint<
    Name,
    Method,
    Path,
    UrlParams,
    Payload,
    Headers,
    Success,
    Error | Schema.Schema.Type<Classes[number]>,
    R,
    RE
  > =>
    classes.reduce<HttpApiEndpoint.HttpApiEndpoint.AnyWithProps>(
      (declared, errorClass) => declared.addError(errorResponse(errorClass as any)),
      endpoint as unknown as HttpApiEndpoint.HttpApiEndpoint.AnyWithProps
    ) as any
