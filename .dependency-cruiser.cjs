// The house rules of src/, checked by `npm run lint` (dependency-cruiser): folders form layers, and a
// module imports only its own folder or a lower layer. The list below is the order, lowest first;
// each feature is a layer of its own, so two features can never import each other both ways.
// The files directly in src/ compose the app (Api.ts, Http.ts, main.ts, ...) and sit above every
// folder. One exception, as in Effect's http-server example: a feature's Http.ts implements its
// group of the app's Api, so it imports src/Api.ts. docs/architecture.md has the map.
/** @type {ReadonlyArray<string>} */
const layers = [
  "Platform", // generic machinery: config, group commit, threads, caches, lifecycle, logging
  "Telemetry", // tracing, metrics
  "Domain", // the ticket core: ids, models, rows, policy, refusals
  "Storage", // PostgreSQL, migrations, transactions, the in-memory store
  "Edge", // HTTP: the server, bodies, error shapes, headers, authentication contract
  "Jobs", // outbox, queues, workers
  "Audit", // the audit trail: entries, their origin, the store (written by the engine and the features)
  "Announcements", // what organizers' webhooks hear of: event types and their job (the engine and features emit them)
  "Inventory", // the ticket engine
  // features, lower first
  "Idempotency",
  "RateLimits",
  "Events",
  "TicketTypes",
  "Bookings",
  "Holds",
  "Waitlist",
  "Tickets",
  "Accounts",
  "Health",
  "Admin",
  "Notifications",
  "Webhooks",
  "Demo"
]

const folder = (names) => `^src/(${names.join("|")})/`
const composition = "^src/[^/]+\\.ts$"

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    ...layers.slice(0, -1).map((layer, index) => ({
      name: `upward-from-${layer}`,
      comment: `${layer} may import only its own folder and the layers below it (${
        layers.slice(0, index).join(", ") || "none"
      }): see .dependency-cruiser.cjs`,
      severity: "error",
      from: { path: folder([layer]) },
      to: { path: folder(layers.slice(index + 1)) }
    })),
    {
      name: "composition-from-a-folder",
      comment: "The files directly in src/ compose the app: no folder imports them (a feature's Http.ts may import src/Api.ts)",
      severity: "error",
      from: { path: "^src/[^/]+/", pathNot: "^src/[^/]+/Http\\.ts$" },
      to: { path: composition }
    },
    {
      name: "http-imports-only-the-api",
      comment: "A feature's Http.ts may import src/Api.ts, and no other file of the composition",
      severity: "error",
      from: { path: "^src/[^/]+/Http\\.ts$" },
      to: { path: composition, pathNot: "^src/Api\\.ts$" }
    },
    {
      name: "folder-not-in-a-layer",
      comment: "Every folder of src/ has its place in the layer list of .dependency-cruiser.cjs: add a new one there",
      severity: "error",
      from: { path: "^src/[^/]+/", pathNot: folder(layers) },
      to: {}
    },
    {
      name: "migrations-only-from-storage",
      comment: "Only Storage runs the migrations; a migration imports nothing from src/",
      severity: "error",
      from: { path: "^(src/|migrations/)", pathNot: "^(src/Storage/|migrations/)" },
      to: { path: "^migrations/" }
    },
    {
      name: "migrations-stand-alone",
      comment: "A migration is frozen once applied: it imports nothing from src/",
      severity: "error",
      from: { path: "^migrations/" },
      to: { path: "^src/" }
    },
    {
      name: "no-circular",
      comment: "Modules may not import each other in a circle (types included)",
      severity: "error",
      from: { path: "^(src|migrations)/" },
      to: { circular: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a layer's types are part of what it depends on.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Resolve `./X.ts` imports as written (allowImportingTsExtensions).
    enhancedResolveOptions: { extensions: [".ts", ".mjs", ".js"] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
