import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../tools/db/migrate.ts';
import {
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from '../../tools/local-cloud/index.ts';
import { createServerDatabase } from './server-database.ts';

/**
 * Starts the whole local cloud for tests: free ports, nothing on disk, fast QStash retries, and
 * the Postgres / Redis servers of `DATABASE_URL` / `REDIS_URL` behind Neon and Redis when those
 * are set (so CI exercises the real servers). Stop it with `cloud.stop()`.
 */
export function startTestCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  return startLocalCloud({
    ports: { neon: 0, pg: 0, redis: 0, vector: 0, ai: 0, qstash: 0 },
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL,
    qstashRetryBackoff: (attempt) => 20 * attempt,
    ...options,
  });
}

/**
 * A vitest `globalSetup`: one local cloud for a whole test project, its settings available in
 * tests as `inject('localCloud')`, stopped when the run ends. With `DATABASE_URL` its Neon
 * fronts a fresh migrated database on that server, not the shared one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // On the Postgres server: a database of the run's own (`createServerDatabase`), dropped after.
  const database = process.env.DATABASE_URL
    ? await createServerDatabase(process.env.DATABASE_URL, 'sift_cloud')
    : undefined;
  const cloud = await startTestCloud(database ? { databaseUrl: database.url } : {});
  const { host, port } = cloud.neon.pg;
  await migrateDatabase(database?.url ?? `postgresql://postgres:postgres@${host}:${port}/postgres`);
  project.provide('localCloud', cloud.env);
  return async () => {
    await cloud.stop();
    await database?.drop();
  };
}
