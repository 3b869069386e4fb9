import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ledgerOf } from '../../../durable-objects/content-ledger.ts';
import type { AuditRecordInput } from '../../../shared/audit.ts';
import { readVersionPointer, writeVersionPointer } from '../../../shared/content/store.ts';
import {
  auditLog,
  content,
  contentVersions,
  deadLetters,
  events,
  operations,
} from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { envelope } from '../../../shared/messages.ts';
import { ENGAGEMENT_EVENT, type EngagementEvent } from '../../../shared/search/analytics.ts';
import worker from '../../../workers/index.ts';
import { createOrg, eventually, testDb, testServices, untilQuiet } from '../helpers.ts';
import { contentWrites } from './content-writes.ts';
import { deliver, recordingDlq } from './deliver.ts';

/**
 * One message Postgres refuses for good never takes its batch with it: in each consumer, a batch
 * holding one poisoned message (text Postgres cannot store: U+0000 or an unpaired surrogate,
 * which only a sender that skipped the API's validation could produce) keeps every other
 * message, and the poisoned one is dead-lettered with the reason, never retried in a loop.
 */

const db = testDb();
type DeadLetter = { dead_letter: { reason: string; queue: string }; body: unknown };

afterAll(() => untilQuiet());

describe('the WRITES consumer with a poisoned write', () => {
  let orgId: string;
  let contentId: string;
  beforeEach(async () => {
    orgId = await createOrg('poison-writes');
    contentId = newId('content');
  });

  const { snapshot, write } = contentWrites(() => ({ orgId, contentId }), {
    translations: (version, id) => ({
      en: { title: `Clean v${version}`, summary: null, body: 'Body', slug: `clean-${id}` },
    }),
    origin: { requestId: 'req-poison' },
  });
  const versionsOf = async (id: string) =>
    (await db.select().from(contentVersions).where(eq(contentVersions.contentId, id)))
      .map((v) => v.version)
      .sort((x, y) => x - y);
  const operation = async (id: string) =>
    (await db.select().from(operations).where(eq(operations.id, id)))[0];

  /** A write of a second item of the organisation whose snapshot is `poison`ed. */
  const poisoned = (poison: (s: ReturnType<typeof snapshot>) => ReturnType<typeof snapshot>) => {
    const clean = contentId;
    contentId = newId('content');
    const bad = { ...write(1, { snapshot: poison(snapshot(1)) }), contentId };
    contentId = clean;
    return bad;
  };

  it.each([
    [
      'a NUL in a title',
      (s: ReturnType<typeof snapshot>) => ({
        ...s,
        translations: { en: { ...s.translations.en!, title: 'Bad\u0000title' } },
      }),
    ],
    [
      'an unpaired surrogate in a metadata key',
      (s: ReturnType<typeof snapshot>) => ({ ...s, metadata: { 'key\ud800': 1 } }),
    ],
    [
      'a NUL in a metadata value',
      (s: ReturnType<typeof snapshot>) => ({ ...s, metadata: { note: 'a\u0000b' } }),
    ],
  ])(
    'fails and dead-letters only the write with %s, committing the rest of the batch',
    async (_, poison) => {
      const bad = poisoned(poison);
      const good = [write(1), write(2)];
      const dlq = recordingDlq<DeadLetter>('WRITES_DLQ');
      const { batch, result } = await deliver(
        'sift-writes',
        [good[0]!.body, bad.body, good[1]!.body],
        { overrides: { WRITES_DLQ: dlq.queue } },
      );
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
      expect(await versionsOf(contentId)).toEqual([1, 2]);
      expect(await operation(good[1]!.operationId)).toMatchObject({ status: 'applied' });
      // Nothing of the poisoned item was written; its operation says why; the DLQ has it.
      expect(await versionsOf(bad.contentId)).toEqual([]);
      expect((await db.select().from(content).where(eq(content.id, bad.contentId))).length).toBe(0);
      const failed = await operation(bad.operationId);
      expect(failed).toMatchObject({
        status: 'failed',
        kind: 'content.create',
        error: { status: 422, code: 'UNPROCESSABLE', request_id: 'req-poison' },
      });
      expect(failed?.completedAt).toBeInstanceOf(Date);
      expect(failed?.error?.detail).toMatch(/Postgres refused to store version 1 .*SQLSTATE 22/);
      expect(dlq.sent).toHaveLength(1);
      expect(dlq.sent[0]!.dead_letter.reason).toContain('SQLSTATE 22');
      expect(dlq.sent[0]!.body).toEqual(bad.body);
    },
  );

  it('dead-letters a write whose failed operation cannot be recorded either (its organisation is gone)', async () => {
    const good = [write(1), write(2)];
    const [realOrg, realId] = [orgId, contentId];
    [orgId, contentId] = [newId('organization'), newId('content')];
    const orphan = write(1);
    [orgId, contentId] = [realOrg, realId];
    const dlq = recordingDlq<DeadLetter>('WRITES_DLQ');
    const { result } = await deliver('sift-writes', [good[0]!.body, orphan.body, good[1]!.body], {
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(3);
    expect(await versionsOf(contentId)).toEqual([1, 2]);
    expect(await operation(orphan.operationId)).toBeUndefined();
    expect(dlq.sent.map((d) => d.body)).toEqual([orphan.body]);
    expect(dlq.sent[0]!.dead_letter.reason).toContain('SQLSTATE 23503');
  });

  it('forgets a failed version in the ledger and the version pointer, so the next write builds on Postgres', async () => {
    await deliver('sift-writes', [write(1).body]);
    const services = testServices();
    const ledger = ledgerOf(env, orgId);
    const badSnapshot = {
      ...snapshot(2),
      translations: { en: { ...snapshot(2).translations.en!, title: 'Bad\u0000' } },
    };
    const bad = write(2, { snapshot: badSnapshot });
    // The edge's path for version 2: reserve it in the ledger, publish its pointer.
    const reservation = await ledger.reserve([
      { operation_id: bad.operationId, action: 'update', base: 1, snapshot: badSnapshot },
    ]);
    expect(reservation.outcomes).toEqual([{ ok: true }]);
    await ledger.settle(reservation.token!, [bad.operationId]);
    await writeVersionPointer(services, orgId, contentId, 2);
    expect(Object.keys(await ledger.heads([contentId]))).toEqual([contentId]);

    await deliver('sift-writes', [bad.body]);
    expect(await operation(bad.operationId)).toMatchObject({ status: 'failed' });
    await eventually(async () => (await ledger.pending(bad.operationId)) === null);
    expect(await ledger.heads([contentId])).toEqual({});
    await eventually(
      async () => (await readVersionPointer(services, orgId, contentId)) === undefined,
    );
    // The next write is version 2 again, planned from version 1 as Postgres holds it.
    const next = write(2);
    const again = await ledger.reserve([
      { operation_id: next.operationId, action: 'update', base: 1, snapshot: snapshot(2) },
    ]);
    expect(again.outcomes).toEqual([{ ok: true }]);
    await ledger.settle(again.token!, [next.operationId]);
    await deliver('sift-writes', [next.body]);
    expect(await operation(next.operationId)).toMatchObject({ status: 'applied' });
    expect(await versionsOf(contentId)).toEqual([1, 2]);

    // A late redelivery of the failed write changes nothing and is not dead-lettered.
    const dlq = recordingDlq<DeadLetter>('WRITES_DLQ');
    const { result } = await deliver('sift-writes', [bad.body], {
      attempts: 2,
      overrides: { WRITES_DLQ: dlq.queue },
    });
    expect(result.explicitAcks).toHaveLength(1);
    expect(dlq.sent).toEqual([]);
    const [v2] = await db
      .select()
      .from(contentVersions)
      .where(eq(contentVersions.operationId, next.operationId));
    expect(v2?.version).toBe(2);
  });

  it('keeps the head of an item whose later version was accepted on top of the failed one', async () => {
    await deliver('sift-writes', [write(1).body]);
    const ledger = ledgerOf(env, orgId);
    const bad = { ...snapshot(2), metadata: { x: '\u0000' } };
    const [w2, w3] = [write(2, { snapshot: bad }), write(3)];
    const reserved = await ledger.reserve([
      { operation_id: w2.operationId, action: 'update', base: 1, snapshot: bad },
      { operation_id: w3.operationId, action: 'update', base: 2, snapshot: snapshot(3) },
    ]);
    await ledger.settle(reserved.token!, [w2.operationId, w3.operationId]);
    await deliver('sift-writes', [w2.body]);
    await eventually(async () => (await ledger.pending(w2.operationId)) === null);
    const heads: Record<string, { version: number }> = await ledger.heads([contentId]);
    expect(heads[contentId]?.version).toBe(3);
  });
});

describe('the EVENTS consumer with a poisoned event', () => {
  it('keeps every other engagement event of a batch when Postgres refuses one', async () => {
    const orgId = await createOrg('poison-events');
    const event = (query: string): EngagementEvent => ({
      id: newId('event'),
      occurred_at: new Date().toISOString(),
      org_id: orgId,
      type: 'search.performed',
      user_id: null,
      content_id: null,
      query_id: newId('query'),
      data: { query, result_count: 1 },
    });
    const good = [event('tides'), event('harbours'), event('lighthouses')];
    const bad = event('tides\u0000');
    const dlq = recordingDlq<DeadLetter>('EVENTS_DLQ');
    const bodies = [good[0], bad, good[1], good[2]].map((e) =>
      envelope(ENGAGEMENT_EVENT, e, { orgId }),
    );
    const { result } = await deliver('sift-events', bodies, {
      overrides: { EVENTS_DLQ: dlq.queue },
    });
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(4);
    const rows = await db
      .select({ id: events.id })
      .from(events)
      .where(
        inArray(
          events.id,
          [...good, bad].map((e) => e!.id),
        ),
      );
    expect(rows.map((r) => r.id).sort()).toEqual(good.map((e) => e!.id).sort());
    expect(dlq.sent.map((d) => d.body)).toEqual([bodies[1]]);
    expect(dlq.sent[0]!.dead_letter.reason).toContain('Postgres refused it');
  });

  it('dead-letters an audit record Postgres refuses and keeps its neighbours', async () => {
    const orgId = await createOrg('poison-audit');
    const record = (targetId: string): AuditRecordInput => ({
      id: newId('auditLog'),
      org_id: orgId,
      actor_type: 'system',
      actor_id: null,
      action: 'api_key.revoke',
      target_type: 'api_key',
      target_id: targetId,
      ip: null,
      user_agent: null,
      request_id: 'req-poison',
      trace_id: null,
      data: {},
      created_at: new Date().toISOString(),
    });
    const records = [record(newId('apiKey')), record('key_\u0000'), record(newId('apiKey'))];
    const dlq = recordingDlq<DeadLetter>('EVENTS_DLQ');
    const { result } = await deliver(
      'sift-events',
      records.map((r) => envelope('audit.record', r, { orgId })),
      { overrides: { EVENTS_DLQ: dlq.queue } },
    );
    expect(result.retryMessages).toEqual([]);
    const rows = await db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(
        inArray(
          auditLog.id,
          records.map((r) => r.id!),
        ),
      );
    expect(rows.map((r) => r.id).sort()).toEqual([records[0]!.id, records[2]!.id].sort());
    expect(dlq.sent).toHaveLength(1);
    expect(dlq.sent[0]!.dead_letter.reason).toContain('SQLSTATE 22');
  });
});

describe('the JOBS consumer with a poisoned message', () => {
  it('dead-letters a completion Postgres refuses and records its neighbours', async () => {
    const orgId = await createOrg('poison-jobs');
    const ids = [newId('operation'), newId('operation'), newId('operation')];
    await db.insert(operations).values(ids.map((id) => ({ id, orgId, kind: 'search.reindex' })));
    const completed = (id: string, detail: string) =>
      envelope(
        'operation.completed',
        {
          operation_id: id,
          status: 'failed',
          error: { type: '/problems/internal', title: 'Internal', status: 500, detail },
        },
        { orgId },
      );
    const dlq = recordingDlq<DeadLetter>('JOBS_DLQ');
    const { result } = await deliver(
      'sift-jobs',
      [completed(ids[0]!, 'ok'), completed(ids[1]!, 'bad \u0000'), completed(ids[2]!, 'ok')],
      { overrides: { JOBS_DLQ: dlq.queue } },
    );
    expect(result.retryMessages).toEqual([]);
    const rows = await db.select().from(operations).where(inArray(operations.id, ids));
    const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
    expect([status[ids[0]!], status[ids[1]!], status[ids[2]!]]).toEqual([
      'failed',
      'queued',
      'failed',
    ]);
    expect(dlq.sent).toHaveLength(1);
  });
});

describe('the dead-letter consumer', () => {
  const queueOnce = async (queue: string, messages: { id: string; body: unknown }[]) => {
    const batch = createMessageBatch<unknown>(
      queue,
      messages.map((m) => ({ ...m, timestamp: new Date(), attempts: 3 })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };
  const recorded = (ids: string[]) =>
    db.select().from(deadLetters).where(inArray(deadLetters.messageId, ids));

  it('records any message whatever its bytes, exactly, without losing its neighbours', async () => {
    const marker = crypto.randomUUID();
    const nul = { marker, text: 'a\u0000b' };
    const surrogate = { marker, ['key\udc00']: 'lone \ud83d' };
    const plain = { marker, text: 'plain' };
    const wrappedNul = {
      dead_letter: {
        queue: 'sift-events',
        message_id: `wrapped-${marker}`,
        attempts: 1,
        reason: 'invalid payload: data.k\u0000: bad',
        failed_at: new Date().toISOString(),
      },
      body: nul,
    };
    const ids = [`nul-${marker}`, `surrogate-${marker}`, `plain-${marker}`];
    const result = await queueOnce('sift-events-dlq', [
      { id: ids[0]!, body: nul },
      { id: ids[1]!, body: surrogate },
      { id: ids[2]!, body: plain },
      { id: `outer-${marker}`, body: wrappedNul },
    ]);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(4);
    const rows = await recorded([...ids, `wrapped-${marker}`]);
    const byId = new Map(rows.map((r) => [r.messageId, r]));
    expect(byId.size).toBe(4);
    expect(byId.get(ids[0]!)).toMatchObject({ body: null, queue: 'sift-events' });
    expect(JSON.parse(byId.get(ids[0]!)!.bodyText!)).toEqual(nul);
    expect(JSON.parse(byId.get(ids[1]!)!.bodyText!)).toEqual(surrogate);
    expect(byId.get(ids[2]!)).toMatchObject({ body: plain, bodyText: null });
    expect(byId.get(ids[2]!)!.reason).toBe('retries exhausted after 3 attempts');
    const wrapped = byId.get(`wrapped-${marker}`)!;
    expect(JSON.parse(wrapped.bodyText!)).toEqual(nul);
    expect(wrapped.reason).toBe('invalid payload: data.k\\u0000: bad');
  });

  it('fails the operation of a content write whose retries ran out, and the ledger forgets it', async () => {
    const orgId = await createOrg('poison-dlq');
    const contentId = newId('content');
    const { snapshot, write } = contentWrites(() => ({ orgId, contentId }), {
      translations: (version, id) => ({
        en: { title: `T${version}`, summary: null, body: 'B', slug: `t-${id}` },
      }),
      origin: { requestId: 'req-exhausted' },
    });
    const create = write(1);
    const ledger = ledgerOf(env, orgId);
    const reserved = await ledger.reserve([
      { operation_id: create.operationId, action: 'create', base: 0, snapshot: snapshot(1) },
    ]);
    await ledger.settle(reserved.token!, [create.operationId]);
    const messageId = `exhausted-${crypto.randomUUID()}`;
    const result = await queueOnce('sift-writes-dlq', [{ id: messageId, body: create.body }]);
    expect(result.explicitAcks).toEqual([messageId]);
    const [row] = await recorded([messageId]);
    const [op] = await db.select().from(operations).where(eq(operations.id, create.operationId));
    expect(op).toMatchObject({
      status: 'failed',
      kind: 'content.create',
      resourceId: contentId,
      error: { status: 503, dead_letter_id: row!.id, request_id: 'req-exhausted' },
    });
    expect(await ledger.pending(create.operationId)).toBeNull();
    expect(await ledger.heads([contentId])).toEqual({});
  });
});
