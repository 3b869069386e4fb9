import { describe, expect, it } from 'vitest';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem } from '../../helpers.ts';
import { signedIn } from './fixtures.ts';

type Page = {
  items: {
    user_id: string;
    email: string | null;
    name: string | null;
    role: string;
    joined_at: string;
  }[];
  next_cursor: string | null;
};

async function list(token: string, query = '') {
  return call(`/v1/members${query}`, { headers: bearer(token) });
}

describe('GET /v1/members', () => {
  it('lists the members in the order they joined, with e-mails for a manager', async () => {
    const { orgId, owner } = await createTenant('members-list');
    const editor = await createMember(orgId, 'editor');
    const { token } = await tokenFor(owner);
    const response = await list(token);
    expect(response.status).toBe(200);
    const page = (await response.json()) as Page;
    expect(page.items).toEqual([
      {
        user_id: owner.userId,
        email: owner.email,
        name: 'Test owner',
        role: 'owner',
        joined_at: expect.stringMatching(/Z$/),
      },
      expect.objectContaining({ user_id: editor.userId, email: editor.email, role: 'editor' }),
    ]);
    expect(page.next_cursor).toBeNull();
  });

  it('shows who is in the organisation but not their e-mails to a viewer', async () => {
    const { orgId, owner } = await createTenant('members-viewer');
    const viewer = await signedIn(orgId, 'viewer');
    const page = (await (await list(viewer.token)).json()) as Page;
    expect(page.items.map((m) => m.user_id)).toEqual([owner.userId, viewer.userId]);
    expect(page.items.every((m) => m.email === null)).toBe(true);
    expect(JSON.stringify(page)).not.toContain(owner.email);
  });

  it('filters by role', async () => {
    const { orgId, owner } = await createTenant('members-role');
    const author = await createMember(orgId, 'author');
    await createMember(orgId, 'viewer');
    const { token } = await tokenFor(owner);
    const page = (await (await list(token, '?role=author')).json()) as Page;
    expect(page.items.map((m) => m.user_id)).toEqual([author.userId]);
  });

  it('pages with a cursor without skipping or repeating anyone', async () => {
    const { orgId, owner } = await createTenant('members-page');
    const others = [];
    for (const role of ['admin', 'editor', 'author', 'viewer'] as const) {
      others.push(await createMember(orgId, role));
    }
    const { token } = await tokenFor(owner);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await (await list(token, query)).json()) as Page;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((m) => m.user_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([owner.userId, ...others.map((m) => m.userId)]);
    expect(pages).toBe(3);
  });

  it.each([
    ['?role=superuser', 'query.role'],
    ['?limit=0', 'query.limit'],
    ['?limit=101', 'query.limit'],
    ['?cursor=not-a-cursor', 'query.cursor'],
  ])('answers 400 naming the field for %s', async (query, path) => {
    const { owner } = await createTenant('members-bad');
    const { token } = await tokenFor(owner);
    const problem = await expectProblem(await list(token, query), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual([path]);
  });

  it('never lists the members of another organisation', async () => {
    const mine = await createTenant('members-mine');
    const theirs = await createTenant('members-theirs');
    const outsider = await createMember(theirs.orgId, 'admin');
    const { token } = await tokenFor(mine.owner);
    const body = await (await list(token)).text();
    for (const secret of [
      theirs.owner.userId,
      theirs.owner.email,
      outsider.userId,
      outsider.email,
    ]) {
      expect(body).not.toContain(secret);
    }
  });

  it('refuses an API key, even one with content:read (the staff list is for members)', async () => {
    const { owner } = await createTenant('members-key');
    const { token } = await tokenFor(owner);
    const created = await call('/v1/keys', {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'site', scopes: ['content:read'] }),
    });
    const { secret } = (await created.json()) as { secret: string };
    const problem = await expectProblem(await list(secret), 403);
    expect(problem.detail).toBe('This route is for signed-in users, not API keys');
  });

  it('answers 401 without credentials', async () => {
    const problem = await expectProblem(await call('/v1/members'), 401);
    expect(problem.code).toBe('UNAUTHORIZED');
  });
});
