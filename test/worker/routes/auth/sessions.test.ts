import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { auditRows, refresh } from '../../support/auth-routes.ts';

type SessionItem = {
  id: string;
  org_id: string;
  device: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  current: boolean;
};
type SessionPage = { items: SessionItem[]; next_cursor: string | null };

const FIREFOX_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0';

const list = (token: string, query = '') =>
  call(`/v1/auth/sessions${query}`, { headers: bearer(token) });
const revoke = (token: string, id: string) =>
  call(`/v1/auth/sessions/${id}`, { method: 'DELETE', headers: bearer(token) });
const revokeAll = (token: string, query = '') =>
  call(`/v1/auth/sessions${query}`, { method: 'DELETE', headers: bearer(token) });

describe('GET /v1/auth/sessions', () => {
  it("lists the caller's sessions with device, IP and times, marking the current one", async () => {
    const { orgId, owner } = await createTenant('sessions');
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(owner.userId));
    const firefox = await sessions.create({
      sessionId: newId('session'),
      orgId,
      ip: '198.51.100.23',
      userAgent: FIREFOX_MAC,
    });
    const { token, sessionId } = await tokenFor(owner);
    const response = await list(token);
    expect(response.status).toBe(200);
    const page = (await response.json()) as SessionPage;
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((s) => s.id).sort()).toEqual([sessionId, firefox.session.id].sort());
    const current = page.items.find((s) => s.id === sessionId);
    const other = page.items.find((s) => s.id === firefox.session.id);
    expect(current).toMatchObject({ current: true, ip: '203.0.113.10', org_id: orgId });
    expect(other).toMatchObject({
      current: false,
      device: 'Firefox on macOS',
      ip: '198.51.100.23',
      user_agent: FIREFOX_MAC,
    });
    for (const item of page.items) {
      expect(Date.parse(item.expires_at)).toBeGreaterThan(Date.parse(item.last_seen_at));
      expect(Date.parse(item.created_at)).toBeLessThanOrEqual(Date.parse(item.last_seen_at));
    }
  });

  it('pages with limit and cursor', async () => {
    const { owner } = await createTenant('sessionspage');
    const a = await tokenFor(owner);
    const b = await tokenFor(owner);
    const c = await tokenFor(owner);
    const first = (await (await list(c.token, '?limit=2')).json()) as SessionPage;
    expect(first.items).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = (await (
      await list(c.token, `?limit=2&cursor=${first.next_cursor}`)
    ).json()) as SessionPage;
    expect(second.next_cursor).toBeNull();
    const ids = [...first.items, ...second.items].map((s) => s.id);
    expect(ids.sort()).toEqual([a.sessionId, b.sessionId, c.sessionId].sort());
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['cursor=garbage', 'query.cursor'],
  ])('answers 400 for %s, naming the field', async (query, path) => {
    const { owner } = await createTenant('sessionsbad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await list(token, `?${query}`), 400);
    expect(problem.errors!.map((e) => e.path)).toContain(path);
  });

  it("never shows another user's sessions", async () => {
    const mine = await createTenant('sessionsmine');
    const theirs = await createTenant('sessionstheirs');
    const { token } = await tokenFor(mine.owner);
    const other = await tokenFor(theirs.owner);
    const page = (await (await list(token)).json()) as SessionPage;
    expect(page.items.map((s) => s.id)).not.toContain(other.sessionId);
    expect(page.items).toHaveLength(1);
  });

  it('answers 401 without a token', async () => {
    await expectProblem(await call('/v1/auth/sessions'), 401);
  });
});

