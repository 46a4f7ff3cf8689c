/**
 * The platform declares its own decode error on every endpoint; ours replaces it before any
 * response is written (src/ErrorResponses.ts), so the document drops it and its helper schemas.
 */
const PLATFORM_ONLY = ["HttpApiDecodeError", "Issue", "PropertyKey"]
const isPlatformRef = (schema: unknown) =>
  typeof schema === "object" && schema !== null && "$ref" in schema &&
  schema.$ref === "#/components/schemas/HttpApiDecodeError"

export const withoutPlatformDecodeError = (spec: Record<string, any>): Record<string, any> => {
  for (const operations of Object.values<Record<string, any>>(spec.paths ?? {})) {
    for (const operation of Object.values<any>(operations)) {
      const content = operation?.responses?.["400"]?.content?.["application/json"]
      if (content?.schema?.anyOf) {
        const rest = content.schema.anyOf.filter((schema: unknown) => !isPlatformRef(schema))
        content.schema = rest.length === 1 ? rest[0] : { anyOf: rest }
        operation.responses["400"].description = "Invalid request: the message names each field and what is wrong"
      }
    }
  }
  for (const name of PLATFORM_ONLY) delete spec.components?.schemas?.[name]
  return spec
}
