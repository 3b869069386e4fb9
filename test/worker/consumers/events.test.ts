import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { AuditRecordInput } from '../../../shared/audit.ts';
import { auditLog } from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { envelope } from '../../../shared/messages.ts';
import { createOrg, testDb } from '../helpers.ts';
import { deliver } from './deliver.ts';

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
