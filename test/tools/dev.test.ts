import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { neon } from '@neondatabase/serverless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_PASSWORD } from '../../tools/db/sample-data/people.ts';
import { type DevProcess, freePort, startDevProcess } from '../../tools/dev-process.ts';
import { useLocalNeon } from '../local-cloud/neon/backends.ts';

useLocalNeon();

const _ROOT = join(import.meta.dirname, '../..');

/**
 * `npm run dev` end to end: one command, and Sift answers on localhost with the sample data
 * loaded. Run against the embedded backends, as on a machine with no database or Redis server
 * (a shell DATABASE_URL must not leak into the Worker either).
 */
describe('npm run dev', () => {
  let child: ChildProcess;
  let dev: DevProcess;
  let dir: string;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sift-dev-'));
    port = await freePort();
    // With DATABASE_URL / REDIS_URL set (CI) the local cloud fronts those servers, and the
    // Worker must still get the proxy's settings, not the shell's DATABASE_URL.
    dev = await startDevProcess({ dir, port });
    child = dev.child;
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the API on the printed URL, ready, with its dependencies up', async () => {
    expect(dev.output()).toContain(`Sift is running at http://127.0.0.1:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(200);
    const docs = await fetch(`http://127.0.0.1:${port}/docs/assets/scalar.js`);
    expect(docs.status).toBe(200);
  });

  it('has migrated the database and loaded the bilingual sample data', async () => {
    const databaseUrl = /^ {2}DATABASE_URL=(\S+)$/m.exec(dev.output())?.[1];
    expect(databaseUrl).toBeDefined();
    const [row] = await neon(databaseUrl!).query(
      `select count(distinct c.id)::int as items,
              count(*) filter (where t.locale = 'ar')::int as arabic,
              count(*) filter (where t.locale = 'en')::int as english
         from content c
         join organizations o on o.id = c.org_id and o.slug = 'sift-demo'
         join content_translations t on t.content_id = c.id`,
    );
    expect(row?.items).toBeGreaterThanOrEqual(300);
    expect(row?.arabic).toBeGreaterThan(100);
    expect(row?.english).toBeGreaterThan(100);
  });

  it('signs in a sample user with the development password, with a generated signing key', async () => {
    const login = await fetch(`http://127.0.0.1:${port}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: 'huda.almansouri@sift-demo.example',
        password: SAMPLE_PASSWORD,
      }),
    });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { access_token: string; organization: { slug: string } };
    expect(tokens.organization.slug).toBe('sift-demo');
    const whoami = await fetch(`http://127.0.0.1:${port}/v1/whoami`, {
      headers: { Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await whoami.json()).toMatchObject({ kind: 'user', role: 'owner' });
    const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['dev']);
  });

  it('signs up a new account (a transaction over the WebSocket proxy, from wrangler dev)', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: `founder-${Date.now()}@example.com`,
        password: 'a long enough passphrase',
        name: 'Founder',
        organization: { name: 'Acme Inc' },
      }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ organization: { role: 'owner' } });
  });

  it('stops everything on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(
      fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) }),
    ).rejects.toThrow();
  });
});
