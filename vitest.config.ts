import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

const node = { environment: 'node', testTimeout: 30_000, hookTimeout: 60_000 } as const;

export default defineConfig({
  test: {
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
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          globalSetup: ['test/helpers/worker-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
