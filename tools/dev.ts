import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { unstable_readConfig } from 'wrangler';
import { generateSigningKey } from '../shared/auth/tokens.ts';
import { generateSecretsKey } from '../shared/secret-box.ts';
import { CRON_SCHEDULE } from '../workers/cron/schedule.ts';
import { buildAssets } from './build-assets.ts';
import { migrateDatabase } from './db/migrate.ts';
import { SAMPLE_ENDPOINT, SAMPLE_SOURCE } from './db/sample-data/sources.ts';
import { seedDatabase } from './db/seed.ts';
import { type CronRunner, runCrons, triggerScheduled } from './dev-cron.ts';
import { ensureSampleDocuments } from './dev-documents.ts';
import { ensureSampleIndexed } from './dev-index.ts';
import { startSampleReceiver } from './dev-receiver.ts';
import { startFromEnvironment, writeDevVars } from './local-cloud/cli.ts';

/**
 * `npm run dev`: the local cloud, the database migrated and seeded with sample data, then
 * `wrangler dev` serving the Worker against it; once it answers, the sample organisation's search
 * index is built if it is not yet (`dev-index.ts`), its sample documents are uploaded and
 * processed (`dev-documents.ts`) and the Worker's cron triggers start firing on their schedule
 * (`dev-cron.ts`: `wrangler dev` never fires them). Ctrl-C stops everything.
 *
 * Settings: the local cloud's `LOCAL_CLOUD_*` (README), plus `DEV_PORT` (default 8787) for the
 * Worker, `DEV_WEBHOOK_PORT` (default the next port; 0 picks a free one) for the sample
 * webhook receiver and `DEV_INSPECTOR_PORT` for wrangler's inspector (default: wrangler's). Development values for the Worker's own vars go into `.dev.vars` unless set
 * there.
 */
const root = join(import.meta.dirname, '..');
const port = Number(process.env.DEV_PORT ?? 8787);
const receiverPort = Number(process.env.DEV_WEBHOOK_PORT ?? port + 1);

