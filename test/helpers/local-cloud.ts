import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../tools/db/migrate.ts';
import {
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from '../../tools/local-cloud/index.ts';

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
 * tests as `inject('localCloud')`, stopped when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cloud = await startTestCloud();
  const { host, port } = cloud.neon.pg;
  // On the Postgres server this migrates the shared database in place: migrations are idempotent.
  await migrateDatabase(
    process.env.DATABASE_URL ?? `postgresql://postgres:postgres@${host}:${port}/postgres`,
  );
  project.provide('localCloud', cloud.env);
  return () => cloud.stop();
}
