/**
 * Parse options for request bodies: an unknown field is an error (a typo must not be silently
 * ignored), and every problem is reported at once rather than the first only.
 */
export const strictPayload = { parseOptions: { onExcessProperty: "error", errors: "all" } } as const
