import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestHarness, type TestHarness } from 'wrangler';
import { generateSigningKey } from '../../shared/auth/tokens.ts';
import { generateSecretsKey } from '../../shared/secret-box.ts';
import { createClient } from '../../workers/client.ts';
import { createOwner } from './owner.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '../..');

/**
 * The real Worker, built and served by wrangler's test harness (workerd, static assets and all)
 * against the suite's local cloud: what a client of `npm run dev` or production sees over HTTP.
 */
describe('the Worker over HTTP', () => {
  const cloud = inject('localCloud');
  let harness: TestHarness;
  let base: string;

  beforeAll(async () => {
    const { QSTASH_URL, NEON_LOCAL, ...secrets } = cloud;
    harness = createTestHarness({
      root: ROOT,
      workers: [
        {
          configPath: join(ROOT, 'wrangler.toml'),
          vars: {
            ENVIRONMENT: 'test',
            NEON_LOCAL: NEON_LOCAL ?? 'true',
            QSTASH_URL: QSTASH_URL ?? '',
          },
          secrets: {
            ...secrets,
            AUTH_SIGNING_KEY: JSON.stringify(await generateSigningKey()),
            SECRETS_KEY: generateSecretsKey(),
          },
        },
      ],
    });
    base = (await harness.listen()).url.origin;
  }, 120_000);
  afterAll(() => harness?.close());

  it('publishes a valid OpenAPI 3.1 document', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as Parameters<
      typeof validate
    >[0];
    const result = await validate(document);
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it('answers the typed client, whose types come from the route definitions', async () => {
    const client = createClient(base);
    const health = await client.health.$get();
    expect(health.status).toBe(200);
    const body = await health.json();
    expect(body.status).toBe('ok');
    const ready = await client.ready.$get();
    expect(ready.status).toBe(200);
    if (ready.status === 200) {
      const checks = (await ready.json()).checks;
      expect(Object.values(checks).map((c) => c.status)).toEqual(['up', 'up', 'up', 'up']);
    }
  });

  it('signs in, refreshes and signs out through the Durable Objects of a real wrangler build', async () => {
    const { orgId, email, password } = await createOwner(cloud.DATABASE_URL!, 'founder');
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const login = await post('/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { access_token: string; refresh_token: string };
    const whoami = await fetch(`${base}/v1/whoami`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(whoami.headers.get('ratelimit')).toBeTruthy();
    expect(await whoami.json()).toMatchObject({ kind: 'user', role: 'owner', org_id: orgId });
    const refreshed = await post('/v1/auth/refresh', { refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect((await post('/v1/auth/logout', {}, next.access_token)).status).toBe(204);
    expect((await post('/v1/auth/refresh', { refresh_token: next.refresh_token })).status).toBe(
      401,
    );
  });

  it('serves the reference UI script as a static asset', async () => {
    const response = await fetch(`${base}/docs/assets/scalar.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    const bytes = (await response.arrayBuffer()).byteLength;
    expect(bytes).toBe(statSync(join(ROOT, 'public/docs/assets/scalar.js')).size);
  });

  // Chromium comes from Debian (.ci/run installs it). Outside CI without it, say so and skip.
  const browser = existsSync(CHROMIUM) || process.env.CI ? it : it.skip;
  browser(
    'renders /docs in a browser with no request leaving the machine',
    async () => {
      const instance = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const outside: string[] = [];
      try {
        const page = await instance.newPage();
        await page.route('**/*', (route) => {
          const { hostname } = new URL(route.request().url());
          if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
          outside.push(route.request().url());
          return route.abort();
        });
        await page.goto(`${base}/docs`);
        await page.getByText('Sift API').first().waitFor({ timeout: 30_000 });
        await page.getByText('Getting a token').first().waitFor({ timeout: 30_000 });
        // The sidebar groups the tags; opening one shows its operations.
        await page.getByText('Identity and access').first().waitFor({ timeout: 30_000 });
        await page.getByText('system', { exact: true }).first().click();
        await page.getByText('Readiness').first().waitFor({ timeout: 30_000 });
        // None of the buttons that only work with Scalar's cloud.
        for (const name of [/ask ai/i, /generate mcp/i, /deploy/i, /share/i]) {
          expect(await page.getByRole('button', { name }).count(), String(name)).toBe(0);
          expect(await page.getByRole('link', { name }).count(), String(name)).toBe(0);
        }
        expect(outside).toEqual([]);
      } finally {
        await instance.close();
      }
    },
    90_000,
  );
});
