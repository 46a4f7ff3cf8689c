/**
 * The docs say what is there. Files move between folders, scripts and settings are renamed; a
 * README, a decision record or the architecture map that still names the old thing misleads the
 * next reader. So every repository path the docs mention (in backticks or as a link, headings
 * included), every `npm run` script and every setting must exist, the architecture map must name
 * every folder and module, and the README's typed-client excerpt must be the example it quotes.
 */
import { describe, expect, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

const markdownUnder = (folder: string): Array<string> =>
  readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? markdownUnder(join(folder, entry.name))
      : entry.name.endsWith(".md")
      ? [join(folder, entry.name)]
      : []
  )

const documents = ["README.md", ...markdownUnder("docs")]

/** Paths from the repository's root: `src/…`, `scripts/…`, `test/…`, `migrations/…` and the like. */
const rootPath = /(?<![\w./-])((?:src|scripts|test|migrations|examples|docs|bench|\.ci)\/[\w./-]*)/g
/** Paths inside `src/` written from there: `Platform/Transactions.ts`. */
const sourcePath = /(?<![\w./-])([A-Z]\w*\/[\w./-]*\.ts)\b/g
const inlineCode = /`([^`\n]+)`/g
const link = /\]\(([^)\s]+)\)/g

const exists = (path: string) => existsSync(join(ROOT, path))

/** The anchors of a Markdown document's headings, as GitHub makes them. */
const anchors = (text: string) =>
  new Set(
    [...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => heading!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/ /g, "-"))
  )

/** The repository paths a document's text names that do not exist, as `document: path`. */
const missingPaths = (document: string, text = readFileSync(join(ROOT, document), "utf8")): Array<string> => {
  const missing: Array<string> = []
  for (const [, code] of text.matchAll(inlineCode)) {
    for (const [, path] of code.matchAll(rootPath)) {
      const clean = path.replace(/[.]+$/, "")
      if (clean.startsWith("dist/") || clean.includes("*")) continue
      if (!exists(clean)) missing.push(`${document}: ${clean}`)
    }
    for (const [, path] of code.matchAll(sourcePath)) {
      if (!exists(join("src", path)) && !exists(path)) missing.push(`${document}: ${path} (under src/)`)
    }
  }
  for (const [, target] of text.matchAll(link)) {
    if (/^[a-z]+:/i.test(target!)) continue
    const [file, anchor] = target!.split("#")
    const path = file === "" ? document : relative(ROOT, join(ROOT, dirname(document), file!))
    if (file !== "" && !exists(path)) missing.push(`${document}: link ${target}`)
    else if (anchor !== undefined && !anchors(path === document ? text : readFileSync(join(ROOT, path), "utf8")).has(anchor)) {
      missing.push(`${document}: link ${target} (no such heading)`)
    }
  }
  return missing
}

/** The first code block of a document that starts with `src/`: a folder map. */
const folderMap = (document: string): string => {
  const text = readFileSync(join(ROOT, document), "utf8")
  const start = text.indexOf("```\nsrc/") + 4
  return text.slice(start, text.indexOf("```", start))
}

/**
 * The entries of the folder map in docs/architecture.md (`src/main.ts`, `src/Domain/`,
 * `test/jobs/`, …), each with its description (its line and the more indented lines below it).
 */
const mapEntries = (): Map<string, string> => {
  const entries = new Map<string, string>()
  let folder = ""
  let current: string | undefined
  for (const line of folderMap("docs/architecture.md").split("\n")) {
    const [, indent, name] = /^( *)(\S*)/.exec(line)!
    const isEntry = /^[\w.-]+\/?$/.test(name!) && /[./]/.test(name!)
    if (isEntry && indent!.length === 0) {
      folder = name!.endsWith("/") ? name! : ""
      current = name!
    } else if (isEntry && indent!.length === 2 && folder !== "") {
      current = folder + name!
    } else if (current !== undefined && indent!.length > 2) {
      entries.set(current, `${entries.get(current)} ${line.trim()}`)
      continue
    } else {
      continue
    }
    entries.set(current, line.trim())
  }
  return entries
}

const folders = (path: string) => readdirSync(join(ROOT, path)).filter((name) => statSync(join(ROOT, path, name)).isDirectory())

