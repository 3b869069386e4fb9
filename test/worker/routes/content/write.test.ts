import { env } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ledgerOf } from '../../../../durable-objects/content-ledger.ts';
import { ContentResource } from '../../../../shared/content/schema.ts';
import { content, contentVersions } from '../../../../shared/db/schema/content.ts';
import { operations } from '../../../../shared/db/schema/operations.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, DEAD_URL, expectProblem, testDb } from '../../helpers.ts';
import { insertContent } from './fixtures.ts';

afterEach(() => resetBreakers());

/** Retries `check` (assertions) until it passes: the consumer persists within a second or two. */
const settled = (check: () => Promise<unknown>) =>
  vi.waitFor(check, { timeout: 15_000, interval: 100 });

type Role = 'owner' | 'admin' | 'editor' | 'author' | 'viewer';

async function tenant(label: string, role: Role = 'editor') {
  const { orgId } = await createTenant(label);
  const member = await createMember(orgId, role);
  return { orgId, auth: bearer((await tokenFor(member)).token), userId: member.userId };
}

async function as(orgId: string, role: Role) {
  const member = await createMember(orgId, role);
  return bearer((await tokenFor(member)).token);
}

const json = (auth: Record<string, string>, body: unknown, method = 'POST', extra = {}) => ({
  method,
  headers: { ...auth, 'Content-Type': 'application/json', ...extra },
  body: JSON.stringify(body),
});

type Accepted = {
  content: ReturnType<typeof ContentResource.parse>;
  operation: { id: string; status: string; url: string };
};

async function create(auth: Record<string, string>, body: unknown): Promise<Accepted> {
  const response = await call('/v1/content', json(auth, body));
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as Accepted;
}

const REDIS_DOWN = { UPSTASH_REDIS_REST_URL: DEAD_URL };
const POSTGRES_DOWN = { DATABASE_URL: DEAD_DATABASE_URL };

/** A WRITES binding that refuses every send, as a queue outage does. */
const REFUSING_QUEUE = {
  WRITES: {
    send: () => Promise.reject(new Error('queue unavailable')),
    sendBatch: () => Promise.reject(new Error('queue unavailable')),
  },
};

async function persistedVersions(id: string) {
  const rows = await testDb()
    .select({ version: contentVersions.version })
    .from(contentVersions)
    .where(eq(contentVersions.contentId, id));
  return rows.map((r) => r.version).sort((a, b) => a - b);
}

