import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { unstable_readConfig } from 'wrangler';

/**
 * The queue consumers of wrangler.toml, gathering batches for at most {@link TEST_BATCH_SECONDS}:
 * production waits up to 5 s to fill a batch of events; tests that wait for a consumer (an
 * audit row, a dead letter) need not.
 */
const TEST_BATCH_SECONDS = 1;
type Consumer = {
  queue: string;
  max_batch_size?: number;
  max_batch_timeout?: number;
  max_retries?: number;
  dead_letter_queue?: string;
  retry_delay?: number;
};
const wrangler = unstable_readConfig({ config: 'wrangler.toml' }, { hideWarnings: true });
const queueConsumers = Object.fromEntries(
  ((wrangler.queues.consumers ?? []) as Consumer[]).map((c) => [
    c.queue,
    {
      maxBatchSize: c.max_batch_size,
      maxBatchTimeout: Math.min(c.max_batch_timeout ?? TEST_BATCH_SECONDS, TEST_BATCH_SECONDS),
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
      retryDelay: c.retry_delay,
    },
  ]),
);

const node = { environment: 'node', testTimeout: 30_000, hookTimeout: 60_000 } as const;

export default defineConfig({
  test: {
    // Test files are independent (each works in organisations of its own) and mostly wait on
    // I/O (queues, Postgres, polls), so three run at once even on two cores: the suite took 17 min
    // one file at a time (vitest's default here: cores - 1) and 10 min three at a time.
    maxWorkers: 3,
    projects: [
      {
        test: { name: 'local-cloud', include: ['test/local-cloud/**/*.test.ts'], ...node },
      },
      {
        // Node tests of tools/ and of the database layer (PGlite, and the server when set).
        test: {
          name: 'node',
          include: ['test/db/**/*.test.ts', 'test/tools/**/*.test.ts'],
          ...node,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One local cloud for the whole project, its settings injected as `localCloud`.
          globalSetup: ['test/helpers/local-cloud.ts'],
          ...node,
        },
      },
      {
        // The Worker in workerd (Miniflare), against a local cloud started by the global setup.
        plugins: [
          cloudflareTest(({ inject }) => ({
            remoteBindings: false,
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ...inject('workerBindings'),
                ENVIRONMENT: 'test',
                CORS_ORIGINS: 'https://app.example.com',
                LOG_LEVEL: 'debug',
              },
              queueConsumers,
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/helpers/worker-setup.ts'],
          // Log lines are kept per test and printed when it fails (`SIFT_TEST_LOGS=1`: all).
          setupFiles: ['test/worker/log-buffer.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
