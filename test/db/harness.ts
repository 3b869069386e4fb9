import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { MIGRATIONS_FOLDER, migrateDatabase } from '../../tools/db/migrate.ts';
import { createServerDatabase } from '../helpers/server-database.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests use the query builder, not the relational API
export type Database = PgDatabase<PgQueryResultHKT, any>;

type Query = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

export type TestDatabase = {
  backend: Backend;
  db: Database;
  /** Raw SQL on any connection; rows as objects. */
  query: Query;
  /** Runs `fn` inside a transaction on one connection, then rolls it back (for SET LOCAL). */
  rolledBack<T>(fn: (query: Query) => Promise<T>): Promise<T>;
  /** A connection string (the server only: PGlite in-process has none). */
  url: string | undefined;
  close(): Promise<void>;
};

export type Backend = 'pglite' | 'postgres';

/**
 * The backends every database test runs on: PGlite in-process always (fast, Postgres 18), and
 * the Postgres server when `DATABASE_URL` is set (CI: Postgres 15).
 */
export const backends: Backend[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/**
 * A fresh database on `backend`, migrated unless `migrate: false`. On the server it is a
 * throw-away `sift_t_<random>` database, dropped by `close()`, so test files running in
 * parallel never see each other's rows.
 */
export async function openDatabase(
  backend: Backend,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (backend === 'pglite') {
    const client = await PGlite.create();
    const db = drizzlePglite({ client });
    if (migrate) await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const query: Query = async (text, params) => (await client.query(text, params)).rows as never[];
    return {
      backend,
      db,
      query,
      url: undefined,
      rolledBack: (fn) =>
        client.transaction(async (tx) => {
          try {
            return await fn(async (text, params) => (await tx.query(text, params)).rows as never[]);
          } finally {
            if (!tx.closed) await tx.rollback();
          }
        }),
      close: () => client.close(),
    };
  }

  const { url, drop } = await createServerDatabase();
  if (migrate) await migrateDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client can still be closing when `drop database ... with (force)` terminates it
  // (57P01); the pool then emits 'error', which must not surface as an unhandled error.
  pool.on('error', () => {});
  const query: Query = async (text, params) => (await pool.query(text, params)).rows;
  return {
    backend,
    db: drizzleNodePg({ client: pool }),
    query,
    url,
    rolledBack: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        return await fn(async (text, params) => (await client.query(text, params)).rows);
      } finally {
        await client.query('rollback');
        client.release();
      }
    },
    close: async () => {
      await pool.end();
      await drop();
    },
  };
}

export { createServerDatabase };

/** The SQLSTATE of a failed query (`23505` unique violation...), or undefined. */
export async function sqlState(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    // drizzle wraps driver errors; the driver's error (with `code`) is the cause.
    const e = error as { code?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    if (code) return code;
    throw error;
  }
  return undefined;
}

/** The nodes of an EXPLAIN (FORMAT JSON) plan, flattened. */
export type PlanNode = {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
};

export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** EXPLAIN (FORMAT JSON) of `text` with sequential scans disabled, as flattened nodes. */
export async function explain(
  database: TestDatabase,
  text: string,
  params?: unknown[],
): Promise<PlanNode[]> {
  return database.rolledBack(async (query) => {
    // Small test tables are cheaper to scan whole; this asks whether an index *can* serve the
    // query with the order it needs, which is what these tests are about.
    await query('set local enable_seqscan = off');
    const [row] = await query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${text}`, params);
    const raw = row?.['QUERY PLAN'];
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
    return planNodes(parsed[0]!.Plan);
  });
}