describe('POST /v1/content', () => {
  it('answers 202 with version 1, reads its own write at once, and reaches Postgres', async () => {
    const { orgId, auth, userId } = await tenant('content-create');
    const response = await call(
      '/v1/content',
      json(auth, {
        translations: {
          en: { title: 'Edge first', body: 'Fast everywhere.' },
          ar: { title: 'الحافة أولاً', body: 'سريع في كل مكان' },
        },
        tags: ['Edge', 'edge', 'News'],
      }),
    );
    expect(response.status).toBe(202);
    const body = (await response.json()) as Accepted;
    const item = ContentResource.parse(body.content);
    expect(item).toMatchObject({
      org_id: orgId,
      status: 'draft',
      version: 1,
      tags: ['edge', 'news'],
      default_locale: 'en',
      created_by: userId,
      deleted_at: null,
    });
    expect(item.translations.en!.slug).toBe('edge-first');
    expect(item.translations.ar!.slug).toBe('الحافة-اولا');
    expect(body.operation).toMatchObject({
      status: 'queued',
      url: `/v1/operations/${body.operation.id}`,
    });
    expect(response.headers.get('location')).toBe(body.operation.url);
    expect(response.headers.get('etag')).toBe(`"${item.id}.v1"`);

    const read = await call(`/v1/content/${item.id}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: item.id, version: 1 });
    expect(read.headers.get('server-timing')).toMatch(/cache;desc="(memory|redis)"/);

    await settled(async () => {
      const [op] = await testDb()
        .select()
        .from(operations)
        .where(eq(operations.id, body.operation.id));
      expect(op).toMatchObject({ status: 'applied', kind: 'content.create', resourceId: item.id });
    });
    expect(await persistedVersions(item.id)).toEqual([1]);
  });

  it('gives a generated slug a suffix when it is taken, and refuses a chosen one with 409', async () => {
    const { orgId, auth } = await tenant('content-slugs');
    await insertContent(orgId, { translations: { en: { title: 'Taken', slug: 'same-title' } } });
    const first = await create(auth, { translations: { en: { title: 'Same title' } } });
    expect(first.content.translations.en!.slug).toBe('same-title-2');
    // The ledger knows the pending one even before Postgres does.
    const second = await create(auth, { translations: { en: { title: 'Same title' } } });
    expect(second.content.translations.en!.slug).toBe('same-title-3');

    const refused = await call(
      '/v1/content',
      json(auth, { translations: { en: { title: 'Mine', slug: 'same-title-2' } } }),
    );
    const problem = await expectProblem(refused, 409);
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'body.translations.en.slug', code: 'slug_taken' }),
    ]);
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const { orgId, auth } = await tenant('content-invalid');
    for (const [body, path] of [
      [{}, 'body.translations'],
      [{ translations: { en: { title: '' } } }, 'body.translations.en.title'],
      [{ translations: { 'not a locale!': { title: 'x' } } }, 'body.translations.not a locale!'],
      [
        { translations: { en: { title: 'x' } }, metadata: { big: 'x'.repeat(17_000) } },
        'body.metadata',
      ],
      [{ translations: { en: { title: 'x' } }, status: 'published' }, 'body.status'],
      [{ translations: { en: { title: 'x', slug: 'a/b' } } }, 'body.translations.en.slug'],
    ] as const) {
      const problem = await expectProblem(await call('/v1/content', json(auth, body)), 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
    const rows = await testDb().select().from(content).where(eq(content.orgId, orgId));
    expect(rows).toEqual([]);
  });

  it('needs content:write (a viewer is refused) and content:publish to schedule', async () => {
    const { orgId } = await tenant('content-create-roles');
    const viewer = await as(orgId, 'viewer');
    await expectProblem(
      await call('/v1/content', json(viewer, { translations: { en: { title: 'x' } } })),
      403,
    );
    const author = await as(orgId, 'author');
    const problem = await expectProblem(
      await call(
        '/v1/content',
        json(author, { translations: { en: { title: 'x' } }, publish_at: '2030-01-01T00:00:00Z' }),
      ),
      403,
    );
    expect(problem).toMatchObject({ permission: 'content:publish' });
  });

  it('replays the first answer for the same Idempotency-Key, 422 for another body', async () => {
    const { auth } = await tenant('content-idempotent');
    const key = { 'Idempotency-Key': crypto.randomUUID() };
    const body = { translations: { en: { title: 'Once' } } };
    const first = await call('/v1/content', json(auth, body, 'POST', key));
    const again = await call('/v1/content', json(auth, body, 'POST', key));
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    const [a, b] = [(await first.json()) as Accepted, (await again.json()) as Accepted];
    expect(b.content.id).toBe(a.content.id);
    expect(b.operation.id).toBe(a.operation.id);
    await expectProblem(
      await call(
        '/v1/content',
        json(auth, { translations: { en: { title: 'Other' } } }, 'POST', key),
      ),
      422,
    );
  });

  it('answers 503 with Retry-After when the queue refuses, and nothing is written anywhere', async () => {
    const { orgId, auth } = await tenant('content-queue-down');
    const response = await call(
      '/v1/content',
      json(auth, { translations: { en: { title: 'Lost cause', slug: 'lost-cause' } } }),
      REFUSING_QUEUE,
    );
    const problem = await expectProblem(response, 503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(problem.detail).toMatch(/queue/);
    // The slug is free again (the reservation was released) and Postgres has nothing.
    const retry = await create(auth, {
      translations: { en: { title: 'Lost cause', slug: 'lost-cause' } },
    });
    expect(retry.content.version).toBe(1);
    const rows = await testDb().select().from(content).where(eq(content.orgId, orgId));
    expect(rows.filter((r) => r.id !== retry.content.id)).toEqual([]);
  });

  it('accepts writes while Redis is down; they reach Postgres', async () => {
    const { auth } = await tenant('content-redis-down');
    const response = await call(
      '/v1/content',
      json(auth, { translations: { en: { title: 'No Redis' } } }),
      REDIS_DOWN,
    );
    expect(response.status).toBe(202);
    const { content: item } = (await response.json()) as Accepted;
    await settled(async () => expect(await persistedVersions(item.id)).toEqual([1]));
  });

  it('accepts writes while Postgres is down; the queue drains them later', async () => {
    const { auth } = await tenant('content-postgres-down');
    const created = await create(auth, { translations: { en: { title: 'Known to the ledger' } } });
    const response = await call(
      `/v1/content/${created.content.id}`,
      json(auth, { tags: ['offline'] }, 'PATCH', {
        'Content-Type': 'application/merge-patch+json',
      }),
      POSTGRES_DOWN,
    );
    expect(response.status).toBe(202);
    expect(((await response.json()) as Accepted).content).toMatchObject({
      version: 2,
      tags: ['offline'],
    });
    const fresh = await call(
      '/v1/content',
      json(auth, { translations: { en: { title: 'Offline new' } } }),
      POSTGRES_DOWN,
    );
    expect(fresh.status).toBe(202);
    const { content: item } = (await fresh.json()) as Accepted;
    // The writer reads its own write from the cache while Postgres is still down.
    const read = await call(`/v1/content/${item.id}`, { headers: auth }, POSTGRES_DOWN);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: item.id, version: 1 });
    await settled(async () => {
      expect(await persistedVersions(created.content.id)).toEqual([1, 2]);
      expect(await persistedVersions(item.id)).toEqual([1]);
    });
  });
});

const PATCH = { 'Content-Type': 'application/merge-patch+json' };

describe('PUT and PATCH /v1/content/{id}', () => {
  it('patches as a merge patch, keeps slugs on a title change, and bumps the version', async () => {
    const { auth } = await tenant('content-patch');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'Before', body: 'Text' } },
      metadata: { a: { b: 1, c: 2 } },
    });
    const response = await call(
      `/v1/content/${item.id}`,
      json(
        auth,
        {
          translations: { en: { title: 'After' }, ar: { title: 'بعد' } },
          metadata: { a: { c: null } },
        },
        'PATCH',
        PATCH,
      ),
    );
    expect(response.status).toBe(202);
    const { content: next } = (await response.json()) as Accepted;
    expect(next).toMatchObject({
      version: 2,
      metadata: { a: { b: 1 } },
      translations: {
        en: { title: 'After', slug: 'before', body: 'Text' },
        ar: { title: 'بعد', slug: 'بعد' },
      },
    });
    const read = await call(`/v1/content/${item.id}`, { headers: auth });
    expect(await read.json()).toMatchObject({ version: 2 });
  });

  it('replaces with PUT (fields left out take their defaults)', async () => {
    const { auth } = await tenant('content-put');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'One' }, ar: { title: 'واحد' } },
      tags: ['x'],
    });
    const response = await call(
      `/v1/content/${item.id}`,
      json(auth, { translations: { en: { title: 'Two' } } }, 'PUT'),
    );
    expect(response.status).toBe(202);
    const { content: next } = (await response.json()) as Accepted;
    expect(next.tags).toEqual([]);
    expect(Object.keys(next.translations)).toEqual(['en']);
    expect(next.translations.en).toMatchObject({ title: 'Two', slug: 'one' });
  });

  it('is conditional with If-Match: the current ETag passes, a stale one is a 412', async () => {
    const { auth } = await tenant('content-if-match');
    const { content: item } = await create(auth, { translations: { en: { title: 'v1' } } });
    const ok = await call(
      `/v1/content/${item.id}`,
      json(auth, { tags: ['a'] }, 'PATCH', { ...PATCH, 'If-Match': `"${item.id}.v1"` }),
    );
    expect(ok.status).toBe(202);
    const stale = await call(
      `/v1/content/${item.id}`,
      json(auth, { tags: ['b'] }, 'PATCH', { ...PATCH, 'If-Match': `"${item.id}.v1"` }),
    );
    const problem = await expectProblem(stale, 412);
    expect(problem).toMatchObject({ current_version: 2 });
  });

  it('gives concurrent edits distinct versions; with one If-Match exactly one wins', async () => {
    const { auth } = await tenant('content-concurrent');
    const { content: item } = await create(auth, { translations: { en: { title: 'Race' } } });
    const free = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(`/v1/content/${item.id}`, json(auth, { metadata: { [`k${i}`]: i } }, 'PATCH', PATCH)),
      ),
    );
    const versions = await Promise.all(
      free.map(async (r) => ((await r.json()) as Accepted).content.version),
    );
    expect(versions.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const read = (await (await call(`/v1/content/${item.id}`, { headers: auth })).json()) as {
      metadata: object;
    };
    expect(Object.keys(read.metadata)).toHaveLength(8);

    const guarded = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call(
          `/v1/content/${item.id}`,
          json(auth, { tags: [`t${i}`] }, 'PATCH', { ...PATCH, 'If-Match': '9' }),
        ),
      ),
    );
    expect(guarded.map((r) => r.status).sort()).toEqual([202, 412, 412, 412, 412, 412]);
    await settled(async () =>
      expect(await persistedVersions(item.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    );
  });

  it('refuses an invalid merged result with 422, an unknown item with 404, an author editing published content with 403', async () => {
    const { orgId, auth } = await tenant('content-patch-errors');
    const { content: item } = await create(auth, { translations: { en: { title: 'Only' } } });
    const problem = await expectProblem(
      await call(
        `/v1/content/${item.id}`,
        json(auth, { translations: { en: null } }, 'PATCH', PATCH),
      ),
      422,
    );
    expect(problem.errors?.[0]?.path).toBe('body.translations');
    await expectProblem(
      await call(
        '/v1/content/cnt_01jd5x3k7yf0v9r2m4q6s8t1wz',
        json(auth, { tags: [] }, 'PATCH', PATCH),
      ),
      404,
    );
    const { id: published } = await insertContent(orgId, { status: 'published' });
    const author = await as(orgId, 'author');
    await expectProblem(
      await call(`/v1/content/${published}`, json(author, { tags: ['x'] }, 'PATCH', PATCH)),
      403,
    );
  });
});

describe('writes that change nothing', () => {
  type Unchanged = { content: ReturnType<typeof ContentResource.parse>; operation: null };

  /** Asserts the `200` of a write that made no version, and returns its body. */
  async function unchanged(response: Response, id: string, version: number) {
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${id}.v${version}"`);
    expect(response.headers.get('content-location')).toBe(`/v1/content/${id}`);
    expect(response.headers.get('location')).toBeNull();
    const body = (await response.json()) as Unchanged;
    expect(body.operation).toBeNull();
    expect(body.content).toMatchObject({ id, version });
    return body;
  }

  /** The ledger's head: a write accepted anywhere would have moved it. */
  async function head(orgId: string, id: string) {
    const heads = (await ledgerOf(env, orgId).heads([id])) as Record<string, { version: number }>;
    return heads[id]?.version;
  }

  it('answers an empty or no-op merge patch with 200 and the item, making no version', async () => {
    const { orgId, auth } = await tenant('content-noop-patch');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'Steady', body: 'Text' }, ar: { title: 'ثابت' } },
      tags: ['a', 'b'],
      metadata: { seo: { keywords: ['x'] }, n: 1 },
    });
    const patch = (body: unknown, extra = {}) =>
      call(`/v1/content/${item.id}`, json(auth, body, 'PATCH', { ...PATCH, ...extra }));
    for (const body of [
      {},
      { tags: ['A', 'b'] },
      { translations: { en: { title: 'Steady' } }, metadata: { n: 1, gone: null } },
      { translations: {}, metadata: {} },
      { metadata: { seo: { keywords: ['x'] } } },
    ]) {
      const answer = await unchanged(await patch(body), item.id, 1);
      expect(answer.content).toEqual(item);
    }
    // Conditional as any write: the current version passes, a stale one is still a 412.
    await unchanged(await patch({}, { 'If-Match': `"${item.id}.v1"` }), item.id, 1);
    expect(await head(orgId, item.id)).toBe(1);
    // A real change still makes version 2, and {} after it answers version 2.
    expect((await patch({ tags: ['c'] })).status).toBe(202);
    await unchanged(await patch({}), item.id, 2);
    const stale = await expectProblem(await patch({}, { 'If-Match': '1' }), 412);
    expect(stale).toMatchObject({ current_version: 2 });
    await settled(async () => expect(await persistedVersions(item.id)).toEqual([1, 2]));
    expect(await head(orgId, item.id)).toBe(2);
    const [row] = await testDb().select().from(content).where(eq(content.id, item.id));
    expect(row).toMatchObject({ version: 2 });
  });

  it('refuses a no-op patch as any patch: bad body 400, unknown or deleted item 404, author on published 403', async () => {
    const { orgId, auth } = await tenant('content-noop-errors');
    const { content: item } = await create(auth, { translations: { en: { title: 'Kept' } } });
    const patch = (id: string, body: unknown, who = auth) =>
      call(`/v1/content/${id}`, json(who, body, 'PATCH', PATCH));
    const bad = await expectProblem(await patch(item.id, { tags: 'a' }), 400);
    expect(bad.errors?.[0]?.path).toBe('body.tags');
    await expectProblem(await patch('cnt_01jd5x3k7yf0v9r2m4q6s8t1wz', {}), 404);
    const { id: deleted } = await insertContent(orgId, { deletedAt: new Date() });
    await expectProblem(await patch(deleted, {}), 404);
    const { id: published } = await insertContent(orgId, { status: 'published' });
    await expectProblem(await patch(published, {}, await as(orgId, 'author')), 403);
    expect(await head(orgId, item.id)).toBe(1);
  });

  it('answers a PUT of the item as it is with 200 (key order aside), a PUT that drops a field with 202', async () => {
    const { orgId, auth } = await tenant('content-noop-put');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'Whole', summary: 'S', body: 'B' } },
      tags: ['t'],
      metadata: { a: 1, b: { c: [1, 2] } },
    });
    const put = (body: unknown) => call(`/v1/content/${item.id}`, json(auth, body, 'PUT'));
    const same = {
      metadata: { b: { c: [1, 2] }, a: 1 },
      tags: ['t'],
      translations: { en: { body: 'B', summary: 'S', title: 'Whole', slug: 'whole' } },
    };
    await unchanged(await put(same), item.id, 1);
    // The slug is kept when left out, so this is the same item too.
    await unchanged(
      await put({ ...same, translations: { en: { title: 'Whole', summary: 'S', body: 'B' } } }),
      item.id,
      1,
    );
    // Array order is content: a different order is a change.
    const reordered = await put({ ...same, metadata: { a: 1, b: { c: [2, 1] } } });
    expect(reordered.status).toBe(202);
    const dropped = await put({ translations: same.translations });
    expect(dropped.status).toBe(202);
    expect(((await dropped.json()) as Accepted).content).toMatchObject({
      version: 3,
      tags: [],
      metadata: {},
    });
    expect(await head(orgId, item.id)).toBe(3);
  });

  it('answers a schedule to the time already set, and a restore of the current content, with 200', async () => {
    const { orgId, auth } = await tenant('content-noop-actions');
    const { id } = await insertContent(orgId, { status: 'approved' });
    const schedule = (publishAt: string) =>
      call(
        `/v1/content/${id}/transitions`,
        json(auth, { action: 'schedule', publish_at: publishAt }),
      );
    expect((await schedule('2099-01-01T00:00:00Z')).status).toBe(202);
    await unchanged(await schedule('2099-01-01T02:00:00+02:00'), id, 2);
    await settled(async () => expect(await persistedVersions(id)).toEqual([2]));
    const restored = await call(`/v1/content/${id}/versions/2/restore`, {
      method: 'POST',
      headers: auth,
    });
    await unchanged(restored, id, 2);
    expect(await head(orgId, id)).toBe(2);
  });
});

