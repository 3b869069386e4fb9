import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { call, captureLogs, DEAD_DATABASE_URL, DEAD_URL, expectProblem } from '../../helpers.ts';

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

/** A KV namespace that is down, counting the reads that reach it. */
function countingBrokenKv() {
  const kv = { ...brokenKv, calls: 0 };
  kv.get = async () => {
    kv.calls++;
    return brokenKv.get();
  };
  return kv;
}

type Checks = Record<string, { status: string; latency_ms: number; error?: string }>;
type Breakers = Record<
  string,
  {
    state: string;
    error_rate: number;
    requests: number;
    opened_at: string | null;
    retry_at: string | null;
  }
>;

const DEPENDENCIES_WITH_BREAKERS = [
  'ai',
  'kv',
  'llm',
  'postgres',
  'qstash',
  'queue',
  'redis',
  'vector',
];

// Breakers live as long as the isolate, which every test here shares: each starts from none.
beforeEach(() => resetBreakers());
afterEach(() => resetBreakers());

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

  it('reports every dependency breaker, the checks counted in their windows', async () => {
    const response = await call('/ready');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { breakers: Breakers };
    expect(Object.keys(body.breakers).sort()).toEqual(DEPENDENCIES_WITH_BREAKERS);
    for (const name of ['postgres', 'redis', 'vector', 'kv']) {
      expect(body.breakers[name]).toEqual({
        state: 'closed',
        error_rate: 0,
        requests: 1,
        opened_at: null,
        retry_at: null,
      });
    }
    // Nothing calls the queue or the embedding model from /ready (a probe would cost a model
    // run): their breakers are reported, untouched.
    expect(body.breakers.queue).toMatchObject({ state: 'closed', requests: 0 });
    expect(body.breakers.ai).toMatchObject({ state: 'closed', requests: 0 });
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
    // One failed check counts, but one failure of one call does not open the breaker.
    const breakers = problem.breakers as Breakers;
    expect(breakers[dependency]).toMatchObject({ state: 'closed', error_rate: 1, requests: 1 });
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

  it('opens the breaker of a dependency that keeps failing, then answers without calling it', async () => {
    const logs = captureLogs();
    try {
      let last: Response | undefined;
      for (let i = 0; i < 10; i++) {
        last = await call('/ready', {}, { DATABASE_URL: DEAD_DATABASE_URL });
        await expectProblem(last, 503);
      }
      const opening = last?.headers.get('x-request-id');
      const opened = logs.lines.filter((line) => line.msg === 'circuit opened');
      expect(opened).toHaveLength(1);
      expect(opened[0]).toMatchObject({
        level: 'warn',
        dependency: 'postgres',
        trigger: 'error_rate',
        error_rate: 1,
        requests: 10,
        request_id: opening,
      });

      const started = performance.now();
      const response = await call('/ready', {}, { DATABASE_URL: DEAD_DATABASE_URL });
      const problem = await expectProblem(response, 503);
      expect(problem.down).toEqual(['postgres']);
      const breakers = problem.breakers as Breakers;
      const postgres = breakers.postgres!;
      expect(postgres).toMatchObject({ state: 'open', error_rate: 1, requests: 10 });
      expect(Date.parse(postgres.retry_at!) - Date.parse(postgres.opened_at!)).toBe(30_000);
      const check = (problem.checks as Checks).postgres!;
      expect(check).toMatchObject({
        status: 'down',
        error: `circuit open until ${postgres.retry_at}`,
      });
      expect(check.latency_ms).toBeLessThan(5);
      expect(performance.now() - started).toBeLessThan(1_000);
      for (const name of ['redis', 'vector', 'kv']) expect(breakers[name]?.state).toBe('closed');
      // Still opened once: calls refused while open are not transitions.
      expect(logs.lines.filter((line) => line.msg === 'circuit opened')).toHaveLength(1);
    } finally {
      logs.restore();
    }
  });

  it('reports an open dependency as down without calling it', async () => {
    const kv = countingBrokenKv();
    for (let i = 0; i < 10; i++) await call('/ready', {}, { CACHE: kv });
    expect(kv.calls).toBe(10);
    for (let i = 0; i < 3; i++) {
      const problem = await expectProblem(await call('/ready', {}, { CACHE: kv }), 503);
      expect((problem.checks as Checks).kv?.error).toMatch(/^circuit open until /);
      expect((problem.breakers as Breakers).kv?.state).toBe('open');
    }
    expect(kv.calls).toBe(10);
  });

  it('answers 503 while the breaker is open even when the dependency is back', async () => {
    const kv = countingBrokenKv();
    for (let i = 0; i < 10; i++) await call('/ready', {}, { CACHE: kv });
    const problem = await expectProblem(await call('/ready'), 503);
    expect(problem.down).toEqual(['kv']);
  });

  it('probes after 30 s and closes the breaker when the dependency is back', async () => {
    let now = Date.now();
    resetBreakers({ now: () => now });
    const kv = countingBrokenKv();
    for (let i = 0; i < 10; i++) await call('/ready', {}, { CACHE: kv });
    now += 29_000;
    await expectProblem(await call('/ready'), 503);

    now += 1_000;
    const logs = captureLogs();
    try {
      const response = await call('/ready');
      expect(response.status).toBe(200);
      const body = (await response.json()) as { breakers: Breakers; checks: Checks };
      expect(body.checks.kv?.status).toBe('up');
      expect(body.breakers.kv).toEqual({
        state: 'closed',
        error_rate: 0,
        requests: 0,
        opened_at: null,
        retry_at: null,
      });
      const transitions = logs.lines.filter((line) => String(line.msg).startsWith('circuit '));
      expect(transitions.map((line) => [line.msg, line.level, line.dependency])).toEqual([
        ['circuit half-open', 'info', 'kv'],
        ['circuit closed', 'info', 'kv'],
      ]);
    } finally {
      logs.restore();
    }
  });

  it('reopens the breaker for another 30 s when the probe fails', async () => {
    let now = Date.now();
    resetBreakers({ now: () => now });
    const kv = countingBrokenKv();
    for (let i = 0; i < 10; i++) await call('/ready', {}, { CACHE: kv });
    now += 30_000;
    const problem = await expectProblem(await call('/ready', {}, { CACHE: kv }), 503);
    expect(kv.calls).toBe(11);
    const breaker = (problem.breakers as Breakers).kv!;
    expect(breaker.state).toBe('open');
    expect(Date.parse(breaker.opened_at!)).toBe(now);
    expect(Date.parse(breaker.retry_at!)).toBe(now + 30_000);
  });
});
