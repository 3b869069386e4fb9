import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditActorType } from '../../../../shared/db/schema/audit.ts';
import { auditLog } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, eventually, expectProblem, testDb } from '../../helpers.ts';

type Entry = { id: string; action: string; actor_id: string | null; created_at: string };
type Page = { items: Entry[]; next_cursor: string | null };

const BASE_TIME = Date.parse('2026-06-01T12:00:00.000Z');

describe('GET /v1/audit-log', () => {
  let orgId: string;
  let token: string;
  let actor: string;
  let ids: string[];

  beforeAll(async () => {
    const tenant = await createTenant('audit-read');
    orgId = tenant.orgId;
    token = (await tokenFor(tenant.owner)).token;
    actor = tenant.owner.userId;
    const other = newId('user');
    const rows: Array<{ action: string; actorId: string; at: number; actorType?: AuditActorType }> =
      [
        { action: 'api_key.create', actorId: actor, at: 0 },
        { action: 'api_key.roll', actorId: actor, at: 1 },
        // Same instant as the row before: the cursor must still split them exactly.
        { action: 'api_key.revoke', actorId: other, at: 1 },
        { action: 'membership.role_change', actorId: other, at: 2 },
        { action: 'auth.login', actorId: actor, at: 3 },
        { action: 'permission.denied', actorId: other, at: 4 },
      ];
    ids = [];
    for (const row of rows) {
      const id = newId('auditLog');
      ids.push(id);
      await testDb()
        .insert(auditLog)
        .values({
          id,
          orgId,
          actorType: row.actorType ?? 'user',
          actorId: row.actorId,
          action: row.action,
          targetType: 'api_key',
          targetId: row.action.startsWith('api_key') ? 'key_target' : null,
          createdAt: new Date(BASE_TIME + row.at * 60_000),
        });
    }
    // Another organisation's entry, which must never show.
    const stranger = await createTenant('audit-other');
    await testDb()
      .insert(auditLog)
      .values({
        id: newId('auditLog'),
        orgId: stranger.orgId,
        actorType: 'user',
        actorId: stranger.owner.userId,
        action: 'api_key.create',
        createdAt: new Date(BASE_TIME),
      });
  });

  const list = async (query = '') => {
    const response = await call(`/v1/audit-log${query}`, { headers: bearer(token) });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Page;
  };

  it("returns the organisation's entries, newest first", async () => {
    const page = await list(`?until=${new Date(BASE_TIME + 10 * 60_000).toISOString()}`);
    expect(page.items.map((e) => e.action)).toEqual([
      'permission.denied',
      'auth.login',
      'membership.role_change',
      ...(page.items[3]!.action === 'api_key.roll'
        ? ['api_key.roll', 'api_key.revoke']
        : ['api_key.revoke', 'api_key.roll']),
      'api_key.create',
    ]);
    expect(page.next_cursor).toBeNull();
  });

  it('pages with the cursor without skipping or repeating an entry', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2&until=${new Date(BASE_TIME + 10 * 60_000).toISOString()}${
        cursor ? `&cursor=${cursor}` : ''
      }`;
      const page = await list(query);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(ids.length);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('filters by action, action prefix, actor, target and time range', async () => {
    expect((await list('?action=auth.login')).items.map((e) => e.action)).toEqual(['auth.login']);
    const keys = await list('?action=api_key.*');
    expect(keys.items.map((e) => e.action).sort()).toEqual([
      'api_key.create',
      'api_key.revoke',
      'api_key.roll',
    ]);
    const mine = await list(`?actor_id=${actor}`);
    expect(mine.items.every((e) => e.actor_id === actor)).toBe(true);
    expect(mine.items).toHaveLength(3);
    expect((await list('?target_id=key_target')).items).toHaveLength(3);
    const window = await list(
      `?since=${new Date(BASE_TIME + 60_000).toISOString()}&until=${new Date(BASE_TIME + 3 * 60_000).toISOString()}`,
    );
    expect(window.items.map((e) => e.action).sort()).toEqual([
      'api_key.revoke',
      'api_key.roll',
      'membership.role_change',
    ]);
    // Plain dates: `since` from the start of its day, `until` through the end of its day (UTC).
    const day = await list('?since=2026-06-01&until=2026-06-01');
    expect(day.items.length).toBeGreaterThan(0);
    expect(day.items.map((e) => e.id)).toEqual(
      (await list(`?until=${new Date(BASE_TIME + 10 * 60_000).toISOString()}`)).items.map(
        (e) => e.id,
      ),
    );
    expect((await list('?since=2026-06-02&until=2026-06-30')).items).toEqual([]);
    expect((await list('?until=2026-05-31')).items).toEqual([]);
  });

  it('answers 400 naming the parameter for a bad limit, cursor, action or time range', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', 'query.limit'],
      ['?limit=101', 'query.limit'],
      ['?cursor=not-a-cursor', 'query.cursor'],
      ['?action=DROP%20TABLE', 'query.action'],
      ['?actor_id=nobody', 'query.actor_id'],
      ['?since=yesterday', 'query.since'],
      ['?until=2026-06-31', 'query.until'],
      ['?since=2026-06-01T12:00:00', 'query.since'],
      [
        `?since=${new Date(BASE_TIME).toISOString()}&until=${new Date(BASE_TIME - 1).toISOString()}`,
        'query.until',
      ],
    ];
    for (const [query, path] of cases) {
      const response = await call(`/v1/audit-log${query}`, { headers: bearer(token) });
      const problem = await expectProblem(response, 400);
      expect(
        problem.errors?.map((e) => e.path),
        query,
      ).toContain(path);
    }
  });

  it('refuses members without audit:read', async () => {
    const editor = await createMember(orgId, 'editor');
    const response = await call('/v1/audit-log', {
      headers: bearer((await tokenFor(editor)).token),
    });
    const problem = await expectProblem(response, 403);
    expect(problem.detail).toContain('audit:read');
  });

  it('records a permission denial through the queue, readable here', async () => {
    const viewer = await createMember(orgId, 'viewer');
    const denied = await call('/v1/audit-log', { headers: bearer((await tokenFor(viewer)).token) });
    await expectProblem(denied, 403);
    const entry = await eventually(async () => {
      const page = await list(`?action=permission.denied&actor_id=${viewer.userId}`);
      return page.items[0];
    });
    expect(entry).toMatchObject({
      action: 'permission.denied',
      actor_id: viewer.userId,
      data: { permission: 'audit:read', method: 'GET', route: '/v1/audit-log' },
      request_id: denied.headers.get('x-request-id'),
    });
  });
});
