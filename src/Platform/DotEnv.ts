import { existsSync } from "node:fs"

/** Loads `./.env` into the environment, as the seed's setup expects; the real environment wins. */
export const loadDotEnv = (path = ".env"): void => {
  if (existsSync(path)) process.loadEnvFile(path)
}
