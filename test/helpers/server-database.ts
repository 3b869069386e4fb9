import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * `create database <prefix>_<random>` on the Postgres server of `serverUrl` (`DATABASE_URL`),
 * and how to drop it. Tests and test set-ups migrate such a database of their own, never the
 * shared one `DATABASE_URL` names: a migration changed between two runs (renumbered or
 * regenerated before it landed) must not meet a database a previous run migrated.
 */
export async function createServerDatabase(
  serverUrl: string | undefined = process.env.DATABASE_URL,
  prefix = 'sift_t',
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!serverUrl) throw new Error('DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // WITH (FORCE): a connection a failed test left open must not keep the database alive.
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