describe('DELETE /v1/auth/sessions/{id}', () => {
  it('revokes one session: its tokens are refused at once, the others go on', async () => {
    const { orgId, owner } = await createTenant('revoke');
    const lost = await tokenFor(owner);
    const mine = await tokenFor(owner);
    const response = await revoke(mine.token, lost.sessionId);
    expect(response.status).toBe(204);
    // The lost device's access token no longer works on live-session routes, nor its refresh.
    await expectProblem(await list(lost.token), 401);
    await expectProblem(await refresh({ refresh_token: lost.refreshToken }), 401);
    const page = (await (await list(mine.token)).json()) as SessionPage;
    expect(page.items.map((s) => s.id)).toEqual([mine.sessionId]);
    const [row] = await auditRows('session.revoke', (r) => r.targetId === lost.sessionId);
    expect(row).toMatchObject({ orgId, actorId: owner.userId, targetType: 'session' });
  });

  it("answers 404 for another user's session, which stays live", async () => {
    const mine = await createTenant('revokemine');
    const theirs = await createTenant('revoketheirs');
    const { token } = await tokenFor(mine.owner);
    const other = await tokenFor(theirs.owner);
    const problem = await expectProblem(await revoke(token, other.sessionId), 404);
    expect(problem.code).toBe('NOT_FOUND');
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(theirs.owner.userId));
    expect(await sessions.isLive(other.sessionId)).toBe(true);
  });

  it('answers 404 for an unknown or already revoked session', async () => {
    const { owner } = await createTenant('revokeunknown');
    const { token } = await tokenFor(owner);
    const old = await tokenFor(owner);
    await expectProblem(await revoke(token, newId('session')), 404);
    expect((await revoke(token, old.sessionId)).status).toBe(204);
    await expectProblem(await revoke(token, old.sessionId), 404);
  });

  it('answers 400 for an id that is not a session id', async () => {
    const { owner } = await createTenant('revokebad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await revoke(token, 'usr_nope'), 400);
    expect(problem.errors!.map((e) => e.path)).toContain('path.id');
  });
});

describe('DELETE /v1/auth/sessions', () => {
  it('revokes every other session and keeps the current one by default', async () => {
    const { orgId, owner } = await createTenant('revokeall');
    const a = await tokenFor(owner);
    const b = await tokenFor(owner);
    const mine = await tokenFor(owner);
    const response = await revokeAll(mine.token);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { revoked: string[] };
    expect(body.revoked.sort()).toEqual([a.sessionId, b.sessionId].sort());
    await expectProblem(await list(a.token), 401);
    await expectProblem(await list(b.token), 401);
    expect((await list(mine.token)).status).toBe(200);
    const [row] = await auditRows('session.revoke_all', (r) => r.actorId === owner.userId);
    expect(row).toMatchObject({ orgId, targetType: 'user', targetId: owner.userId });
    expect(row!.data).toMatchObject({ count: 2, kept_current: true });
  });

  it('revokes the current session too with keep_current=false', async () => {
    const { owner } = await createTenant('revokeallme');
    const other = await tokenFor(owner);
    const mine = await tokenFor(owner);
    const body = (await (await revokeAll(mine.token, '?keep_current=false')).json()) as {
      revoked: string[];
    };
    expect(body.revoked.sort()).toEqual([other.sessionId, mine.sessionId].sort());
    await expectProblem(await list(mine.token), 401);
    await expectProblem(await refresh({ refresh_token: mine.refreshToken }), 401);
  });

  it('answers 400 for a keep_current that is not true or false', async () => {
    const { owner } = await createTenant('revokeallbad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await revokeAll(token, '?keep_current=yes'), 400);
    expect(problem.errors!.map((e) => e.path)).toContain('query.keep_current');
  });

  it("leaves other users' sessions alone", async () => {
    const mine = await createTenant('revokeallmine');
    const theirs = await createTenant('revokealltheirs');
    const { token } = await tokenFor(mine.owner);
    const other = await tokenFor(theirs.owner);
    await revokeAll(token, '?keep_current=false');
    expect((await list(other.token)).status).toBe(200);
  });
});

describe('session routes and API keys', () => {
  it('are for signed-in users only: an API key gets 403', async () => {
    const { owner } = await createTenant('sessionskey');
    const { token } = await tokenFor(owner);
    const created = await call('/v1/keys', {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ci', scopes: ['content:read'] }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    for (const [path, method] of [
      ['/v1/auth/sessions', 'GET'],
      ['/v1/auth/sessions', 'DELETE'],
      [`/v1/auth/sessions/${newId('session')}`, 'DELETE'],
      ['/v1/auth/me', 'GET'],
      ['/v1/auth/logout', 'POST'],
    ] as const) {
      const problem = await expectProblem(
        await call(path, { method, headers: bearer(secret) }),
        403,
      );
      expect(problem.detail).toMatch(/signed-in users/);
    }
  });
});
