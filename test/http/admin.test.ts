/** GET /api/admin/queues on in-memory layers: off (404) without ADMIN_TOKEN; with it, only that bearer token gets in. */
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { MemoryServer, request, signUp, stubQueueHealth } from "../support/server.ts"

const ADMIN_TOKEN = "an-operator-token-for-tests"
const queues = (token?: string) => request("GET", "/api/admin/queues", token === undefined ? {} : { token })

const expectUnauthorized = (response: { status: number; body: any }) => {
  expect(response.status).toBe(401)
  expect(response.body).toMatchObject({ status: 401, code: "Unauthorized" })
  expect(response.body.message).toContain("operator token")
}

// Named blocks, with their tests directly inside: @effect/vitest 0.30 puts each block's runtime on
// the one shared `it`, so an `it.effect` in a nested describe (collected later) would get the last block's.
layer(MemoryServer(), { excludeTestServices: true })("without ADMIN_TOKEN", (it) => {
  it.effect("the endpoint answers 404 OperatorApiDisabled, with or without a token", () =>
    Effect.gen(function*() {
      for (const token of [undefined, ADMIN_TOKEN]) {
        const response = yield* queues(token)
        expect(response.status).toBe(404)
        expect(response.body).toEqual({
          status: 404,
          code: "OperatorApiDisabled",
          message: "The operator endpoints are disabled: set ADMIN_TOKEN to enable them"
        })
      }
    }))
})

const WithToken = MemoryServer({ ADMIN_TOKEN })

layer(WithToken, { excludeTestServices: true })("with ADMIN_TOKEN set", (it) => {
  it.effect("no Authorization header is a 401", () => Effect.map(queues(), expectUnauthorized))

  it.effect("a wrong token is a 401", () => Effect.map(queues(`${ADMIN_TOKEN}-not`), expectUnauthorized))

  it.effect("a customer's JWT is a 401", () =>
    Effect.gen(function*() {
      const customer = yield* signUp("CUSTOMER")
      expectUnauthorized(yield* queues(customer.token))
    }))

  it.effect("the operator token gets 200 with the queue health report", () =>
    Effect.gen(function*() {
      const response = yield* queues(ADMIN_TOKEN)
      expect(response.status).toBe(200)
      expect(response.body).toEqual(stubQueueHealth)
    }))

  it.effect("the OpenAPI document lists GET /api/admin/queues with its 200 response", () =>
    Effect.gen(function*() {
      const { body: spec } = yield* request("GET", "/api/openapi.json")
      const operation = spec.paths["/api/admin/queues"]?.get
      expect(operation?.responses["200"]).toBeDefined()
      expect(operation.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/QueueHealth" })
      expect(operation.security).toEqual([{ operatorToken: [] }])
    }))
})
