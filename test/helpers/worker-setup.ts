import type { TestProject } from 'vitest/node';
import { generateSigningKey } from '../../shared/auth/tokens.ts';
import { generateSecretsKey } from '../../shared/secret-box.ts';
import { migrateDatabase } from '../../tools/db/migrate.ts';
import { startTestCloud } from './local-cloud.ts';
import { createServerDatabase } from './server-database.ts';
import { startWebhookLab } from './webhook-lab.ts';

/**
 * The Workers test project's `globalSetup`: a local cloud on free ports with a migrated database
 * (a fresh database on the Postgres server when `DATABASE_URL` is set, else PGlite in memory),
 * its settings handed to the Worker as bindings, everything torn down after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // On the Postgres server: a database of the run's own, dropped after (`createServerDatabase`).
  const database = process.env.DATABASE_URL
    ? await createServerDatabase(process.env.DATABASE_URL, 'sift_worker')
    : undefined;
  const databaseUrl = database?.url;
  const cloud = await startTestCloud({ databaseUrl });
  const lab = await startWebhookLab();
  const { host, port } = cloud.neon.pg;
  const direct = databaseUrl ?? `postgresql://postgres:postgres@${host}:${port}/postgres`;
  await migrateDatabase(direct);
  // Two signing keys, as during a rotation: tokens signed by either must verify.
  const [current, previous] = await Promise.all([
    generateSigningKey('test-current'),
    generateSigningKey('test-previous'),
  ]);
  project.provide('testLogs', process.env.SIFT_TEST_LOGS === '1');
  project.provide('webhookLab', lab.url);
  project.provide('workerBindings', {
    ...cloud.env,
    AUTH_SIGNING_KEY: JSON.stringify(current),
    AUTH_PREVIOUS_SIGNING_KEY: JSON.stringify(previous),
    // Two secret-box keys, as during a rotation: what either sealed must open.
    SECRETS_KEY: generateSecretsKey('test-current'),
    SECRETS_PREVIOUS_KEY: generateSecretsKey('test-previous'),
    // QStash calls the webhook lab back, where a test picks the call up for the Worker.
    WEBHOOKS_CALLBACK_URL: `${lab.url}/qstash/deliver`,
    // Endpoint host names are resolved by the lab's DNS-over-HTTPS resolver (its fixed zone).
    WEBHOOKS_DNS_RESOLVER: `${lab.url}/dns-query`,
  });
  return async () => {
    await lab.close();
    await cloud.stop();
    await database?.drop();
  };
}