describe("the docs", () => {
  it("name only repository paths that exist (backticked paths and links)", () => {
    expect(documents.length).toBeGreaterThan(5)
    expect(documents.flatMap((document) => missingPaths(document))).toEqual([])
  })

  it("find a path that does not exist (the check can fail)", () => {
    const probe = "# A heading\n`npx tsx scripts/bench/prof-hot.ts 5`, `Platform/Nowhere.ts`, `src/Domain/`, " +
      "[a](../nowhere.md), [b](api.md#rate-limits), [c](api.md#no-such-part), [d](#a-heading)"
    expect(missingPaths("docs/probe.md", probe)).toEqual([
      "docs/probe.md: scripts/bench/prof-hot.ts",
      "docs/probe.md: Platform/Nowhere.ts (under src/)",
      "docs/probe.md: link ../nowhere.md",
      "docs/probe.md: link api.md#no-such-part (no such heading)"
    ])
  })

  it("keep the README under 250 lines", () => {
    expect(readFileSync(join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(250)
  })

  it("index every decision record, each short, in three parts, without history", () => {
    const records = readdirSync(join(ROOT, "docs/decisions")).filter((name) => /^\d{4}-[\w-]+\.md$/.test(name))
    const index = readFileSync(join(ROOT, "docs/decisions/README.md"), "utf8")
    for (const record of records) {
      expect(index, record).toContain(`](${record})`)
      const text = readFileSync(join(ROOT, "docs/decisions", record), "utf8")
      // A record states a decision as it stands: no history of issues and merges.
      expect({ record, short: text.split("\n").length <= 60, history: /\b(issue|merge of) #?\d+/i.test(text) })
        .toEqual({ record, short: true, history: false })
      for (const heading of ["## Context", "## Decision", "## Consequences"]) expect(text, record).toContain(heading)
    }
  })

  it("map every folder of src/, test/ and scripts/ in docs/architecture.md, every module of src/ by name", () => {
    const entries = mapEntries()
    for (const entry of entries.keys()) expect({ entry, exists: exists(entry) }).toEqual({ entry, exists: true })
    for (const top of ["src", "test", "scripts"]) {
      for (const folder of folders(top)) expect([...entries.keys()], `${top}/${folder}/`).toContain(`${top}/${folder}/`)
    }
    for (const file of ["scripts/cli.ts", "scripts/redis-keys.ts", "scripts/bench-login.ts"]) {
      expect([...entries.keys()], file).toContain(file)
    }
    const unnamed = folders("src").flatMap((folder) => {
      const description = entries.get(`src/${folder}/`)!
      return readdirSync(join(ROOT, "src", folder))
        .filter((module) => module.endsWith(".ts") && !["Api.ts", "Http.ts"].includes(module))
        .filter((module) => !new RegExp(`\\b${module.replace(/\.ts$/, "")}\\b`).test(description))
        .map((module) => `src/${folder}/${module}`)
    })
    expect(unnamed).toEqual([])
  })

  it("list every folder of src/ in the README's map", () => {
    const map = folderMap("README.md")
    for (const folder of folders("src")) expect(map, folder).toContain(`${folder}/`)
  })
})

const sourceFiles = (folder: string): Array<string> =>
  readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(folder, entry.name))
      : /\.(ts|mjs)$/.test(entry.name)
      ? [join(folder, entry.name)]
      : []
  )

/** The text of the files where a setting can be read or set: the code, the tools, the container files. */
const settingSources = () =>
  ["src", "scripts", "test", "examples"].flatMap((folder) => sourceFiles(folder))
    .concat(["docker-compose.yml", ".env.example", "package.json", "Dockerfile"])
    .map((file) => readFileSync(join(ROOT, file), "utf8"))
    .join("\n")

/** Settings the docs name that a library reads for us (`@effect/opentelemetry`'s resource). */
const readByLibraries = new Set(["OTEL_RESOURCE_ATTRIBUTES"])

describe("the docs' commands and settings", () => {
  const texts = documents.map((document) => readFileSync(join(ROOT, document), "utf8")).join("\n")

  it("name only npm scripts that package.json has", () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts)
    const named = new Set([...texts.matchAll(/npm run ([\w-]+(?::[\w-]+)?)/g)].map(([, name]) => name!))
    expect(named.size).toBeGreaterThan(5)
    expect([...named].filter((name) => !scripts.includes(name))).toEqual([])
  })

  it("name only environment variables that something reads or sets", () => {
    const sources = settingSources()
    const named = new Set([...texts.matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])`/g)].map(([, name]) => name!))
    expect(named.size).toBeGreaterThan(20)
    const unknown = [...named].filter((name) => !readByLibraries.has(name) && !new RegExp(`\\b${name}\\b`).test(sources))
    expect(unknown).toEqual([])
  })
})

describe("docs/configuration.md", () => {
  it("documents every setting the configuration reads", () => {
    const configuration = sourceFiles("src").filter((file) => file.endsWith("/Config.ts"))
    expect(configuration.length).toBeGreaterThan(0)
    const settings = new Set(
      configuration.flatMap((file) => [...readFileSync(join(ROOT, file), "utf8").matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT)"/g)])
        .map(([, name]) => name!)
    )
    expect(settings.size).toBeGreaterThan(30)
    const documented = readFileSync(join(ROOT, "docs/configuration.md"), "utf8")
    expect([...settings].filter((name) => !new RegExp(`\\b${name}\\b`).test(documented))).toEqual([])
  })
})

describe("the README's typed-client excerpt", () => {
  it("is examples/booking-flow.ts, line for line and in order", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8")
    const start = readme.indexOf("```ts\n") + "```ts\n".length
    expect(start).toBeGreaterThan(5)
    const excerpt = readme.slice(start, readme.indexOf("```", start)).split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("// …"))
    const example = readFileSync(join(ROOT, "examples/booking-flow.ts"), "utf8").split("\n").map((line) => line.trim())
    let at = 0
    for (const line of excerpt) {
      const found = example.indexOf(line, at)
      expect({ line, inExampleInOrder: found >= 0 }).toEqual({ line, inExampleInOrder: true })
      at = found + 1
    }
    expect(excerpt.length).toBeGreaterThan(10)
  })
})
