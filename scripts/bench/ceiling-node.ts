/** Baseline for `npm run bench`: a bare Node HTTP server answering one small JSON body. PORT from argv. */
import { createServer } from "node:http"

const body = JSON.stringify({ ok: true })
createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
}).listen(Number(process.argv[2]), "127.0.0.1", () => process.send?.("ready"))
