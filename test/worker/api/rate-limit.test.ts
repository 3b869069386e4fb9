import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../../shared/auth/api-keys.ts';
import { apiKeys } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { bearer, createTenant } from '../auth.ts';
import { call, captureLogs, expectProblem, randomIp, testDb } from '../helpers.ts';

const POLICY = /^"([a-z]+-[a-z]+)";q=(\d+);w=(\d+)(;sift-burst=\d+)?$/;
const STATE = /^"([a-z]+-[a-z]+)";r=(\d+);t=(\d+)$/;

/** A key of a fresh organisation, straight into Postgres, with its own rate limit. */
async function keyWithLimit(limit: number, windowSeconds: number) {
  const { orgId } = await createTenant('rate-limit-key');
  const { secret, prefix, hash } = await generateApiKey('test');
  const id = newId('apiKey');
  await testDb()
    .insert(apiKeys)
    .values({
      id,
      orgId,
      name: 'limited',
      prefix,
      hash,
      scopes: ['content:read'],
      rateLimit: limit,
      rateLimitWindowSeconds: windowSeconds,
    });
  return { id, secret };
}

const login = (ip: string) =>
  call('/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
    body: JSON.stringify({ email: 'not-an-email' }),
  });

/** A RATE_LIMITER namespace whose objects answer `check` with `behaviour`. */
const brokenLimiter = (behaviour: () => Promise<unknown>) => ({
  idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
  get: () => ({ check: behaviour }),
});

let logs: ReturnType<typeof captureLogs> | undefined;
afterEach(() => {
  logs?.restore();
  logs = undefined;
});

