import { env } from 'cloudflare:workers';
import { createRoute, z } from '@hono/zod-openapi';
import { afterEach, describe, expect, it } from 'vitest';
import { newApp } from '../../../workers/api/app.ts';
import { useErrorHandling, useMiddleware } from '../../../workers/api/index.ts';
import { call, captureLogs, expectProblem } from '../helpers.ts';

/** The real middleware and error handling around two test routes: one validated, one failing. */
function testApp() {
  const app = newApp();
  useMiddleware(app);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/things/{id}',
      request: {
        params: z.object({ id: z.string().regex(/^thg_/) }),
        query: z.object({ limit: z.coerce.number().int().max(100).optional() }),
        body: {
          content: {
            'application/json': {
              schema: z.object({
                title: z.object({ en: z.string().min(1), ar: z.string().min(1).optional() }),
                tags: z.array(z.string()).max(2),
              }),
            },
          },
        },
      },
      responses: { 201: { description: 'created' } },
    }),
    (c) => c.body(null, 201),
  );
  app.get('/boom', () => {
    throw new Error('database password=hunter2 exploded');
  });
  useErrorHandling(app);
  return app;
}

const post = (path: string, body: unknown) =>
  testApp().request(
    path,
    { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    env,
  );

describe('problem+json', () => {
  let logs: ReturnType<typeof captureLogs> | undefined;
  afterEach(() => logs?.restore());

  it('answers a validation failure with 400 and every broken field by path and rule', async () => {
    const response = await post('/things/thg_1?limit=500', {
      title: { en: '' },
      tags: ['a', 'b', 'c'],
    });
    const problem = await expectProblem(response, 400);
    expect(problem).toMatchObject({
      code: 'VALIDATION_FAILED',
      type: '/problems/validation-failed',
    });
    // The first failing target is reported (query is checked before the body).
    expect(problem.errors?.map((e) => e.path)).toEqual(['query.limit']);

    const body = await expectProblem(
      await post('/things/thg_1', { title: { en: '' }, tags: ['a', 'b', 'c'] }),
      400,
    );
    expect(body.errors?.map((e) => e.path).sort()).toEqual(['body.tags', 'body.title.en']);
    expect(body.errors?.find((e) => e.path === 'body.tags')?.message).toMatch(/2/);

    const param = await expectProblem(
      await post('/things/nope', { title: { en: 'x' }, tags: [] }),
      400,
    );
    expect(param.errors?.[0]?.path).toBe('path.id');
    expect(param.detail).toContain('path.id');
  });

  it('answers 404 for an unknown path', async () => {
    const problem = await expectProblem(await call('/no/such/thing'), 404);
    expect(problem).toMatchObject({ code: 'NOT_FOUND', instance: '/no/such/thing' });
  });

  it('answers 405 with Allow for a known path and the wrong method', async () => {
    const response = await call('/health', { method: 'DELETE' });
    const problem = await expectProblem(response, 405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(problem).toMatchObject({ code: 'METHOD_NOT_ALLOWED', allowed: ['GET', 'HEAD'] });
    const param = await call('/problems/not-found', { method: 'PUT' });
    expect(param.status).toBe(405);
  });

  it('answers 413 for a body over MAX_BODY_BYTES, declared or streamed', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const declared = await call('/health', { method: 'POST', body: big });
    expect((await expectProblem(declared, 413)).code).toBe('PAYLOAD_TOO_LARGE');

    const small = await call(
      '/health',
      { method: 'POST', body: 'x'.repeat(200) },
      { MAX_BODY_BYTES: '100' },
    );
    expect((await expectProblem(small, 413)).detail).toContain('100 bytes');
  });

  it('answers an unexpected error with a 500 that reveals nothing, and logs it with its stack', async () => {
    logs = captureLogs();
    const response = await testApp().request('/boom', {}, env);
    const problem = await expectProblem(response, 500);
    expect(problem.code).toBe('INTERNAL');
    const text = JSON.stringify(problem);
    expect(text).not.toContain('hunter2');
    expect(text).not.toMatch(/\bat\s.*:\d+/);
    expect(problem.detail).toContain(problem.request_id);
    const logged = logs.lines.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ level: 'error', request_id: problem.request_id });
    expect((logged?.error as { stack?: string } | undefined)?.stack).toContain('exploded');
    const requestLine = logs.lines.find((l) => l.msg === 'request failed');
    expect(requestLine).toMatchObject({ status: 500, level: 'error' });
  });

  it('does not log 4xx problems as errors', async () => {
    logs = captureLogs();
    await call('/no/such/thing');
    expect(logs.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(logs.lines.find((l) => l.msg === 'request')).toMatchObject({ status: 404 });
  });

  it('documents every problem type at its type URI', async () => {
    const response = await call('/problems/validation-failed');
    expect(await response.json()).toMatchObject({
      type: '/problems/validation-failed',
      code: 'VALIDATION_FAILED',
      status: 400,
      title: 'Validation failed',
      description: expect.stringContaining('errors[]'),
    });
    await expectProblem(await call('/problems/no-such-problem'), 404);
  });
});
