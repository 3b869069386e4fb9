import { env } from 'cloudflare:workers';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INT4_MAX } from '../../../shared/db/integers.ts';
import { encodeCursor } from '../../../shared/pagination.ts';
import { breakerStates, resetBreakers } from '../../../shared/resilience/circuit-breaker.ts';
import { newApp } from '../../../workers/api/app.ts';
import { useErrorHandling, useMiddleware } from '../../../workers/api/index.ts';
import { bearer, createTenant, tokenFor } from '../auth.ts';
import { call, DEAD_DATABASE_URL, expectProblem, untilQuiet } from '../helpers.ts';

afterEach(() => resetBreakers());

/**
 * The real middleware and error handling around routes that send a client's value to Postgres
 * unchecked, as a route missing an edge rule would: through the breaker (`guard`) and not.
 */
function testApp() {
  const app = newApp();
  useMiddleware(app);
  app.get('/guarded/:value', async (c) => {
    const { services } = c.var;
    const value = c.req.param('value');
    await services.guard('postgres', () => services.db.execute(sql`select ${value}::int4`));
    return c.body(null, 204);
  });
  app.get('/unguarded/:value', async (c) => {
    await c.var.services.db.execute(sql`select ${c.req.param('value')}::int4`);
    return c.body(null, 204);
  });
  useErrorHandling(app);
  return app;
}

const TOO_BIG = [String(INT4_MAX + 1), '99999999999999', '1e300'];

describe('a number beyond its column is refused at the edge', () => {
  let auth: Record<string, string>;
  let id: string;

  beforeAll(async () => {
    const { owner } = await createTenant('bad-input');
    auth = bearer((await tokenFor(owner)).token);
    const created = await call('/v1/content', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ translations: { en: { title: 'Versions under attack' } } }),
    });
    expect(created.status).toBe(202);
    id = ((await created.json()) as { content: { id: string } }).content.id;
  });

  const cases = (id: string, version: string) => [
    { path: `/v1/content/${id}/versions/${version}`, field: 'path.version' },
    {
      path: `/v1/content/${id}/versions/${version}/restore`,
      method: 'POST',
      field: 'path.version',
    },
    { path: `/v1/content/${id}/diff?from=${version}&to=1`, field: 'query.from' },
    { path: `/v1/content/${id}/diff?from=1&to=${version}`, field: 'query.to' },
  ];

  it('answers 400 naming the field for a version above 2^31 - 1, on every route that takes one', async () => {
    for (const version of TOO_BIG) {
      for (const { path, method, field } of cases(id, version)) {
        const problem = await expectProblem(await call(path, { method, headers: auth }), 400);
        expect(problem.code, path).toBe('VALIDATION_FAILED');
        expect(
          problem.errors?.map((e) => e.path),
          path,
        ).toContain(field);
      }
    }
    // The largest stored version is still a version number: this item simply has none such.
    const largest = await call(`/v1/content/${id}/versions/${INT4_MAX}`, { headers: auth });
    expect((await expectProblem(largest, 404)).code).toBe('NOT_FOUND');
  });

  it('answers 400 to a version-history cursor naming a version beyond the column', async () => {
    const cursor = btoa(
      JSON.stringify({ t: '2025-01-01T00:00:00.000000Z', id: `${id}.v9999999999` }),
    )
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
    const response = await call(`/v1/content/${id}/versions?cursor=${cursor}`, { headers: auth });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.[0]?.path).toBe('query.cursor');
  });

  it('answers 400 to a list cursor whose time Postgres could not store', async () => {
    for (const t of [
      '+275760-09-13T00:00:00.000Z',
      '2025-01-01 00:00:00',
      '99999-01-01T00:00:00Z',
    ]) {
      const cursor = encodeCursor({ t, id: 'aud_01jd5x3k7yf0v9r2m4q6s8t1wz' });
      for (const path of ['/v1/audit-log', '/v1/members', '/v1/search/synonyms']) {
        const response = await call(`${path}?cursor=${cursor}`, { headers: auth });
        const problem = await expectProblem(response, 400);
        expect(problem.errors?.[0]?.path, `${path} ${t}`).toBe('query.cursor');
      }
    }
    expect(breakerStates().postgres.state).toBe('closed');
  });

  it('never opens the Postgres breaker, however many such requests arrive', async () => {
    for (let i = 0; i < 30; i++) {
      const { path, method } = cases(id, TOO_BIG[i % TOO_BIG.length]!)[i % 4]!;
      await expectProblem(await call(path, { method, headers: auth }), 400);
    }
    expect(breakerStates().postgres.state).toBe('closed');
    const ok = await call(`/v1/content/${id}/versions/1`, { headers: auth });
    expect(ok.status).toBe(200);
  });

  afterAll(() => untilQuiet());
});

describe('a query Postgres refuses because of the request', () => {
  const request = (path: string, overrides: Partial<Env> = {}) =>
    testApp().request(path, {}, { ...env, ...overrides });

  it('is a 400, not a 503, and does not count against the breaker', async () => {
    for (let i = 0; i < 30; i++) {
      const problem = await expectProblem(await request(`/guarded/${INT4_MAX + 1 + i}`), 400);
      expect(problem.code).toBe('BAD_REQUEST');
    }
    expect(breakerStates().postgres).toMatchObject({
      state: 'closed',
      error_rate: 0,
      requests: 30,
    });
    expect((await request('/guarded/1')).status).toBe(204);
  });

  it('is a 400 also from a route that calls Postgres without the breaker', async () => {
    const problem = await expectProblem(await request(`/unguarded/${INT4_MAX + 1}`), 400);
    expect(problem.code).toBe('BAD_REQUEST');
    expect(problem.detail).not.toMatch(/int4|integer|select/i);
  });

  it('while a real outage still opens the breaker, and is a 503 with Retry-After', async () => {
    const down = { DATABASE_URL: DEAD_DATABASE_URL };
    for (let i = 0; i < 10; i++) {
      const response = await request('/guarded/1', down);
      const problem = await expectProblem(response, 503);
      expect(problem.dependency).toBe('postgres');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(breakerStates().postgres.state).toBe('open');
    // Open: the refusal comes from the breaker, until its next probe.
    const refused = await request('/guarded/1');
    await expectProblem(refused, 503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(20);
  });

  it('an outage met by a route without the breaker is a 503 with Retry-After, not a 500', async () => {
    const response = await request('/unguarded/1', { DATABASE_URL: DEAD_DATABASE_URL });
    const problem = await expectProblem(response, 503);
    expect(problem).toMatchObject({ code: 'SERVICE_UNAVAILABLE', dependency: 'postgres' });
    expect(response.headers.get('retry-after')).toBe('5');
  });
});
