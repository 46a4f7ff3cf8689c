// Compiles entry points (default: the server, the worker and the migrate script) to dist/ with
// esbuild: one ESM file each, dependencies left in node_modules. Plain JavaScript so that it runs
// before anything is compiled; `npm start` and `npm run worker` run it first (~0.1 s).
import { build } from "esbuild"

const entryPoints = process.argv.slice(2)
await build({
  entryPoints: entryPoints.length > 0 ? entryPoints : ["src/main.ts", "src/worker.ts", "scripts/migrate.ts"],
  outbase: ".",
  outdir: "dist",
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning"
})
