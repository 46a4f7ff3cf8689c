import { createRequire } from "node:module"
const require = createRequire(import.meta.url)
// ad-hoc (not committed): profile the server under hot-event booking only
import { randomBytes } from "node:crypto"
import { readdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import pg from "pg"
import { Effect, Layer, Redacted } from "effect"
import { Tokens } from "../../src/Accounts/Tokens.ts"
import { AppConfig } from "../../src/Config.ts"
import type { UserId } from "../../src/Domain/Ids.ts"
import { load } from "./load.ts"
import { startChild, type Child } from "./processes.ts"
import { topFunctions } from "./profile-top.ts"
const server = "postgres://postgres@127.0.0.1:5432/postgres"
const admin = new pg.Client({ connectionString: server }); await admin.connect()
const name = `prof_${randomBytes(4).toString("hex")}`; await admin.query(`CREATE DATABASE ${name}`)
const url = `postgres://postgres@127.0.0.1:5432/${name}`
const secret = randomBytes(32).toString("hex")
const children: Array<Child> = []
rmSync("/tmp/prof", { recursive: true, force: true })
const mode = process.argv[2] ?? "hot"
try {
  const app = await startChild(children, "dist/src/main.js", { DATABASE_URL: url, NODE_ENV: "production", JWT_SECRET: secret, MAIL_DIR: "/tmp/prof-mail", RUN_WORKERS: process.env.RUN_WORKERS ?? "true", REDIS_URL: "redis://127.0.0.1:6379", QUEUE_PREFIX: name }, ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"])
  const db = new pg.Client({ connectionString: url }); await db.connect()
  const { rows: [org] } = await db.query(`INSERT INTO users (email, password_hash, role) VALUES ('o@x', 'x', 'ORGANIZER') RETURNING id`)
  const { rows: users } = await db.query(`INSERT INTO users (email, password_hash, role) SELECT 'c'||n||'@x', 'x', 'CUSTOMER' FROM generate_series(1,100) n RETURNING id`)
  const { rows: [ev] } = await db.query(`INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets) VALUES ($1, 'Hot', 'Here', '2099-01-01', 1000000, 1000000) RETURNING id`, [org.id])
  await db.query(`INSERT INTO events (organizer_id, title, location, date, total_tickets, available_tickets) SELECT $1, 'E'||n, 'Here', '2098-01-01', 100, 100 FROM generate_series(1,19) n`, [org.id])
  const tokens = await Effect.runPromise(Effect.forEach(users, ({ id }: any) => Effect.map(Effect.flatMap(Tokens, (t) => t.issue({ userId: id as UserId, role: "CUSTOMER" })), (s) => s.token)).pipe(
    Effect.provide(Tokens.layer.pipe(Layer.provide(AppConfig.layerTest({ jwt: { ...AppConfig.make().jwt, secret: Redacted.make(secret) } }))))))
  const cpu = () => { const f = require("node:fs").readFileSync(`/proc/${(app as any).pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) * 10 }
  const before = cpu()
  let turn = 0
  const r = mode === "list" ? await load({ url: `${app.url}/api/events`, connections: 64, seconds: 10 }) : mode === "health" ? await load({ url: `${app.url}/api/health`, connections: 64, seconds: 10 }) : await load({ url: app.url, connections: 64, seconds: 10, request: { method: "POST", path: "/api/bookings", headers: { "content-type": "application/json" }, setupRequest: (req: any) => { req.headers = { ...req.headers, authorization: `Bearer ${tokens[turn++ % tokens.length]}` }; req.body = JSON.stringify({ eventId: ev.id, ticketsCount: 1 }); return req } } })
  const used = cpu() - before
  console.log(mode, r.perSecond, r.p50, r.p99, r.statuses, "server CPU ms per request:", (used / (r.ok + r.failed)).toFixed(3))
  console.log((await db.query("SELECT count(*)::int AS bookings, count(DISTINCT created_at)::int AS transactions FROM bookings")).rows)
  await db.end(); await app.stop()
  for (const f of readdirSync("/tmp/prof")) console.log(topFunctions(join("/tmp/prof", f), 45).join("\n"))
} finally { for (const c of children) await c.stop(); await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end() }
