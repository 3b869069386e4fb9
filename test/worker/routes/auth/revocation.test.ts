import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { clearSessionStates, SESSION_STATE_TTL_MS } from '../../../../shared/auth/session-state.ts';
import { signAccessToken } from '../../../../shared/auth/tokens.ts';
import { memberships } from '../../../../shared/db/schema/index.ts';
import {
  audience,
  bearer,
  createMember,
  createTenant,
  type Member,
  signingKeys,
  TEST_PASSWORD,
  tokenFor,
} from '../../auth.ts';
import { call, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { login, postJson, refresh, type TokenBody } from '../../support/auth-routes.ts';
import { insertContent } from '../content/fixtures.ts';

// Content writes set the WRITES consumer going; let it finish before the file ends.
afterAll(() => untilQuiet());

/** A content read (an item of the organisation) and a content write (a create). */
async function readAndWrite(orgId: string, token: string) {
  const { id } = await insertContent(orgId);
  const read = await call(`/v1/content/${id}`, { headers: bearer(token) });
  const write = await call(
    '/v1/content',
    postJson({ translations: { en: { title: 'Written after the change' } } }, bearer(token)),
  );
  return { read, write };
}

/** Asserts the read and the write are both refused: 401 `invalid_token` saying `detail`. */
async function expectRefused(orgId: string, token: string, detail: RegExp) {
  const { read, write } = await readAndWrite(orgId, token);
  for (const response of [read, write]) {
    const problem = await expectProblem(response, 401);
    expect(problem.detail).toMatch(detail);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
  }
}

async function expectAccepted(orgId: string, token: string) {
  const { read, write } = await readAndWrite(orgId, token);
  expect(read.status).toBe(200);
  expect(write.status, await write.clone().text()).toBe(202);
}

const SIGNED_OUT = /^The session has been signed out$/;
const STALE = /predates a change to your membership; refresh it/;

const remove = (userId: string, token: string) =>
  call(`/v1/members/${userId}`, { method: 'DELETE', headers: bearer(token) });

const patch = (path: string, body: unknown, token: string) =>
  call(path, { ...postJson(body, bearer(token)), method: 'PATCH' });

const changeRole = (userId: string, role: string, token: string) =>
  patch(`/v1/members/${userId}`, { role }, token);

async function tenantWith(role: Member['role']) {
  const { orgId, owner } = await createTenant('revoke');
  const member = await createMember(orgId, role);
  return { orgId, owner, ownerToken: (await tokenFor(owner)).token, member };
}

describe('revocation on content routes', () => {
  it('refuses a signed-out session on a content read and a content write', async () => {
    const { orgId, member } = await tenantWith('editor');
    const { token } = await tokenFor(member);
    await expectAccepted(orgId, token);
    expect((await call('/v1/auth/logout', { method: 'POST', headers: bearer(token) })).status).toBe(
      204,
    );
    await expectRefused(orgId, token, SIGNED_OUT);
  });

  it('refuses a session revoked from another device, and only that one', async () => {
    const { orgId, member } = await tenantWith('editor');
    const lost = await tokenFor(member);
    const kept = await tokenFor(member);
    await expectAccepted(orgId, lost.token);
    const response = await call(`/v1/auth/sessions/${lost.sessionId}`, {
      method: 'DELETE',
      headers: bearer(kept.token),
    });
    expect(response.status).toBe(204);
    await expectRefused(orgId, lost.token, SIGNED_OUT);
    await expectAccepted(orgId, kept.token);
  });

  it("refuses a removed member's token on a content read and a content write", async () => {
    const { orgId, member, ownerToken } = await tenantWith('editor');
    const { token } = await tokenFor(member);
    await expectAccepted(orgId, token);
    expect((await remove(member.userId, ownerToken)).status).toBe(204);
    await expectRefused(orgId, token, SIGNED_OUT);
  });

  it("refuses a removed member's older token for the organisation from a session that moved on", async () => {
    const { orgId, member, ownerToken } = await tenantWith('editor');
    const other = await createTenant('revoke-other');
    await testDb()
      .insert(memberships)
      .values({ orgId: other.orgId, userId: member.userId, role: 'viewer' });
    const session = await tokenFor(member);
    // The session switches to the other organisation; its first token (for this one) lives on.
    const switched = await refresh({ refresh_token: session.refreshToken, org_id: other.orgId });
    expect(switched.status).toBe(200);
    const { access_token: otherToken } = (await switched.json()) as TokenBody;
    await expectAccepted(orgId, session.token);
    expect((await remove(member.userId, ownerToken)).status).toBe(204);
    await expectRefused(orgId, session.token, STALE);
    // The session itself, now for the other organisation, goes on.
    expect((await call('/v1/auth/me', { headers: bearer(otherToken) })).status).toBe(200);
  });

  it('refuses tokens with the old role after a role change until refreshed with the new one', async () => {
    const { orgId, member, ownerToken } = await tenantWith('editor');
    const session = await tokenFor(member);
    await expectAccepted(orgId, session.token);

    expect((await changeRole(member.userId, 'viewer', ownerToken)).status).toBe(200);
    await expectRefused(orgId, session.token, STALE);
    const refreshed = await refresh({ refresh_token: session.refreshToken });
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as TokenBody;
    expect(body.organization.role).toBe('viewer');
    const { read, write } = await readAndWrite(orgId, body.access_token);
    expect(read.status).toBe(200);
    expect((await expectProblem(write, 403)).detail).toMatch(/viewer role/);

    // A promotion reaches the token the same way.
    expect((await changeRole(member.userId, 'author', ownerToken)).status).toBe(200);
    await expectRefused(orgId, body.access_token, STALE);
    const promoted = (await (
      await refresh({ refresh_token: body.refresh_token })
    ).json()) as TokenBody;
    expect(promoted.organization.role).toBe('author');
    await expectAccepted(orgId, promoted.access_token);
  });

  it('ends every session of a disabled account, and lets it sign in again once enabled', async () => {
    const { orgId, member } = await tenantWith('editor');
    const admin = await createMember(orgId, 'viewer', { superAdmin: true });
    const adminToken = (await tokenFor(admin)).token;
    const session = await tokenFor(member);
    await expectAccepted(orgId, session.token);

    const disabled = await patch(
      `/v1/admin/users/${member.userId}`,
      { disabled: true },
      adminToken,
    );
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({
      id: member.userId,
      disabled_at: expect.stringMatching(/Z$/),
      sessions_revoked: 1,
    });
    await expectRefused(orgId, session.token, SIGNED_OUT);
    await expectProblem(await refresh({ refresh_token: session.refreshToken }), 401);
    await expectProblem(await login({ email: member.email, password: TEST_PASSWORD }), 401);

    const enabled = await patch(
      `/v1/admin/users/${member.userId}`,
      { disabled: false },
      adminToken,
    );
    expect(await enabled.json()).toMatchObject({ disabled_at: null, sessions_revoked: 0 });
    expect((await login({ email: member.email, password: TEST_PASSWORD })).status).toBe(200);
  });
});

describe('revocation across isolates', () => {
  it(`reaches an isolate that cached the session within ${SESSION_STATE_TTL_MS / 1000} s`, async () => {
    const { orgId, member } = await tenantWith('viewer');
    const { token, sessionId } = await tokenFor(member);
    const { id } = await insertContent(orgId);
    const read = () => call(`/v1/content/${id}`, { headers: bearer(token) });
    expect((await read()).status).toBe(200);
    // Revoked straight in the object, as another isolate would: this one only has its copy.
    const revokedAt = Date.now();
    await env.SESSIONS.get(env.SESSIONS.idFromName(member.userId)).revoke(sessionId);
    let status = 200;
    while (status === 200) {
      status = (await read()).status;
      expect(Date.now() - revokedAt).toBeLessThan(SESSION_STATE_TTL_MS + 2_000);
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
  });

  it('fails closed (503 with Retry-After) when the SESSIONS object cannot answer', async () => {
    const { orgId, member } = await tenantWith('viewer');
    const { token } = await tokenFor(member);
    clearSessionStates();
    const broken = {
      SESSIONS: {
        idFromName: (name: string) => env.SESSIONS.idFromName(name),
        get: () => ({ tokenState: () => Promise.reject(new Error('object unreachable')) }),
      },
    };
    const { id } = await insertContent(orgId);
    const response = await call(`/v1/content/${id}`, { headers: bearer(token) }, broken);
    const problem = await expectProblem(response, 503);
    expect(problem).toMatchObject({ code: 'SERVICE_UNAVAILABLE', dependency: 'sessions' });
    expect(response.headers.get('retry-after')).toBe('1');
    // Once it answers again, so does the route.
    expect((await call(`/v1/content/${id}`, { headers: bearer(token) })).status).toBe(200);
  });
});

describe('access tokens dated in the future', () => {
  it('refuses a correctly signed token issued more than 30 s ahead, on every route', async () => {
    const { orgId, member } = await tenantWith('viewer');
    const session = await tokenFor(member);
    const claims = { sub: member.userId, org: orgId, role: member.role, sid: session.sessionId };
    const sign = async (aheadMs: number) =>
      (await signAccessToken(signingKeys(), claims, audience(), Date.now() + aheadMs)).token;
    const ahead = await sign(5 * 60_000);
    for (const path of ['/v1/whoami', '/v1/content', '/v1/auth/me']) {
      const problem = await expectProblem(await call(path, { headers: bearer(ahead) }), 401);
      expect(problem.detail).toBe('The access token is invalid');
    }
    // Within the skew it is a clock difference, not a forgery.
    const response = await call('/v1/whoami', { headers: bearer(await sign(20_000)) });
    expect(await response.json()).toMatchObject({ kind: 'user', user_id: member.userId });
  });
});