describe('rate limiting on /v1', () => {
  it('sets RateLimit-Policy and RateLimit on a successful response', async () => {
    const response = await call('/v1/whoami');
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-policy')).toBe('"read-ip";q=300;w=60');
    expect(response.headers.get('ratelimit')).toBe('"read-ip";r=299;t=1');
  });

  it('sets them on error responses too', async () => {
    const response = await call('/v1/no-such-thing', { method: 'DELETE' });
    await expectProblem(response, 404);
    expect(response.headers.get('ratelimit-policy')).toBe('"write-ip";q=60;w=60');
    expect(response.headers.get('ratelimit')).toMatch(STATE);
  });

  it('advertises the burst of a policy that allows more than its quota at once', async () => {
    const response = await call('/v1/search');
    expect(response.headers.get('ratelimit-policy')).toBe('"search-ip";q=100;w=60;sift-burst=150');
    expect(response.headers.get('ratelimit')).toMatch(/^"search-ip";r=149;t=1$/);
  });

  it('answers 429 with Retry-After once an IP is over the auth limit', async () => {
    const ip = randomIp();
    for (let i = 0; i < 10; i++) {
      const response = await login(ip);
      expect(response.status).not.toBe(429);
      expect(response.headers.get('ratelimit')).toBe(`"auth-ip";r=${9 - i};t=${6 * (i + 1)}`);
    }
    const response = await login(ip);
    const problem = await expectProblem(response, 429);
    expect(problem.code).toBe('RATE_LIMITED');
    expect(problem.detail).toBe(
      'Rate limit "auth-ip" exceeded (10 requests per 60 s); retry in 6 s.',
    );
    expect(response.headers.get('retry-after')).toBe('6');
    expect(response.headers.get('ratelimit-policy')).toBe('"auth-ip";q=10;w=60');
    // `t` names the same moment as Retry-After.
    expect(response.headers.get('ratelimit')).toBe('"auth-ip";r=0;t=6');
    // Another IP is not affected.
    expect((await login(randomIp())).status).not.toBe(429);
  });

  it('counts requests that match no route, since the limiter runs before routing', async () => {
    const headers = { 'CF-Connecting-IP': randomIp() };
    for (let i = 0; i < 10; i++) {
      expect((await call('/v1/auth/no-such-route', { method: 'POST', headers })).status).toBe(404);
    }
    await expectProblem(await call('/v1/auth/no-such-route', { method: 'POST', headers }), 429);
  });

  it('counts the requests the fast path admitted in the object', async () => {
    const ip = randomIp();
    const started = Date.now();
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('/v1/whoami', { headers: { 'CF-Connecting-IP': ip } });
      expect(last.status).toBe(200);
    }
    const object = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`read:ip:${ip}`));
    const state = await object.check({ limit: 300, periodSeconds: 60, burst: 300, cost: 0 });
    // 300 a minute gives one request back every 200 ms: on a slow machine the five calls may
    // have earned some back, never more than the time they took.
    const earned = Math.floor((Date.now() - started) / 200);
    const remaining = Number(/;r=(\d+);/.exec(last!.headers.get('ratelimit') ?? '')?.[1]);
    for (const counted of [remaining, state.remaining]) {
      expect(counted).toBeGreaterThanOrEqual(295);
      expect(counted).toBeLessThanOrEqual(295 + earned);
    }
  });

  it('sends the hits of concurrent fast-path requests to the object together, all counted', async () => {
    const ip = randomIp();
    let checks = 0;
    const counting = {
      idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = env.RATE_LIMITER.get(id);
        return {
          check: (input: Parameters<typeof stub.check>[0]) => {
            checks++;
            return stub.check(input);
          },
        };
      },
    };
    const headers = { 'CF-Connecting-IP': ip };
    const started = Date.now();
    expect((await call('/v1/whoami', { headers }, { RATE_LIMITER: counting })).status).toBe(200);
    expect(checks).toBe(1);
    const responses = await Promise.all(
      Array.from({ length: 30 }, () => call('/v1/whoami', { headers }, { RATE_LIMITER: counting })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
    // 30 admitted at once by the isolate, reported to the object in a few calls, not 30.
    expect(checks - 1).toBeLessThanOrEqual(3);
    const object = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`read:ip:${ip}`));
    const state = await object.check({ limit: 300, periodSeconds: 60, burst: 300, cost: 0 });
    // One request earned back every 200 ms (see above).
    expect(state.remaining).toBeGreaterThanOrEqual(300 - 31);
    expect(state.remaining).toBeLessThanOrEqual(
      300 - 31 + Math.floor((Date.now() - started) / 200),
    );
  });

  it("limits an API key by its own rate limit, whatever the caller's IP", async () => {
    const key = await keyWithLimit(3, 60);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call('/v1/whoami', { headers: bearer(key.secret) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const problem = await expectProblem(last!, 429);
    expect(problem.detail).toContain('"read-key"');
    expect(last!.headers.get('ratelimit-policy')).toBe('"read-key";q=3;w=60');
    expect(last!.headers.get('retry-after')).toBe('20');
  });

  it('fails open, and logs why, when the object does not answer in time', async () => {
    logs = captureLogs();
    const ip = randomIp();
    const response = await call(
      '/v1/whoami',
      { headers: { 'CF-Connecting-IP': ip } },
      { RATE_LIMITER: brokenLimiter(() => new Promise(() => {})), RATE_LIMIT_TIMEOUT_MS: '50' },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-policy')).toMatch(POLICY);
    expect(response.headers.get('ratelimit')).toBeNull();
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'rate limiter failed open',
        reason: 'timeout',
        key: `read:ip:${ip}`,
      }),
    );
  });

  it('fails open, and logs why, when the object throws', async () => {
    logs = captureLogs();
    const ip = randomIp();
    const response = await call(
      '/v1/whoami',
      { headers: { 'CF-Connecting-IP': ip } },
      { RATE_LIMITER: brokenLimiter(() => Promise.reject(new Error('object overloaded'))) },
    );
    expect(response.status).toBe(200);
    expect(logs.lines).toContainEqual(
      expect.objectContaining({
        msg: 'rate limiter failed open',
        reason: 'error',
        error: 'object overloaded',
        key: `read:ip:${ip}`,
      }),
    );
  });

  it('does not limit routes outside /v1', async () => {
    const response = await call('/health');
    expect(response.headers.get('ratelimit-policy')).toBeNull();
  });
});
