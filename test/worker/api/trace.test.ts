import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { operations } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import type { Envelope } from '../../../shared/messages.ts';
import { newApp } from '../../../workers/api/app.ts';
import { useErrorHandling, useMiddleware } from '../../../workers/api/index.ts';
import { call, captureLogs, createOrg, eventually, testDb } from '../helpers.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const parse = (header: string | null) => header?.split('-') ?? [];

describe('traceparent', () => {
  let logs: ReturnType<typeof captureLogs> | undefined;
  afterEach(() => logs?.restore());

  it('continues a valid incoming trace with a new span of its own', async () => {
    logs = captureLogs();
    const response = await call('/health', { headers: { traceparent: TRACEPARENT } });
    const [version, traceId, spanId, flags] = parse(response.headers.get('traceparent'));
    expect([version, traceId, flags]).toEqual(['00', TRACE_ID, '01']);
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(spanId).not.toBe(PARENT_ID);
    const line = logs.lines.find((l) => l.msg === 'request');
    expect(line).toMatchObject({ trace_id: TRACE_ID, span_id: spanId, parent_span_id: PARENT_ID });
  });

  it('starts a new trace when there is no traceparent', async () => {
    const response = await call('/health');
    const [version, traceId, spanId] = parse(response.headers.get('traceparent'));
    expect(version).toBe('00');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['garbage', 'not-a-traceparent'],
    ['uppercase hex', TRACEPARENT.toUpperCase()],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['extra fields in version 00', `${TRACEPARENT}-extra`],
    ['a short trace id', `00-${TRACE_ID.slice(2)}-${PARENT_ID}-01`],
  ])('rejects %s: a fresh trace, noted in the log line', async (_label, header) => {
    logs = captureLogs();
    const response = await call('/health', { headers: { traceparent: header } });
    expect(response.status).toBe(200);
    const [, traceId] = parse(response.headers.get('traceparent'));
    expect(traceId).not.toBe(TRACE_ID);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const line = logs.lines.find((l) => l.msg === 'request');
    expect(line?.trace_restarted).toBeTypeOf('string');
    expect(line?.parent_span_id).toBeUndefined();
  });

  it('accepts a later version with extra fields, keeping its trace id', async () => {
    const response = await call('/health', {
      headers: { traceparent: `01-${TRACE_ID}-${PARENT_ID}-01-future` },
    });
    expect(parse(response.headers.get('traceparent'))[1]).toBe(TRACE_ID);
  });

  it('propagates into a queued message, and the consumer continues the trace', async () => {
    const db = testDb();
    const operationId = newId('operation');
    const orgId = await createOrg('trace');
    await db.insert(operations).values({
      id: operationId,
      orgId,
      kind: 'test.trace',
      status: 'queued',
    });

    // The real JOBS queue, with its sends recorded on the way through.
    const sent: Envelope[] = [];
    const jobs: Queue = {
      send: async (body, options) => {
        sent.push(body as Envelope);
        return env.JOBS.send(body, options);
      },
      sendBatch: (messages, options) => env.JOBS.sendBatch(messages, options),
    } as Queue;
    const app = newApp();
    useMiddleware(app);
    app.post('/enqueue', async (c) => {
      await c.var.services.enqueue('jobs', 'operation.completed', {
        operation_id: operationId,
        status: 'applied',
      });
      return c.body(null, 202);
    });
    useErrorHandling(app);

    logs = captureLogs();
    const response = await app.request(
      '/enqueue',
      { method: 'POST', headers: { traceparent: TRACEPARENT, 'X-Request-Id': 'trace-test-1' } },
      { ...env, JOBS: jobs },
    );
    expect(response.status).toBe(202);
    const requestSpan = parse(response.headers.get('traceparent'))[2];
    expect(sent).toHaveLength(1);
    expect(sent[0]?.meta).toMatchObject({
      request_id: 'trace-test-1',
      traceparent: `00-${TRACE_ID}-${requestSpan}-01`,
    });

    const applied = await eventually(async () => {
      const [row] = await db.select().from(operations).where(eq(operations.id, operationId));
      return row?.status === 'applied' ? row : undefined;
    });
    expect(applied.completedAt).toBeInstanceOf(Date);
    // The handler goes on after the update (it publishes the completion on the operation's
    // channel): its log line follows.
    const consumed = await eventually(async () =>
      logs?.lines.find((l) => l.msg === 'message handled' && l.type === 'operation.completed'),
    );
    expect(consumed).toMatchObject({ trace_id: TRACE_ID, request_id: 'trace-test-1' });
  });
});
