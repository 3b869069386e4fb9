import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { REUSE_LEEWAY_MS } from '../../../../durable-objects/sessions.ts';
import { verifyAccessToken } from '../../../../shared/auth/tokens.ts';
import { memberships, users } from '../../../../shared/db/schema/index.ts';
import { audience, bearer, createTenant, signingKeys, tokenFor } from '../../auth.ts';
import { call, createOrg, expectProblem, testDb } from '../../helpers.ts';
import { auditRows, refresh, type TokenBody } from '../../support/auth-routes.ts';

const sessionsOf = (userId: string) => env.SESSIONS.get(env.SESSIONS.idFromName(userId));

/** Makes every rotation of the user's session older than the race leeway. */
function ageRotations(userId: string, sessionId: string) {
  return runInDurableObject(sessionsOf(userId), (_instance, state) => {
    state.storage.sql.exec(
      'UPDATE rotated_tokens SET rotated_at = rotated_at - ? WHERE session_id = ?',
      REUSE_LEEWAY_MS + 1_000,
      sessionId,
    );
  });
}

async function refreshed(response: Response): Promise<TokenBody> {
  expect(response.status).toBe(200);
  return (await response.json()) as TokenBody;
}

describe('POST /v1/auth/refresh', () => {
  it('rotates the refresh token and issues a new access token for the same session', async () => {
    const { orgId, owner } = await createTenant('refresh');
    const { refreshToken, sessionId } = await tokenFor(owner);
    const response = await refresh({ refresh_token: refreshToken });
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = await refreshed(response);
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: 900,
      session_id: sessionId,
      user: { id: owner.userId, email: owner.email },
      organization: { id: orgId, role: 'owner' },
    });
    expect(tokens.refresh_token).not.toBe(refreshToken);
    const verified = await verifyAccessToken(signingKeys(), tokens.access_token, audience());
    expect(verified.ok && verified.claims).toMatchObject({ sub: owner.userId, sid: sessionId });
    await refreshed(await refresh({ refresh_token: tokens.refresh_token }));
  });

  it('refuses the same token again within the leeway as a race, without signing out', async () => {
    const { owner } = await createTenant('refreshrace');
    const { refreshToken, sessionId } = await tokenFor(owner);
    const tokens = await refreshed(await refresh({ refresh_token: refreshToken }));
    const problem = await expectProblem(await refresh({ refresh_token: refreshToken }), 401);
    expect(problem.code).toBe('UNAUTHORIZED');
    expect(problem.detail).toMatch(/already used by a concurrent refresh/);
    expect(await sessionsOf(owner.userId).isLive(sessionId)).toBe(true);
    await refreshed(await refresh({ refresh_token: tokens.refresh_token }));
  });

  it('revokes the session and audits it when a used token comes back later', async () => {
    const { orgId, owner } = await createTenant('refreshreuse');
    const { refreshToken, sessionId, token } = await tokenFor(owner);
    const tokens = await refreshed(await refresh({ refresh_token: refreshToken }));
    await ageRotations(owner.userId, sessionId);

    const problem = await expectProblem(await refresh({ refresh_token: refreshToken }), 401);
    expect(problem.detail).toMatch(/already used, so the session has been signed out/);
    // The whole family is gone: the newest token too, and the access token on live-session routes.
    const after = await expectProblem(await refresh({ refresh_token: tokens.refresh_token }), 401);
    expect(after.detail).toMatch(/signed out/);
    await expectProblem(await call('/v1/auth/me', { headers: bearer(token) }), 401);

    const [row] = await auditRows('session.token_reuse', (r) => r.targetId === sessionId);
    expect(row).toMatchObject({ orgId, targetType: 'session', actorType: 'system' });
    expect(row!.data).toMatchObject({
      user_id: owner.userId,
      session_id: sessionId,
      family_revoked: true,
    });
    expect(JSON.stringify(row)).not.toContain(refreshToken);
  });

  it('carries the current role: a role change applies at the next refresh', async () => {
    const { orgId, owner } = await createTenant('refreshrole');
    const { refreshToken } = await tokenFor(owner);
    await testDb()
      .update(memberships)
      .set({ role: 'viewer' })
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, owner.userId)));
    const tokens = await refreshed(await refresh({ refresh_token: refreshToken }));
    expect(tokens.organization.role).toBe('viewer');
    const verified = await verifyAccessToken(signingKeys(), tokens.access_token, audience());
    expect(verified.ok && verified.claims.role).toBe('viewer');
  });

  it('switches the session to another organisation of the user with org_id', async () => {
    const { orgId, owner } = await createTenant('refreshswitch');
    const other = await createOrg('refreshswitch2');
    await testDb()
      .insert(memberships)
      .values({ orgId: other, userId: owner.userId, role: 'author' });
    const { refreshToken, sessionId } = await tokenFor(owner);
    const switched = await refreshed(await refresh({ refresh_token: refreshToken, org_id: other }));
    expect(switched.organization).toMatchObject({ id: other, role: 'author' });
    const verified = await verifyAccessToken(signingKeys(), switched.access_token, audience());
    expect(verified.ok && verified.claims.org).toBe(other);
    // The session stays switched on later refreshes, and lists under the new organisation.
    const next = await refreshed(await refresh({ refresh_token: switched.refresh_token }));
    expect(next.organization.id).toBe(other);
    const [session] = (await sessionsOf(owner.userId).list()).filter((s) => s.id === sessionId);
    expect(session?.org_id).toBe(other);
    const back = await refreshed(
      await refresh({ refresh_token: next.refresh_token, org_id: orgId }),
    );
    expect(back.organization).toMatchObject({ id: orgId, role: 'owner' });
  });

  it('answers 403 for an org_id the user is not in, leaving the token usable', async () => {
    const { owner } = await createTenant('refreshforeign');
    const stranger = await createTenant('refreshforeign2');
    const { refreshToken } = await tokenFor(owner);
    const problem = await expectProblem(
      await refresh({ refresh_token: refreshToken, org_id: stranger.orgId }),
      403,
    );
    expect(problem.code).toBe('FORBIDDEN');
    await refreshed(await refresh({ refresh_token: refreshToken }));
  });

  it('does not tell a forged token whether a user belongs to an organisation', async () => {
    const { orgId, owner } = await createTenant('refreshprobe');
    const { refreshToken } = await tokenFor(owner);
    const forged = `${refreshToken.slice(0, refreshToken.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    const member = await expectProblem(
      await refresh({ refresh_token: forged, org_id: orgId }),
      401,
    );
    const other = await createOrg('refreshprobe2');
    const stranger = await expectProblem(
      await refresh({ refresh_token: forged, org_id: other }),
      401,
    );
    expect(member.detail).toBe(stranger.detail);
  });

  it('signs the session out when the user was removed from its organisation', async () => {
    const { orgId, owner } = await createTenant('refreshremoved');
    const { refreshToken, sessionId } = await tokenFor(owner);
    await testDb()
      .delete(memberships)
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, owner.userId)));
    await expectProblem(await refresh({ refresh_token: refreshToken }), 403);
    expect(await sessionsOf(owner.userId).isLive(sessionId)).toBe(false);
  });

  it('signs the session out of a disabled user', async () => {
    const { owner } = await createTenant('refreshdisabled');
    const { refreshToken, sessionId } = await tokenFor(owner);
    await testDb().update(users).set({ disabledAt: new Date() }).where(eq(users.id, owner.userId));
    const problem = await expectProblem(await refresh({ refresh_token: refreshToken }), 401);
    expect(problem.detail).toMatch(/disabled/);
    expect(await sessionsOf(owner.userId).isLive(sessionId)).toBe(false);
  });

  it.each([
    ['a malformed token', 'not-a-refresh-token'],
    ['an access token', 'eyJhbGciOiJFUzI1NiJ9.e30.sig'],
    [
      'a token of an unknown user',
      `srt_usr_01jd5x3k7yf0v9r2m4q6s8t1wz.ses_01jd5x3k7yf0v9r2m4q6s8t1wz.${'A'.repeat(43)}`,
    ],
  ])('answers 401 for %s', async (_label, token) => {
    const problem = await expectProblem(await refresh({ refresh_token: token }), 401);
    expect(problem.detail).toBe('The refresh token is invalid');
  });

  it('answers 401 for the token of a revoked session', async () => {
    const { owner } = await createTenant('refreshrevoked');
    const { refreshToken, sessionId } = await tokenFor(owner);
    await sessionsOf(owner.userId).revoke(sessionId);
    const problem = await expectProblem(await refresh({ refresh_token: refreshToken }), 401);
    expect(problem.detail).toMatch(/signed out/);
  });

  it.each([
    ['no refresh_token', {}, 'body.refresh_token'],
    ['an empty refresh_token', { refresh_token: '' }, 'body.refresh_token'],
    ['a malformed org_id', { refresh_token: 'x', org_id: 'nope' }, 'body.org_id'],
  ])('answers 400 for %s, naming the field', async (_label, body, path) => {
    const problem = await expectProblem(await refresh(body as never), 400);
    expect(problem.errors!.map((e) => e.path)).toContain(path);
  });
});
