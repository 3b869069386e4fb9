import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { memberships } from '../../../../shared/db/schema/index.ts';
import { createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { auditRow, jsonRequest, roleOf, signedIn, signIn } from './fixtures.ts';

const patch = (userId: string, body: unknown, token: string) =>
  call(`/v1/members/${userId}`, jsonRequest('PATCH', body, token));

describe('PATCH /v1/members/{user_id}', () => {
  it("changes a member's role and audits the change with before and after", async () => {
    const { orgId, owner } = await createTenant('role-change');
    const editor = await createMember(orgId, 'editor');
    const { token } = await tokenFor(owner);
    const response = await patch(editor.userId, { role: 'admin' }, token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      user_id: editor.userId,
      email: editor.email,
      name: 'Test editor',
      role: 'admin',
      joined_at: expect.stringMatching(/Z$/),
    });
    expect(await roleOf(orgId, editor.userId)).toBe('admin');
    const row = await auditRow(orgId, 'membership.role_change', editor.userId);
    expect(row).toMatchObject({
      actorType: 'user',
      actorId: owner.userId,
      targetType: 'user',
      data: { before: 'editor', after: 'admin' },
    });
  });

  it('lets an admin change another admin and anyone below', async () => {
    const { orgId } = await createTenant('admin-peer');
    const admin = await signedIn(orgId, 'admin');
    const peer = await createMember(orgId, 'admin');
    expect((await patch(peer.userId, { role: 'editor' }, admin.token)).status).toBe(200);
    expect(await roleOf(orgId, peer.userId)).toBe('editor');
  });

  it.each([
    [{}, 'body.role'],
    [{ role: 'superuser' }, 'body.role'],
    [{ role: 'viewer', extra: true }, 'body.extra'],
  ])('answers 400 naming the field for %j', async (body, path) => {
    const { orgId, owner } = await createTenant('role-bad');
    const viewer = await createMember(orgId, 'viewer');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await patch(viewer.userId, body, token), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(await roleOf(orgId, viewer.userId)).toBe('viewer');
  });

  it('answers 400 naming the path for a malformed user id', async () => {
    const { owner } = await createTenant('role-badid');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await patch('nobody', { role: 'viewer' }, token), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(['path.user_id']);
  });

  it('answers 403 (owner_only) when an admin grants the owner role', async () => {
    const { orgId } = await createTenant('role-owner-grant');
    const admin = await signedIn(orgId, 'admin');
    const editor = await createMember(orgId, 'editor');
    const problem = await expectProblem(
      await patch(editor.userId, { role: 'owner' }, admin.token),
      403,
    );
    expect(problem.rule).toBe('owner_only');
    expect(await roleOf(orgId, editor.userId)).toBe('editor');
    const denied = await auditRow(orgId, 'permission.denied');
    expect(denied).toMatchObject({ actorId: admin.userId, data: { rule: 'owner_only' } });
  });

  it('answers 403 (owner_only) when an admin demotes an owner', async () => {
    const { orgId, owner } = await createTenant('role-owner-change');
    const admin = await signedIn(orgId, 'admin');
    const problem = await expectProblem(
      await patch(owner.userId, { role: 'viewer' }, admin.token),
      403,
    );
    expect(problem.rule).toBe('owner_only');
    expect(await roleOf(orgId, owner.userId)).toBe('owner');
  });

  it('answers 403 to an editor, who lacks members:manage', async () => {
    const { orgId } = await createTenant('role-editor');
    const editor = await signedIn(orgId, 'editor');
    const viewer = await createMember(orgId, 'viewer');
    const problem = await expectProblem(
      await patch(viewer.userId, { role: 'author' }, editor.token),
      403,
    );
    expect(problem.permission).toBe('members:manage');
  });

  it('judges a demoted admin by their current role, not their older token', async () => {
    const { orgId } = await createTenant('role-stale');
    const admin = await signedIn(orgId, 'admin');
    const viewer = await createMember(orgId, 'viewer');
    await testDb()
      .update(memberships)
      .set({ role: 'viewer' })
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, admin.userId)));
    const problem = await expectProblem(
      await patch(admin.userId, { role: 'admin' }, admin.token),
      403,
    );
    expect(problem.rule).toBe('permission');
    await expectProblem(await patch(viewer.userId, { role: 'editor' }, admin.token), 403);
  });

  it('answers 409 (last_owner) when the last owner demotes themselves', async () => {
    const { orgId, owner } = await createTenant('role-last-owner');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await patch(owner.userId, { role: 'admin' }, token), 409);
    expect(problem.rule).toBe('last_owner');
    expect(problem.detail).toContain('last owner');
    expect(await roleOf(orgId, owner.userId)).toBe('owner');
  });

  it('lets an owner step down while another owner remains', async () => {
    const { orgId, owner } = await createTenant('role-step-down');
    await createMember(orgId, 'owner');
    const { token } = await tokenFor(owner);
    expect((await patch(owner.userId, { role: 'admin' }, token)).status).toBe(200);
  });

  it('keeps one owner when two owners demote themselves at the same moment', async () => {
    const { orgId, owner } = await createTenant('role-race');
    const second = await signIn(await createMember(orgId, 'owner'));
    const first = await signIn(owner);
    const responses = await Promise.all(
      [first, second].map((m) => patch(m.userId, { role: 'admin' }, m.token)),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    const owners = await testDb()
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')));
    expect(owners).toHaveLength(1);
  });

  it("answers 404 for another organisation's member, with nothing of theirs", async () => {
    const mine = await createTenant('role-mine');
    const theirs = await createTenant('role-theirs');
    const { token } = await tokenFor(mine.owner);
    const response = await patch(theirs.owner.userId, { role: 'viewer' }, token);
    const text = await response.clone().text();
    // Only `instance` (the path the caller asked for) may carry the id they sent.
    const { instance, ...problem } = await expectProblem(response, 404);
    expect(instance).toContain(theirs.owner.userId);
    expect(JSON.stringify(problem)).not.toContain(theirs.owner.userId);
    expect(text).not.toContain(theirs.owner.email);
    expect(await roleOf(theirs.orgId, theirs.owner.userId)).toBe('owner');
  });

  it('answers 401 without credentials', async () => {
    const { owner } = await createTenant('role-anon');
    await expectProblem(
      await call(`/v1/members/${owner.userId}`, jsonRequest('PATCH', { role: 'viewer' })),
      401,
    );
  });
});
