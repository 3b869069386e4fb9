import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

/**
 * Any drizzle Postgres database (the Worker's Neon HTTP one, PGlite or node-postgres in tests):
 * the search queries only use `execute`.
 */
// biome-ignore lint/suspicious/noExplicitAny: only `execute` is used, whatever the schema
export type Database = PgDatabase<PgQueryResultHKT, any>;

/** The rows of an `execute` result; every driver drizzle wraps here answers `{ rows }`. */
export function rowsOf(result: unknown): unknown[] {
  return (result as { rows: unknown[] }).rows;
}
