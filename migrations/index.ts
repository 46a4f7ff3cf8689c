/** Every migration, by `<number>_<name>`: add new ones here, never edit an applied one. */
import createTables from "./0001_create_tables.ts"

export const migrations = {
  "0001_create_tables": createTables
}
