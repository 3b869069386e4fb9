import { readdirSync } from 'node:fs';
import { defineConfig } from 'drizzle-kit';

const schemaDir = './shared/db/schema';

/**
 * Files drizzle-kit must not read. `events.ts` describes a range-partitioned table that
 * drizzle-kit cannot create (migration 0001 does, by hand); left in, `generate` would emit a
 * plain CREATE TABLE for it. `index.ts` only re-exports the others, including events.
 * (`tablesFilter` below does the same for `push`/`pull`, which introspect the database, but
 * `generate` ignores it.)
 */
const notManaged = new Set(['events.ts', 'index.ts']);

export default defineConfig({
  dialect: 'postgresql',
  schema: readdirSync(schemaDir)
    .filter((file) => file.endsWith('.ts') && !notManaged.has(file))
    .sort()
    .map((file) => `${schemaDir}/${file}`),
  out: './migrations',
  tablesFilter: ['!events', '!events_*'],
  dbCredentials: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5433/postgres',
  },
  strict: true,
  verbose: true,
});
