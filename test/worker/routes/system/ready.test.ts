import { describe, expect, it } from 'vitest';
import { call, DEAD_DATABASE_URL, DEAD_URL, expectProblem } from '../../helpers.ts';

/** A KV namespace that is down: every call fails, as it would during an outage. */
const brokenKv = {
  get: async () => {
    throw new Error('KV GET failed: 503 Service Unavailable');
  },
  put: async () => {
    throw new Error('KV PUT failed');
  },
  delete: async () => {
    throw new Error('KV DELETE failed');
  },
};

type Checks = Record<string, { status: string; latency_ms: number; error?: string }>;

describe('GET /ready', () => {
  it('answers 200 with every dependency up and its latency', async () => {
    const response = await call('/ready');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; checks: Checks };
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['kv', 'postgres', 'redis', 'vector']);
    for (const check of Object.values(body.checks)) {
      expect(check.status).toBe('up');
      expect(check.latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it.each([
    ['postgres', { DATABASE_URL: DEAD_DATABASE_URL }],
    ['redis', { UPSTASH_REDIS_REST_URL: DEAD_URL }],
    ['vector', { UPSTASH_VECTOR_REST_URL: DEAD_URL }],
    ['kv', { CACHE: brokenKv }],
  ] as const)('answers 503 naming %s when it is down', async (dependency, overrides) => {
    const response = await call('/ready', {}, overrides);
    const problem = await expectProblem(response, 503);
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(problem.detail).toBe(`Not ready: ${dependency} is down.`);
    expect(problem.down).toEqual([dependency]);
    const checks = problem.checks as Checks;
    expect(checks[dependency]?.status).toBe('down');
    expect(checks[dependency]?.error).toBeTruthy();
    for (const [name, check] of Object.entries(checks)) {
      if (name !== dependency) expect(check.status).toBe('up');
    }
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('names every dependency that is down', async () => {
    const response = await call(
      '/ready',
      {},
      { UPSTASH_REDIS_REST_URL: DEAD_URL, CACHE: brokenKv },
    );
    const problem = await expectProblem(response, 503);
    expect(problem.down).toEqual(['redis', 'kv']);
    expect(problem.detail).toBe('Not ready: redis, kv are down.');
  });
});
