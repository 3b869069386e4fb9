import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../../helpers.ts';
import { createKey, json, KEY_FIELDS, type KeyBody, signedIn } from './fixtures.ts';

type Page = { items: KeyBody[]; next_cursor: string | null };

async function page(path: string, auth: Record<string, string>): Promise<Page> {
  const response = await call(path, { headers: auth });
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
}

describe('GET /v1/keys', () => {
  it('lists keys newest first, a page at a time, without hashes or secrets', async () => {
    const { auth } = await signedIn('keys-list');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createKey(auth, { name: `key ${i}` })).id);
    const newestFirst = [...created].reverse();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
      const result = await page(`/v1/keys${query}`, auth);
      for (const item of result.items) {
        expect(Object.keys(item).sort()).toEqual(KEY_FIELDS);
        seen.push(item.id);
      }
      cursor = result.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst);
  });

  it('defaults to 20 per page', async () => {
    const { auth } = await signedIn('keys-list');
    await createKey(auth);
    const result = await page('/v1/keys', auth);
    expect(result.items).toHaveLength(1);
    expect(result.next_cursor).toBeNull();
  });

  it('leaves out revoked keys and rolled keys past their grace unless include_revoked=true', async () => {
    const { auth } = await signedIn('keys-list');
    const live = await createKey(auth, { name: 'live' });
    const revoked = await createKey(auth, { name: 'revoked' });
    const rolled = await createKey(auth, { name: 'rolled' });
    const inGrace = await createKey(auth, { name: 'in grace' });
    expect((await call(`/v1/keys/${revoked.id}`, { method: 'DELETE', headers: auth })).status).toBe(
      200,
    );
    const rolledAway = await call(
      `/v1/keys/${rolled.id}/roll`,
      json('POST', { grace_seconds: 0 }, auth),
    );
    const successor = (await rolledAway.json()) as KeyBody;
    const rolledInGrace = await call(
      `/v1/keys/${inGrace.id}/roll`,
      json('POST', { grace_seconds: 3_600 }, auth),
    );
    const inGraceSuccessor = (await rolledInGrace.json()) as KeyBody;

    const active = (await page('/v1/keys', auth)).items.map((k) => k.id);
    expect(active.sort()).toEqual([live.id, successor.id, inGrace.id, inGraceSuccessor.id].sort());

    const all = (await page('/v1/keys?include_revoked=true', auth)).items.map((k) => k.id);
    expect(all.sort()).toEqual(
      [live.id, revoked.id, rolled.id, successor.id, inGrace.id, inGraceSuccessor.id].sort(),
    );
  });

  it("never lists another organisation's keys", async () => {
    const a = await signedIn('keys-list-a');
    const b = await signedIn('keys-list-b');
    const theirs = await createKey(b.auth, { name: 'secret project' });
    const ours = await createKey(a.auth);
    const response = await call('/v1/keys?include_revoked=true', { headers: a.auth });
    const text = await response.text();
    expect(JSON.parse(text).items.map((k: KeyBody) => k.id)).toEqual([ours.id]);
    expect(text).not.toContain(theirs.id);
    expect(text).not.toContain('secret project');
  });

  it("returns an empty page for another organisation's cursor", async () => {
    const a = await signedIn('keys-list-a');
    const b = await signedIn('keys-list-b');
    await createKey(a.auth);
    await createKey(b.auth);
    const theirs = await createKey(b.auth);
    const cursor = btoa(theirs.id).replaceAll('=', '');
    const result = await page(`/v1/keys?cursor=${cursor}`, a.auth);
    expect(result).toEqual({ items: [], next_cursor: null });
  });

  it.each([
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
    ['limit=two', 'query.limit'],
    ['cursor=not-a-cursor', 'query.cursor'],
    ['include_revoked=yes', 'query.include_revoked'],
  ])('returns 400 naming the parameter for %s', async (query, path) => {
    const { auth } = await signedIn('keys-list');
    const problem = await expectProblem(await call(`/v1/keys?${query}`, { headers: auth }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it('returns 403 for a viewer and 401 without credentials', async () => {
    const { auth } = await signedIn('keys-list', 'viewer');
    expect((await expectProblem(await call('/v1/keys', { headers: auth }), 403)).permission).toBe(
      'keys:manage',
    );
    await expectProblem(await call('/v1/keys'), 401);
  });
});