async function main() {
  buildAssets();
  const cloud = await startFromEnvironment(process.env);
  const devVars = resolve(process.env.LOCAL_CLOUD_DEV_VARS ?? '.dev.vars');
  writeDevVars(
    devVars,
    {
      ENVIRONMENT: 'development',
      CORS_ORIGINS: 'http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000',
      // Quiet by default: one line per request and what goes wrong. A shell's LOG_LEVEL picks
      // the level of a new .dev.vars (`debug` for everything, benchmarks run at `warn`).
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      AUTH_ISSUER: `http://127.0.0.1:${port}`,
      // Webhook endpoints on this machine (a receiver on localhost) are allowed in development.
      WEBHOOKS_ALLOW_LOOPBACK: 'true',
      // Generated once and kept, so tokens survive restarts of the dev server.
      AUTH_SIGNING_KEY: JSON.stringify(await generateSigningKey('dev')),
      SECRETS_KEY: generateSecretsKey('dev'),
    },
    { keepExisting: true },
  );

  const { host, port: pgPort } = cloud.neon.pg;
  const direct =
    cloud.neon.backend === 'pglite'
      ? `postgresql://postgres:postgres@${host}:${pgPort}/postgres`
      : (process.env.DATABASE_URL as string);
  const { applied } = await migrateDatabase(direct);
  console.log(`dev: database migrated (${applied} new migration${applied === 1 ? '' : 's'})`);
  // The sample upstream source's secret is sealed with the Worker's key, as in .dev.vars now.
  const { SECRETS_KEY: secretsKey } = parseEnv(readFileSync(devVars, 'utf8'));
  // The sample outbound endpoint's receiver, before the seed points the endpoint at it.
  const receiver = await startSampleReceiver(receiverPort, SAMPLE_ENDPOINT.secret);
  const seeded = await seedDatabase(direct, { secretsKey, sampleReceiverUrl: receiver.url });
  console.log(`dev: sample data ${JSON.stringify(seeded)}`);

  // KV, queue and cache state of `wrangler dev` lives next to the local cloud's data.
  const dataDir = process.env.LOCAL_CLOUD_DATA_DIR ?? join(root, '.data');
  const inMemory = ['1', 'true'].includes(process.env.LOCAL_CLOUD_IN_MEMORY ?? '');
  const persistTo = inMemory
    ? mkdtempSync(join(tmpdir(), 'sift-wrangler-'))
    : join(resolve(dataDir), 'wrangler');
  const wrangler = spawn(
    join(root, 'node_modules/.bin/wrangler'),
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      persistTo,
      '--env-file',
      devVars,
      '--show-interactive-dev-session=false',
      ...(process.env.DEV_INSPECTOR_PORT
        ? ['--inspector-port', process.env.DEV_INSPECTOR_PORT]
        : []),
      // The crons are fired below; this also keeps wrangler from saying they are not.
      '--test-scheduled',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: workerProcessEnv(cloud.env),
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const print = bindingsOnce((line) => process.stdout.write(line));
  let announced = false;
  let crons: CronRunner | undefined;
  wrangler.stdout.on('data', (chunk: Buffer) => {
    print(chunk.toString());
    if (!announced && /Ready on/.test(chunk.toString())) {
      announced = true;
      void ready(base, direct).then(
        (runner) => {
          crons = runner;
          console.log(`\nSift is running at ${base} (reference: ${base}/docs). Ctrl-C stops it.`);
          console.log(
            `The sample upstream source "${SAMPLE_SOURCE.name}" (GET /v1/webhooks/sources) takes ` +
              `Standard Webhooks signed with ${SAMPLE_SOURCE.secret}. Every change is sent to the ` +
              `sample webhook endpoint, whose receiver (${receiver.url}) prints what it gets.\n`,
          );
        },
        (error: unknown) => {
          console.error(`dev: ${error instanceof Error ? error.message : error}`);
          void stop(1);
        },
      );
    }
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    crons?.stop();
    receiver.server.close();
    wrangler.kill('SIGINT');
    await cloud.stop();
    process.exit(code);
  };
  wrangler.on('exit', (code) => void stop(code ?? 0));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
}

/**
 * Once the Worker answers: the sample data searchable, then the cron triggers of wrangler.toml
 * firing against it.
 */
async function ready(base: string, databaseUrl: string): Promise<CronRunner> {
  const index = await ensureSampleIndexed({ base, databaseUrl });
  console.log(
    index.rebuilt
      ? `dev: sample data indexed for search (${index.published} published items, ${index.seconds.toFixed(1)} s)`
      : `dev: search index of the sample data is current (${index.published} published items)`,
  );
  // Topics and trends at once (`compute-trends`), not at the next five-minute mark.
  const trends = Object.entries(CRON_SCHEDULE).find(([, jobs]) =>
    (jobs as readonly string[]).includes('compute-trends'),
  )?.[0];
  if (trends) {
    await triggerScheduled(base, trends).then(
      () => console.log('dev: topics and trends of the sample data computed (GET /v1/trends)'),
      (error: unknown) => console.error(`dev: trends not computed yet (${String(error)})`),
    );
  }
  // The sample documents, uploaded and processed like any upload (extracted, chunked, embedded,
  // enriched): searchable and ready for questions once this says so.
  await ensureSampleDocuments({ base, databaseUrl }).then(
    ({ uploaded, statuses, seconds }) =>
      console.log(
        `dev: sample documents processed (${uploaded} uploaded now; ${Object.entries(statuses)
          .map(([status, n]) => `${n} ${status}`)
          .join(', ')}; ${seconds.toFixed(1)} s; GET /v1/documents)`,
      ),
    (error: unknown) => console.error(`dev: sample documents not processed (${String(error)})`),
  );
  const config = unstable_readConfig(
    { config: join(root, 'wrangler.toml') },
    { hideWarnings: true },
  );
  const schedules = config.triggers.crons ?? [];
  const runner = runCrons({
    crons: schedules,
    trigger: (cron) => triggerScheduled(base, cron),
    log: (line) => console.error(line),
  });
  const next = Object.entries(runner.next())
    .map(([cron, at]) => `"${cron}" next at ${at.toISOString()}`)
    .join(', ');
  console.log(`dev: cron triggers of wrangler.toml run on schedule (UTC): ${next}`);
  return runner;
}

/**
 * Passes `wrangler dev`'s output on, but its table of bindings only the first time: it prints it
 * again whenever it reconnects or reloads, which buries everything else.
 */
function bindingsOnce(write: (text: string) => void): (text: string) => void {
  let pending = '';
  let seen = false;
  let skipping = false;
  return (text) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('Your Worker has access to the following bindings')) {
        skipping = seen;
        seen = true;
      }
      if (skipping) {
        if (line.trim() === '') skipping = false;
        continue;
      }
      write(`${line}\n`);
    }
  };
}

/**
 * The environment `wrangler dev` runs with. Wrangler also reads the Worker's settings from its own
 * process environment, where they would override .dev.vars: a shell's `DATABASE_URL` naming the
 * Postgres server behind the local cloud is not the URL the Worker must use. So those names are
 * left out.
 */
function workerProcessEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
  for (const name of [...Object.keys(settings), 'REDIS_URL']) delete env[name];
  return env;
}

await main();
