import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { AuditRecordInput } from '../../../shared/audit.ts';
import { auditLog, events } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { envelope } from '../../../shared/messages.ts';
import { ENGAGEMENT_EVENT, type EngagementEvent } from '../../../shared/search/analytics.ts';
import { createOrg, DEAD_DATABASE_URL, testDb } from '../helpers.ts';
import { deliver, recordingDlq } from './deliver.ts';

const deliverEvents = async (bodies: unknown[]) => (await deliver('sift-events', bodies)).result;

const record = (orgId: string, extra: Partial<AuditRecordInput> = {}): AuditRecordInput => ({
  id: newId('auditLog'),
  org_id: orgId,
  actor_type: 'user',
  actor_id: newId('user'),
  action: 'api_key.revoke',
  target_type: 'api_key',
  target_id: newId('apiKey'),
  ip: '203.0.113.9',
  user_agent: 'vitest',
  request_id: 'req-test',
  trace_id: 'a'.repeat(32),
  data: { prefix: 'sk_test_abc' },
  created_at: new Date().toISOString(),
  ...extra,
});

describe('the EVENTS consumer', () => {
  it('writes audit.record messages to audit_log, once however often they are delivered', async () => {
    const orgId = await createOrg('audit-consumer');
    const entry = record(orgId);
    const message = envelope('audit.record', entry, { orgId });
    const first = await deliverEvents([message, message]);
    expect(first.explicitAcks).toHaveLength(2);
    await deliverEvents([message]);
    const rows = await testDb().select().from(auditLog).where(eq(auditLog.id, entry.id!));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      orgId,
      actorType: 'user',
      actorId: entry.actor_id,
      action: 'api_key.revoke',
      targetId: entry.target_id,
      ip: '203.0.113.9',
      data: { prefix: 'sk_test_abc' },
    });
    expect(rows[0]!.createdAt.toISOString()).toBe(entry.created_at);
  });

  it('records platform events with no organisation and system events with no actor', async () => {
    const entry = record('', { org_id: null, actor_type: 'system', actor_id: null });
    await deliverEvents([envelope('audit.record', entry, {})]);
    const [row] = await testDb().select().from(auditLog).where(eq(auditLog.id, entry.id!));
    expect(row).toMatchObject({ orgId: null, actorType: 'system', actorId: null });
  });

  it('dead-letters a malformed audit record instead of retrying it', async () => {
    const orgId = await createOrg('audit-bad');
    const bad = envelope('audit.record', { ...record(orgId), action: 'Not An Action' }, {});
    const result = await deliverEvents([bad]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
  });
});

const click = (orgId: string, extra: Partial<EngagementEvent> = {}): EngagementEvent => ({
  id: newId('event'),
  occurred_at: '2026-11-02T09:30:00.000Z',
  org_id: orgId,
  type: 'search.result_clicked',
  user_id: newId('user'),
  content_id: newId('content'),
  query_id: newId('query'),
  data: { position: 2 },
  ...extra,
});

const eventRows = (ids: string[]) => testDb().select().from(events).where(inArray(events.id, ids));

describe('the EVENTS consumer: engagement.event', () => {
  it('persists each event once, however often it is delivered', async () => {
    const orgId = await createOrg('engagement-consumer');
    const first = click(orgId);
    const second = click(orgId, {
      type: 'search.performed',
      user_id: null,
      content_id: null,
      data: { query: 'Tides', normalized: 'tides', result_count: 0, api_key_id: 'key_x' },
    });
    const messages = [first, second].map((e) => envelope(ENGAGEMENT_EVENT, e, { orgId }));
    const once = await deliver('sift-events', [...messages, messages[0]]);
    expect(once.result.explicitAcks).toHaveLength(3);
    expect(once.result.retryMessages).toEqual([]);
    const again = await deliver('sift-events', messages, { attempts: 2 });
    expect(again.result.explicitAcks).toHaveLength(2);

    const rows = await eventRows([first.id, second.id]);
    expect(rows).toHaveLength(2);
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(first.id)).toMatchObject({
      orgId,
      type: 'search.result_clicked',
      userId: first.user_id,
      contentId: first.content_id,
      queryId: first.query_id,
      anonymousId: null,
      sessionId: null,
      data: { position: 2 },
    });
    expect(byId.get(first.id)!.occurredAt.toISOString()).toBe(first.occurred_at);
    expect(byId.get(second.id)).toMatchObject({
      type: 'search.performed',
      userId: null,
      contentId: null,
      data: second.data,
    });
  });

  it('dead-letters an invalid event and still persists the valid ones of its batch', async () => {
    const orgId = await createOrg('engagement-bad');
    const good = click(orgId);
    const invalid: Array<[string, unknown]> = [
      ['an unknown type', { ...click(orgId), type: 'search.teleported' }],
      ['a malformed query id', { ...click(orgId), query_id: 'qry_nope' }],
      ['a missing occurred_at', { ...click(orgId), occurred_at: undefined }],
      ['data over 4 KB', { ...click(orgId), data: { note: 'x'.repeat(4100) } }],
      ['data that is not an object', { ...click(orgId), data: ['position', 2] }],
    ];
    const dlq = recordingDlq<{ dead_letter: { reason: string } }>('EVENTS_DLQ');
    const { result } = await deliver(
      'sift-events',
      [good, ...invalid.map(([, e]) => e)].map((e) => envelope(ENGAGEMENT_EVENT, e, { orgId })),
      { overrides: { EVENTS_DLQ: dlq.queue } },
    );
    expect(result.explicitAcks).toHaveLength(1 + invalid.length);
    expect(result.retryMessages).toEqual([]);
    const reasons = dlq.sent.map((m) => m.dead_letter.reason);
    expect(reasons).toHaveLength(invalid.length);
    for (const reason of reasons) expect(reason).toMatch(/^invalid payload: /);
    expect(reasons[0]).toContain('type');
    expect(reasons[1]).toContain('query_id: must be an id (qry_…)');
    expect(reasons[2]).toContain('occurred_at');
    expect(reasons[3]).toContain('data: must be at most 4096 bytes of JSON');
    expect(reasons[4]).toContain('data');
    expect(await eventRows([good.id])).toHaveLength(1);
    const ids = invalid.map(([, e]) => (e as EngagementEvent).id);
    expect(await eventRows(ids)).toEqual([]);
  });

  it('acks and drops the events of an organisation that no longer exists', async () => {
    const orgId = await createOrg('engagement-live');
    const live = click(orgId);
    const gone = click(newId('organization'));
    const dlq = recordingDlq('EVENTS_DLQ');
    const { result } = await deliver(
      'sift-events',
      [live, gone].map((e) => envelope(ENGAGEMENT_EVENT, e, { orgId: e.org_id })),
      { overrides: { EVENTS_DLQ: dlq.queue } },
    );
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    expect(dlq.sent).toEqual([]);
    expect((await eventRows([live.id, gone.id])).map((r) => r.id)).toEqual([live.id]);
  });

  it('retries the whole batch when Postgres is down', async () => {
    const orgId = await createOrg('engagement-down');
    const event = click(orgId);
    const { result } = await deliver(
      'sift-events',
      [envelope(ENGAGEMENT_EVENT, event, { orgId })],
      { overrides: { DATABASE_URL: DEAD_DATABASE_URL } },
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect(await eventRows([event.id])).toEqual([]);
  });
});
