import { describe, expect, it } from 'vitest';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { signedIn } from '../members/fixtures.ts';
import { insertInvitation } from './fixtures.ts';

type Page = { items: { id: string; status: string; email: string }[]; next_cursor: string | null };

const list = async (token: string, query = '') =>
  call(`/v1/invitations${query}`, { headers: bearer(token) });

/** One invitation in each state, oldest first. */
async function everyState(orgId: string) {
  const minute = 60_000;
  const past = (minutes: number) => new Date(Date.now() - minutes * minute);
  return {
    accepted: await insertInvitation(orgId, { createdAt: past(40), acceptedAt: past(35) }),
    revoked: await insertInvitation(orgId, { createdAt: past(30), revokedAt: past(25) }),
    expired: await insertInvitation(orgId, { createdAt: past(20), expiresAt: past(1) }),
    open: await insertInvitation(orgId, { createdAt: past(10) }),
  };
}

describe('GET /v1/invitations', () => {
  it('lists every invitation newest first with its derived status, never a token', async () => {
    const { orgId, owner } = await createTenant('inv-list');
    const made = await everyState(orgId);
    const { token } = await tokenFor(owner);
    const response = await list(token);
    expect(response.status).toBe(200);
    const text = await response.text();
    const page = JSON.parse(text) as Page;
    expect(page.items.map((i) => [i.id, i.status])).toEqual([
      [made.open.id, 'open'],
      [made.expired.id, 'expired'],
      [made.revoked.id, 'revoked'],
      [made.accepted.id, 'accepted'],
    ]);
    expect(page.next_cursor).toBeNull();
    for (const { token: secret } of Object.values(made)) expect(text).not.toContain(secret);
    expect(text).not.toContain('token_hash');
  });

  it.each(['open', 'accepted', 'revoked', 'expired'] as const)(
    'filters by status=%s',
    async (status) => {
      const { orgId, owner } = await createTenant('inv-filter');
      const made = await everyState(orgId);
      const { token } = await tokenFor(owner);
      const page = (await (await list(token, `?status=${status}`)).json()) as Page;
      expect(page.items.map((i) => i.id)).toEqual([made[status].id]);
    },
  );

  it('pages with a cursor', async () => {
    const { orgId, owner } = await createTenant('inv-page');
    const made = Object.values(await everyState(orgId)).reverse();
    const { token } = await tokenFor(owner);
    const first = (await (await list(token, '?limit=3')).json()) as Page;
    expect(first.items).toHaveLength(3);
    const second = (await (
      await list(token, `?limit=3&cursor=${encodeURIComponent(first.next_cursor!)}`)
    ).json()) as Page;
    expect(second.next_cursor).toBeNull();
    expect([...first.items, ...second.items].map((i) => i.id)).toEqual(made.map((m) => m.id));
  });

  it.each([
    ['?status=pending', 'query.status'],
    ['?limit=500', 'query.limit'],
    ['?cursor=%%%', 'query.cursor'],
  ])('answers 400 naming the field for %s', async (query, path) => {
    const { owner } = await createTenant('inv-list-bad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await list(token, query), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
  });

  it("never lists another organisation's invitations", async () => {
    const mine = await createTenant('inv-mine');
    const theirs = await createTenant('inv-theirs');
    const secret = await insertInvitation(theirs.orgId);
    const { token } = await tokenFor(mine.owner);
    const text = await (await list(token)).text();
    expect(text).not.toContain(secret.id);
    expect(text).not.toContain(secret.email);
  });

  it('answers 403 to a viewer, who lacks members:manage', async () => {
    const { orgId } = await createTenant('inv-list-viewer');
    const viewer = await signedIn(orgId, 'viewer');
    const problem = await expectProblem(await list(viewer.token), 403);
    expect(problem.permission).toBe('members:manage');
  });

  it('answers 401 without credentials', async () => {
    await expectProblem(await call('/v1/invitations'), 401);
  });
});