describe('DELETE and restore', () => {
  it('soft-deletes (reads 404, slug free) and restores as new versions', async () => {
    const { auth } = await tenant('content-delete');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'Gone soon', slug: 'gone-soon' } },
    });
    const deleted = await call(`/v1/content/${item.id}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(202);
    expect(((await deleted.json()) as Accepted).content).toMatchObject({ version: 2 });
    expect((await call(`/v1/content/${item.id}`, { headers: auth })).status).toBe(404);
    await expectProblem(
      await call(`/v1/content/${item.id}`, { method: 'DELETE', headers: auth }),
      404,
    );

    const restored = await call(`/v1/content/${item.id}/restore`, {
      method: 'POST',
      headers: auth,
    });
    expect(restored.status).toBe(202);
    expect(((await restored.json()) as Accepted).content).toMatchObject({
      version: 3,
      deleted_at: null,
    });
    expect((await call(`/v1/content/${item.id}`, { headers: auth })).status).toBe(200);
    await expectProblem(
      await call(`/v1/content/${item.id}/restore`, { method: 'POST', headers: auth }),
      409,
    );
    await settled(async () => expect(await persistedVersions(item.id)).toEqual([1, 2, 3]));
  });

  it('refuses a restore whose slug was taken meanwhile (409), and a delete by an author (403)', async () => {
    const { orgId, auth } = await tenant('content-restore-slug');
    const { content: item } = await create(auth, {
      translations: { en: { title: 'Slug', slug: 'contested' } },
    });
    expect((await call(`/v1/content/${item.id}`, { method: 'DELETE', headers: auth })).status).toBe(
      202,
    );
    await create(auth, { translations: { en: { title: 'Usurper', slug: 'contested' } } });
    const problem = await expectProblem(
      await call(`/v1/content/${item.id}/restore`, { method: 'POST', headers: auth }),
      409,
    );
    expect(problem.errors?.[0]).toMatchObject({ path: 'body.translations.en.slug' });
    const author = await as(orgId, 'author');
    await expectProblem(
      await call(`/v1/content/${item.id}`, { method: 'DELETE', headers: author }),
      403,
    );
  });
});

describe('POST /v1/content/{id}/transitions', () => {
  it('moves through the workflow by role: author submits, editor approves and publishes', async () => {
    const { orgId, auth: editor } = await tenant('content-workflow');
    const author = await as(orgId, 'author');
    const { content: item } = await create(author, { translations: { en: { title: 'Story' } } });
    const step = (auth: Record<string, string>, body: unknown) =>
      call(`/v1/content/${item.id}/transitions`, json(auth, body));

    expect((await step(author, { action: 'submit' })).status).toBe(202);
    const forbidden = await expectProblem(await step(author, { action: 'approve' }), 403);
    expect(forbidden).toMatchObject({ permission: 'content:publish' });
    expect((await step(editor, { action: 'approve' })).status).toBe(202);
    const published = await step(editor, { action: 'publish' });
    expect(published.status).toBe(202);
    const { content: live } = (await published.json()) as Accepted;
    expect(live).toMatchObject({ status: 'published', version: 4 });
    expect(live.published_at).not.toBeNull();

    const invalid = await expectProblem(await step(editor, { action: 'submit' }), 409);
    expect(invalid).toMatchObject({ allowed: ['unpublish', 'archive'], status_now: 'published' });
    await settled(async () => {
      const [row] = await testDb()
        .select()
        .from(content)
        .where(and(eq(content.id, item.id), eq(content.orgId, orgId)));
      expect(row).toMatchObject({ status: 'published', version: 4 });
    });
  });

  it('schedules with publish_at in the future, and refuses one in the past (422) or a bad action (400)', async () => {
    const { orgId, auth } = await tenant('content-schedule');
    const { id } = await insertContent(orgId, { status: 'approved' });
    const past = await expectProblem(
      await call(
        `/v1/content/${id}/transitions`,
        json(auth, { action: 'schedule', publish_at: '2001-01-01T00:00:00Z' }),
      ),
      422,
    );
    expect(past.errors?.[0]?.path).toBe('body.publish_at');
    const bad = await expectProblem(
      await call(`/v1/content/${id}/transitions`, json(auth, { action: 'fly' })),
      400,
    );
    expect(bad.errors?.[0]?.path).toBe('body.action');
    const scheduled = await call(
      `/v1/content/${id}/transitions`,
      json(auth, { action: 'schedule', publish_at: '2099-01-01T00:00:00Z' }),
    );
    expect(scheduled.status).toBe(202);
    expect(((await scheduled.json()) as Accepted).content).toMatchObject({
      status: 'approved',
      scheduled: true,
      publish_at: '2099-01-01T00:00:00.000Z',
      version: 2,
    });
  });
});

describe('the content ledger', () => {
  it('keeps a pending write until the consumer reports it persisted', async () => {
    const { orgId, auth } = await tenant('content-ledger');
    const { operation } = await create(auth, { translations: { en: { title: 'Pending' } } });
    await settled(async () => expect(await ledgerOf(env, orgId).pending(operation.id)).toBeNull());
    const [op] = await testDb().select().from(operations).where(eq(operations.id, operation.id));
    expect(op?.status).toBe('applied');
  });
});
