import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

/** The migrations folder of this repository (drizzle-kit's `out`). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

/** The local cloud's PGlite on its plain wire port (`npm run local-cloud`). */
export const LOCAL_DATABASE_URL = 'postgresql://postgres:postgres@127.0.0.1:5433/postgres';

export type MigrationResult = {
  /** How many migrations this run applied (0 when the database was up to date). */
  applied: number;
  /** Their tags (`0001_events-partitioned`), in order. */
  tags: string[];
};

type Journal = { entries: Array<{ idx: number; when: number; tag: string }> };

/**
 * Applies the pending migrations of `migrations/` to the database at `url`, in one transaction,
 * with drizzle's migrator (which records them in `drizzle.__drizzle_migrations`); running it
 * again applies nothing.
 *
 * It works against any Postgres that speaks the wire protocol: the local cloud's PGlite
 * (`LOCAL_DATABASE_URL`), a Postgres server, or Neon. For Neon use the direct connection string
 * from the console (host without `-pooler`), e.g.
 * `postgresql://user:password@ep-cool-name-123456.eu-central-1.aws.neon.tech/sift?sslmode=require`:
 * the pooled endpoint runs PgBouncer in transaction mode, which drops the session-level
 * advisory lock this function takes. `pg` treats `sslmode=require` as `verify-full` (TLS with
 * certificate and host checks, which Neon's certificates pass) and prints a warning saying so;
 * write `sslmode=verify-full` to silence it.
 *
 * Concurrent runs are serialised by a session advisory lock, so two deploys racing each other
 * apply each migration once. (On PGlite every connection shares one session, so the lock cannot
 * separate two runs: the later one fails and rolls back, leaving the database as the first left
 * it.)
 */
export async function migrateDatabase(
  url: string,
  options: { migrationsFolder?: string } = {},
): Promise<MigrationResult> {
  const migrationsFolder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const journal = JSON.parse(
    readFileSync(`${migrationsFolder}/meta/_journal.json`, 'utf8'),
  ) as Journal;
  const client = new pg.Client({ connectionString: url, application_name: 'sift-migrate' });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock(hashtext('sift.migrate'))`);
    try {
      const before = await lastAppliedAt(client);
      await migrate(drizzle({ client }), { migrationsFolder });
      // drizzle's migrator applies every journal entry newer than the newest one recorded.
      const tags = journal.entries
        .filter((entry) => before === undefined || entry.when > before)
        .map((entry) => entry.tag);
      return { applied: tags.length, tags };
    } finally {
      await client.query(`select pg_advisory_unlock(hashtext('sift.migrate'))`);
    }
  } finally {
    await client.end();
  }
}

/** `created_at` of the newest recorded migration, or undefined on a fresh database. */
async function lastAppliedAt(client: pg.Client): Promise<number | undefined> {
  const exists = await client.query<{ table: string | null }>(
    `select to_regclass('drizzle.__drizzle_migrations')::text as "table"`,
  );
  if (!exists.rows[0]?.table) return undefined;
  const last = await client.query<{ created_at: string | null }>(
    'select max(created_at)::text as created_at from drizzle.__drizzle_migrations',
  );
  const value = last.rows[0]?.created_at;
  return value == null ? undefined : Number(value);
}

/** The database URL without its password, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL || LOCAL_DATABASE_URL;
  try {
    const result = await migrateDatabase(url);
    if (result.applied === 0) {
      console.log(`${redactUrl(url)}: up to date, nothing to apply`);
    } else {
      console.log(`${redactUrl(url)}: applied ${result.applied} migration(s)`);
      for (const tag of result.tags) console.log(`  ${tag}`);
    }
  } catch (error) {
    console.error(`migration failed on ${redactUrl(url)}:`, error);
    process.exitCode = 1;
  }
}
