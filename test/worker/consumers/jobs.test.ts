import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { deadLetters, operations } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { envelope } from '../../../shared/messages.ts';
import { retryDelaySeconds } from '../../../workers/consumers/policy.ts';
import worker from '../../../workers/index.ts';
import { captureLogs, createOrg, DEAD_DATABASE_URL, eventually, testDb } from '../helpers.ts';
import { deliver, recordingDlq } from './deliver.ts';

const db = testDb();

const completed = (
  operationId: string,
  status: 'applied' | 'partially_applied' | 'failed' = 'applied',
  extra = {},
) =>
  envelope(
    'operation.completed',
    { operation_id: operationId, status, ...extra },
    { requestId: 'req-test' },
  );

describe('the JOBS consumer', () => {
  let orgId: string;
  let operationId: string;

  beforeEach(async () => {
    operationId = newId('operation');
    orgId = await createOrg('jobs');
    await db
      .insert(operations)
      .values({ id: operationId, orgId, kind: 'test.job', status: 'queued' });
  });

  const operation = async () =>
    (await db.select().from(operations).where(eq(operations.id, operationId)))[0];

  it('records an operation as applied and acks the message', async () => {
    const { batch, result } = await deliver('sift-jobs', [completed(operationId)]);
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    expect(await operation()).toMatchObject({ status: 'applied', error: null });
    expect((await operation())?.completedAt).toBeInstanceOf(Date);
  });

  it('logs each handled message at info, and nothing below LOG_LEVEL', async () => {
    const handled = async (level: string) => {
      const logs = captureLogs();
      try {
        await deliver('sift-jobs', [completed(operationId)], {
          overrides: { LOG_LEVEL: level },
        });
      } finally {
        logs.restore();
      }
      return logs.lines.filter((l) => l.msg === 'message handled');
    };
    expect(await handled('info')).toHaveLength(1);
    expect(await handled('warn')).toEqual([]);
    expect(await handled('error')).toEqual([]);
  });

  it('records a failure with its problem', async () => {
    const problem = {
      type: '/problems/conflict',
      title: 'Conflict',
      status: 409,
      detail: 'slug taken',
    };
    const { result } = await deliver('sift-jobs', [
      completed(operationId, 'failed', { error: problem }),
    ]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await operation()).toMatchObject({ status: 'failed', error: problem });
  });

  it('records a partially applied operation as final, and refuses one with an error', async () => {
    const { result } = await deliver('sift-jobs', [completed(operationId, 'partially_applied')]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await operation()).toMatchObject({ status: 'partially_applied', error: null });
    expect((await operation())?.completedAt).toBeInstanceOf(Date);
    const dlq = recordingDlq('JOBS_DLQ');
    const problem = { type: '/problems/conflict', title: 'Conflict', status: 409 };
    await deliver(
      'sift-jobs',
      [completed(newId('operation'), 'partially_applied', { error: problem })],
      {
        overrides: { JOBS_DLQ: dlq.queue },
      },
    );
    expect((dlq.sent[0] as { dead_letter: { reason: string } }).dead_letter.reason).toContain(
      'error is required when (and only when) status is failed',
    );
  });

  it('acks a redelivery of a message already recorded without changing anything', async () => {
    await deliver('sift-jobs', [completed(operationId)]);
    const first = await operation();
    const { result } = await deliver('sift-jobs', [completed(operationId)], { attempts: 2 });
    expect(result.explicitAcks).toHaveLength(1);
    expect((await operation())?.completedAt).toEqual(first?.completedAt);
  });

  it('retries with exponential backoff when a dependency is down', async () => {
    const { batch, result, retryDelays } = await deliver('sift-jobs', [completed(operationId)], {
      attempts: 3,
      overrides: { DATABASE_URL: DEAD_DATABASE_URL },
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(retryDelays[0]).toHaveLength(1);
    const delay = retryDelays[0]![0]!;
    // 2^3 = 8 s, with ±20% jitter.
    expect(delay).toBeGreaterThanOrEqual(6);
    expect(delay).toBeLessThanOrEqual(10);
    expect(result.retryMessages[0]!.msgId).toBe(batch.messages[0]!.id);
    expect((await operation())?.status).toBe('queued');
  });

  it.each([
    ['not an envelope', { hello: 'world' }, 'not a Sift envelope'],
    [
      'an unknown type',
      envelope('nobody.handles.this', {}, {}),
      'no handler for message type nobody.handles.this',
    ],
    [
      'a payload that breaks its schema',
      envelope('operation.completed', { operation_id: 'x', status: 'maybe' }, {}),
      'invalid payload: operation_id',
    ],
  ])('sends %s straight to the dead-letter queue with the reason', async (_label, body, reason) => {
    const dlq = recordingDlq('JOBS_DLQ');
    const { batch, result } = await deliver('sift-jobs', [body], {
      overrides: { JOBS_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toEqual([batch.messages[0]!.id]);
    expect(result.retryMessages).toEqual([]);
    expect(dlq.sent).toHaveLength(1);
    expect(dlq.sent[0]).toMatchObject({
      dead_letter: { queue: 'sift-jobs', message_id: batch.messages[0]!.id, attempts: 1 },
      body,
    });
    expect((dlq.sent[0] as { dead_letter: { reason: string } }).dead_letter.reason).toContain(
      reason,
    );
  });

  it('dead-letters a completion for an operation that does not exist', async () => {
    const dlq = recordingDlq('JOBS_DLQ');
    const missing = newId('operation');
    const { result } = await deliver('sift-jobs', [completed(missing)], {
      overrides: { JOBS_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect((dlq.sent[0] as { dead_letter: { reason: string } }).dead_letter.reason).toBe(
      `operation ${missing} does not exist`,
    );
  });

  it('lands dead letters in Postgres, where an admin can find them', async () => {
    const body = { not: 'an envelope', marker: crypto.randomUUID() };
    const { batch } = await deliver('sift-jobs', [body]);
    const messageId = batch.messages[0]!.id;
    const [row] = await eventually(async () => {
      const rows = await db.select().from(deadLetters).where(eq(deadLetters.messageId, messageId));
      return rows.length > 0 ? rows : undefined;
    });
    expect(row).toMatchObject({ queue: 'sift-jobs', body, attempts: 1 });
    expect(row?.reason).toContain('not a Sift envelope');
  });
});

describe('the JOBS consumer: content events', () => {
  let orgId: string;
  let contentId: string;
  let operationId: string;

  beforeEach(async () => {
    orgId = await createOrg('jobs-events');
    contentId = newId('content');
    operationId = newId('operation');
  });

  const event = (type: string) => ({
    id: `${contentId}.v2`,
    type,
    occurred_at: '2025-01-01T12:02:00.000Z',
  });
  const realtime = () =>
    envelope(
      'realtime.publish',
      {
        org_id: orgId,
        channels: [`org:${orgId}`, `content:${contentId}`],
        event: {
          ...event('content.published'),
          data: {
            content_id: contentId,
            version: 2,
            status: 'published',
            operation_id: operationId,
          },
        },
      },
      { requestId: 'req-seams', orgId },
    );
  const webhook = () =>
    envelope(
      'webhook.dispatch',
      {
        org_id: orgId,
        event: {
          ...event('content.published'),
          data: {
            content: {
              id: contentId,
              version: 2,
              status: 'published',
              available_locales: ['en'],
              updated_at: '2025-01-01T12:02:00.000Z',
              deleted_at: null,
            },
            operation_id: operationId,
          },
        },
      },
      { requestId: 'req-seams', orgId },
    );

  it('publishes realtime.publish to each channel once, and dispatches webhooks to no endpoint', async () => {
    const logs = captureLogs();
    const { result } = await deliver('sift-jobs', [realtime(), webhook(), realtime()]);
    logs.restore();
    expect(result.explicitAcks).toHaveLength(3);
    expect(result.retryMessages).toEqual([]);
    // The organisation's channel holds the event once, though the message came twice; the
    // item's channel, which no one asked a ticket for, is not woken.
    const offset = async (channel: string) =>
      (await env.REALTIME.get(env.REALTIME.idFromName(channel)).presence()).offset;
    expect(await offset(`org:${orgId}`)).toBe(1);
    expect(await offset(`content:${contentId}`)).toBe(0);
    // Dispatched in a batch: no endpoint, no delivery.
    expect(logs.lines.find((l) => l.msg === 'webhook events dispatched')).toMatchObject({
      level: 'info',
      events: 1,
      deliveries: 0,
    });
  });

  it('dead-letters content events whose payload is invalid', async () => {
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('JOBS_DLQ');
    const badRealtime = realtime();
    (badRealtime.payload as { channels: string[] }).channels = [];
    const badWebhook = webhook();
    (badWebhook.payload.event as { type: string }).type = 'content.exploded';
    const { result } = await deliver('sift-jobs', [badRealtime, badWebhook], {
      overrides: { JOBS_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(2);
    expect(dlq.sent.map((d) => d.dead_letter.reason)).toEqual([
      expect.stringContaining('invalid payload: channels'),
      expect.stringContaining('invalid payload: event.type'),
    ]);
  });
});

describe('the JOBS consumer: search index retries', () => {
  it('dead-letters a retry whose payload is invalid, naming the field', async () => {
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('JOBS_DLQ');
    const orgId = await createOrg('jobs-index');
    const bodies = [
      envelope('search.index', { org_id: orgId, content_ids: [] }, { requestId: 'req-test' }),
      envelope('search.index', { org_id: orgId, content_ids: ['x'] }, { requestId: 'req-test' }),
      envelope(
        'search.index',
        { org_id: 'nope', content_ids: [newId('content')] },
        { requestId: 'req-test' },
      ),
    ];
    const { result } = await deliver('sift-jobs', bodies, { overrides: { JOBS_DLQ: dlq.queue } });
    expect(result.explicitAcks).toHaveLength(3);
    expect(dlq.sent.map((d) => d.dead_letter.reason)).toEqual([
      expect.stringContaining('invalid payload: content_ids'),
      expect.stringContaining('invalid payload: content_ids.0'),
      expect.stringContaining('invalid payload: org_id'),
    ]);
  });
});

describe('the JOBS consumer: document processing', () => {
  it('dead-letters a processing message whose payload is invalid, naming the field', async () => {
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('JOBS_DLQ');
    const orgId = await createOrg('jobs-documents');
    const valid = {
      org_id: orgId,
      document_id: newId('document'),
      operation_id: newId('operation'),
    };
    const bodies = [
      envelope('document.process', { ...valid, document_id: 'cnt_x' }, {}),
      envelope('document.process', { ...valid, reprocess: 'yes' }, {}),
      envelope('document.vectors.remove', { org_id: orgId }, {}),
    ];
    const { result } = await deliver('sift-jobs', bodies, { overrides: { JOBS_DLQ: dlq.queue } });
    expect(result.explicitAcks).toHaveLength(3);
    expect(dlq.sent.map((d) => d.dead_letter.reason)).toEqual([
      expect.stringContaining('invalid payload: document_id'),
      expect.stringContaining('invalid payload: reprocess'),
      expect.stringContaining('invalid payload: document_id'),
    ]);
  });

  it('acknowledges a processing whose operation does not exist, doing nothing', async () => {
    const orgId = await createOrg('jobs-documents');
    const message = envelope(
      'document.process',
      { org_id: orgId, document_id: newId('document'), operation_id: newId('operation') },
      {},
    );
    const { result } = await deliver('sift-jobs', [message]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });
});

describe('the dead-letter consumer', () => {
  it('records wrapped and exhausted messages once each, however often delivered', async () => {
    const marker = crypto.randomUUID();
    const wrapped = {
      dead_letter: {
        queue: 'sift-jobs',
        message_id: `wrapped-${marker}`,
        attempts: 1,
        reason: 'bad',
        failed_at: new Date().toISOString(),
      },
      body: { marker },
    };
    const exhausted = envelope('operation.completed', { marker }, {});
    const messages = [
      { id: `dl-a-${marker}`, timestamp: new Date(), attempts: 1, body: wrapped },
      { id: `exhausted-${marker}`, timestamp: new Date(), attempts: 1, body: exhausted },
    ];
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch<unknown>('sift-jobs-dlq', messages);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(
        messages.map((m) => m.id).sort(),
      );
    }
    const rows = await db.select().from(deadLetters);
    const mine = rows.filter((r) => JSON.stringify(r.body).includes(marker));
    expect(mine.map((r) => [r.messageId, r.reason]).sort()).toEqual([
      [`exhausted-${marker}`, 'retries exhausted after 1 attempt'],
      [`wrapped-${marker}`, 'bad'],
    ]);
  });

  it('retries the batch when Postgres is down, losing nothing', async () => {
    const batch = createMessageBatch('sift-jobs-dlq', [
      { id: `down-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 2, body: { x: 1 } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DATABASE_URL: DEAD_DATABASE_URL } as Env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch.retry).toBe(true);
  });
});

describe('retryDelaySeconds', () => {
  it('doubles from about 2 s and stops at 15 minutes', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10, 20].map((n) => retryDelaySeconds(n, mid))).toEqual([
      2, 4, 8, 16, 900, 900,
    ]);
    expect(retryDelaySeconds(3, () => 0)).toBe(6);
    expect(retryDelaySeconds(3, () => 1)).toBe(10);
  });
});
