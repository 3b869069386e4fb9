import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { auditRow, roleOf, signedIn } from './fixtures.ts';

const remove = (userId: string, token?: string) =>
  call(`/v1/members/${userId}`, { method: 'DELETE', headers: token ? bearer(token) : {} });

describe('DELETE /v1/members/{user_id}', () => {
  it('removes a member, revokes their sessions for the organisation and audits it', async () => {
    const { orgId, owner } = await createTenant('remove');
    const admin = await signedIn(orgId, 'admin');
    // Their token works on a live-session route before...
    expect((await call('/v1/invitations', { headers: bearer(admin.token) })).status).toBe(200);
    const { token } = await tokenFor(owner);
    const response = await remove(admin.userId, token);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await roleOf(orgId, admin.userId)).toBeUndefined();
    // ...and is refused at once after, without waiting for it to expire.
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(admin.userId));
    expect(await sessions.isLive(admin.sessionId)).toBe(false);
    await expectProblem(await call('/v1/invitations', { headers: bearer(admin.token) }), 401);
    const row = await auditRow(orgId, 'membership.remove', admin.userId);
    expect(row).toMatchObject({
      actorId: owner.userId,
      targetType: 'user',
      data: { role: 'admin', left: false },
    });
  });

  it("keeps the removed member's sessions for other organisations", async () => {
    const { orgId, owner } = await createTenant('remove-keep');
    const other = await createTenant('remove-other');
    const member = await createMember(orgId, 'editor');
    const elsewhere = await tokenFor({ ...member, orgId: other.orgId });
    const { token } = await tokenFor(owner);
    expect((await remove(member.userId, token)).status).toBe(204);
    const sessions = env.SESSIONS.get(env.SESSIONS.idFromName(member.userId));
    expect(await sessions.isLive(elsewhere.sessionId)).toBe(true);
  });

  it('lets any member leave (remove themselves)', async () => {
    const { orgId } = await createTenant('remove-leave');
    const viewer = await signedIn(orgId, 'viewer');
    expect((await remove(viewer.userId, viewer.token)).status).toBe(204);
    expect(await roleOf(orgId, viewer.userId)).toBeUndefined();
    const row = await auditRow(orgId, 'membership.remove', viewer.userId);
    expect(row).toMatchObject({ actorId: viewer.userId, data: { left: true } });
  });

  it('answers 409 (last_owner) when the last owner leaves', async () => {
    const { orgId, owner } = await createTenant('remove-last');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await remove(owner.userId, token), 409);
    expect(problem.rule).toBe('last_owner');
    expect(await roleOf(orgId, owner.userId)).toBe('owner');
  });

  it('lets an owner remove another owner while one remains', async () => {
    const { orgId, owner } = await createTenant('remove-owner');
    const second = await createMember(orgId, 'owner');
    const { token } = await tokenFor(owner);
    expect((await remove(second.userId, token)).status).toBe(204);
    // The one left is now the last owner.
    const problem = await expectProblem(await remove(owner.userId, token), 409);
    expect(problem.rule).toBe('last_owner');
  });

  it('keeps one owner when two owners leave at the same moment', async () => {
    const { orgId, owner } = await createTenant('remove-race');
    const second = await createMember(orgId, 'owner');
    const members = [
      { ...owner, ...(await tokenFor(owner)) },
      { ...second, ...(await tokenFor(second)) },
    ];
    const responses = await Promise.all(members.map((m) => remove(m.userId, m.token)));
    expect(responses.map((r) => r.status).sort()).toEqual([204, 409]);
    const left = await Promise.all(members.map((m) => roleOf(orgId, m.userId)));
    expect(left.filter((role) => role === 'owner')).toHaveLength(1);
  });

  it('answers 403 when a viewer removes someone else', async () => {
    const { orgId } = await createTenant('remove-viewer');
    const viewer = await signedIn(orgId, 'viewer');
    const author = await createMember(orgId, 'author');
    const problem = await expectProblem(await remove(author.userId, viewer.token), 403);
    expect(problem.rule).toBe('permission');
    expect(await roleOf(orgId, author.userId)).toBe('author');
  });

  it('answers 403 (owner_only) when an admin removes an owner', async () => {
    const { orgId, owner } = await createTenant('remove-admin');
    const admin = await signedIn(orgId, 'admin');
    const problem = await expectProblem(await remove(owner.userId, admin.token), 403);
    expect(problem.rule).toBe('owner_only');
    expect(await roleOf(orgId, owner.userId)).toBe('owner');
  });

  it("answers 404 for another organisation's member, with nothing of theirs", async () => {
    const mine = await createTenant('remove-mine');
    const theirs = await createTenant('remove-theirs');
    const { token } = await tokenFor(mine.owner);
    const response = await remove(theirs.owner.userId, token);
    const text = await response.clone().text();
    // Only `instance` (the path the caller asked for) may carry the id they sent.
    const { instance, ...problem } = await expectProblem(response, 404);
    expect(instance).toContain(theirs.owner.userId);
    expect(JSON.stringify(problem)).not.toContain(theirs.owner.userId);
    expect(text).not.toContain(theirs.owner.email);
    expect(await roleOf(theirs.orgId, theirs.owner.userId)).toBe('owner');
  });

  it('answers 401 with a revoked session', async () => {
    const { orgId } = await createTenant('remove-revoked');
    const viewer = await signedIn(orgId, 'viewer');
    await env.SESSIONS.get(env.SESSIONS.idFromName(viewer.userId)).revoke(viewer.sessionId);
    await expectProblem(await remove(viewer.userId, viewer.token), 401);
    expect(await roleOf(orgId, viewer.userId)).toBe('viewer');
  });

  it('answers 401 without credentials', async () => {
    const { owner } = await createTenant('remove-anon');
    await expectProblem(await remove(owner.userId), 401);
  });
});
