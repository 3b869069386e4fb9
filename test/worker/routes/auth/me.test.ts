import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { memberships, organizations, users } from '../../../../shared/db/schema/index.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, createOrg, expectProblem, testDb } from '../../helpers.ts';

const me = (token?: string) => call('/v1/auth/me', { headers: token ? bearer(token) : {} });

describe('GET /v1/auth/me', () => {
  it('answers the user, their memberships, the current organisation and session', async () => {
    const { orgId, owner } = await createTenant('me');
    const second = await createOrg('me2');
    await testDb()
      .insert(memberships)
      .values({ orgId: second, userId: owner.userId, role: 'editor' });
    const { token, sessionId } = await tokenFor(owner);
    const response = await me(token);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      user: Record<string, unknown>;
      memberships: { id: string; slug: string; name: string; role: string }[];
      organization: { id: string; role: string };
      session: { id: string; org_id: string; device: string };
    };
    expect(body.user).toEqual({
      id: owner.userId,
      email: owner.email,
      name: 'Test owner',
      super_admin: false,
    });
    const [org] = await testDb().select().from(organizations).where(eq(organizations.id, orgId));
    expect(body.memberships).toHaveLength(2);
    expect(body.memberships).toContainEqual({
      id: orgId,
      slug: org!.slug,
      name: org!.name,
      role: 'owner',
    });
    expect(body.memberships.find((m) => m.id === second)?.role).toBe('editor');
    expect(body.organization).toMatchObject({ id: orgId, role: 'owner' });
    expect(body.session).toMatchObject({ id: sessionId, org_id: orgId, ip: '203.0.113.10' });
  });

  it('shows the role as it is now, before the token is refreshed', async () => {
    const { orgId, owner } = await createTenant('menow');
    const { token } = await tokenFor(owner);
    await testDb()
      .update(memberships)
      .set({ role: 'viewer' })
      .where(eq(memberships.userId, owner.userId));
    const body = (await (await me(token)).json()) as { organization: { id: string; role: string } };
    expect(body.organization).toMatchObject({ id: orgId, role: 'viewer' });
  });

  it('answers 401 without a token, and for a revoked session at once', async () => {
    await expectProblem(await me(), 401);
    const { owner } = await createTenant('merevoked');
    const { token, sessionId } = await tokenFor(owner);
    expect((await me(token)).status).toBe(200);
    const revoke = await call(`/v1/auth/sessions/${sessionId}`, {
      method: 'DELETE',
      headers: bearer(token),
    });
    expect(revoke.status).toBe(204);
    await expectProblem(await me(token), 401);
  });

  it('answers 403 once the user has left the organisation of the token', async () => {
    const { owner } = await createTenant('meleft');
    const { token } = await tokenFor(owner);
    await testDb().delete(memberships).where(eq(memberships.userId, owner.userId));
    await expectProblem(await me(token), 403);
  });

  it('answers 401 for a deleted user', async () => {
    const { owner } = await createTenant('megone');
    const { token } = await tokenFor(owner);
    await testDb().delete(users).where(eq(users.id, owner.userId));
    await expectProblem(await me(token), 401);
  });
});
