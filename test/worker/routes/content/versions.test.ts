import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ContentDiffResource,
  type ContentResource,
  ContentVersionResource,
  ContentVersionSummary,
} from '../../../../shared/content/schema.ts';
import { auditLog } from '../../../../shared/db/schema/audit.ts';
import { contentVersions } from '../../../../shared/db/schema/content.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, eventually, expectProblem, testDb } from '../../helpers.ts';
import { insertContent } from './fixtures.ts';

afterEach(() => resetBreakers());

type Role = 'owner' | 'admin' | 'editor' | 'author' | 'viewer';
type Auth = Record<string, string>;

async function as(orgId: string, role: Role) {
  const member = await createMember(orgId, role);
  return { auth: bearer((await tokenFor(member)).token), userId: member.userId };
}

const json = (auth: Auth, body: unknown, method = 'POST', extra: Auth = {}) => ({
  method,
  headers: { ...auth, 'Content-Type': 'application/json', ...extra },
  body: JSON.stringify(body),
});

type Accepted = {
  content: ReturnType<typeof ContentResource.parse>;
  operation: { id: string; status: string; url: string };
};

async function accepted(response: Response): Promise<Accepted> {
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()) as Accepted;
}

const patch = (auth: Auth, id: string, body: unknown) =>
  call(`/v1/content/${id}`, json(auth, body, 'PATCH'));

/** Waits until `content_versions` holds `count` versions of `id` (the consumer persists them). */
const persisted = (id: string, count: number) =>
  eventually(async () => {
    const rows = await testDb()
      .select({ version: contentVersions.version })
      .from(contentVersions)
      .where(eq(contentVersions.contentId, id));
    return rows.length === count;
  }, 15_000);

/**
 * A fresh organisation with an editor and an item at version 3, all persisted: v1 created with
 * title "First", v2 retitled "Second", v3 with a new body. Returns each version's operation id.
 */
async function itemWithHistory(label: string) {
  const { orgId } = await createTenant(label);
  const { auth, userId } = await as(orgId, 'editor');
  const created = await accepted(
    await call(
      '/v1/content',
      json(auth, { translations: { en: { title: 'First', body: 'One.' } }, tags: ['a'] }),
    ),
  );
  const id = created.content.id;
  const v2 = await accepted(await patch(auth, id, { translations: { en: { title: 'Second' } } }));
  const v3 = await accepted(await patch(auth, id, { translations: { en: { body: 'Three.' } } }));
  expect(v3.content.version).toBe(3);
  await persisted(id, 3);
  const operations = [created.operation.id, v2.operation.id, v3.operation.id];
  return { orgId, auth, userId, id, slug: created.content.translations.en!.slug, operations };
}

type Page = { items: unknown[]; next_cursor: string | null };

async function listPage(auth: Auth, id: string, query = '') {
  const response = await call(`/v1/content/${id}/versions${query}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = (await response.json()) as Page;
  return { items: body.items.map((i) => ContentVersionSummary.parse(i)), next: body.next_cursor };
}

describe('GET /v1/content/{id}/versions', () => {
  it('lists every version newest first and pages with limit and cursor', async () => {
    const { auth, userId, id, operations } = await itemWithHistory('versions-list');
    const all = await listPage(auth, id);
    expect(all.next).toBeNull();
    expect(all.items).toEqual(
      [3, 2, 1].map((version) => ({
        version,
        status: 'draft',
        operation_id: operations[version - 1],
        created_by: userId,
        created_at: expect.any(String),
      })),
    );

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await listPage(auth, id, query);
      expect(page.items).toHaveLength(1);
      seen.push(page.items[0]!.version);
      cursor = page.next;
    } while (cursor !== null);
    expect(seen).toEqual([3, 2, 1]);
  });

  it("still lists a deleted item's history", async () => {
    const { auth, id } = await itemWithHistory('versions-deleted');
    const deleted = await call(`/v1/content/${id}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBe(202);
    await persisted(id, 4);
    expect((await listPage(auth, id)).items.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    await expectProblem(await call(`/v1/content/${id}`, { headers: auth }), 404);
  });

  it('lists nothing for an imported item without history, which still has its head', async () => {
    const { orgId } = await createTenant('versions-import');
    const { auth } = await as(orgId, 'viewer');
    const { id } = await insertContent(orgId, { version: 2 });
    expect((await listPage(auth, id)).items).toEqual([]);
    const head = await call(`/v1/content/${id}/versions/2`, { headers: auth });
    expect(head.status).toBe(200);
    // Not in content_versions: no operation, and not cacheable for good.
    expect(head.headers.get('etag')).toBe(`W/"${id}.v2"`);
    expect(head.headers.get('cache-control')).toBe('private, no-cache');
    expect(ContentVersionResource.parse(await head.json())).toMatchObject({
      version: 2,
      operation_id: null,
      snapshot: { id, version: 2 },
    });
    await expectProblem(await call(`/v1/content/${id}/versions/1`, { headers: auth }), 404);
  });

  it('refuses a bad limit or a cursor of another item with 400 naming the field', async () => {
    const { auth, id } = await itemWithHistory('versions-list-bad');
    const { next } = await listPage(auth, id, '?limit=1');
    const other = await accepted(
      await call('/v1/content', json(auth, { translations: { en: { title: 'Other' } } })),
    );
    for (const [query, path] of [
      ['?limit=0', 'query.limit'],
      ['?limit=abc', 'query.limit'],
      ['?cursor=nonsense', 'query.cursor'],
    ]) {
      const problem = await expectProblem(
        await call(`/v1/content/${id}/versions${query}`, { headers: auth }),
        400,
      );
      expect(problem.errors?.[0]?.path).toBe(path);
    }
    const replayed = await call(`/v1/content/${other.content.id}/versions?cursor=${next}`, {
      headers: auth,
    });
    expect((await expectProblem(replayed, 400)).errors?.[0]?.path).toBe('query.cursor');
  });

  it('answers 503 with Retry-After when Postgres is down', async () => {
    const { orgId } = await createTenant('versions-pg-down');
    const { auth } = await as(orgId, 'viewer');
    const { id } = await insertContent(orgId);
    const response = await call(
      `/v1/content/${id}/versions`,
      { headers: auth },
      { DATABASE_URL: DEAD_DATABASE_URL },
    );
    await expectProblem(response, 503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('GET /v1/content/{id}/versions/{version}', () => {
  it('returns one version with its snapshot, as immutable, and 304 for its ETag', async () => {
    const { auth, id, operations } = await itemWithHistory('versions-get');
    const response = await call(`/v1/content/${id}/versions/2`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${id}.v2"`);
    expect(response.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const body = ContentVersionResource.parse(await response.json());
    expect(body).toMatchObject({ version: 2, status: 'draft', operation_id: operations[1] });
    expect(body.snapshot).toMatchObject({ id, version: 2, tags: ['a'] });
    expect(body.snapshot.translations.en).toMatchObject({ title: 'Second', body: 'One.' });

    const again = await call(`/v1/content/${id}/versions/2`, {
      headers: { ...auth, 'If-None-Match': `"${id}.v2"` },
    });
    expect(again.status).toBe(304);
    const other = await call(`/v1/content/${id}/versions/1`, {
      headers: { ...auth, 'If-None-Match': `"${id}.v2"` },
    });
    expect(other.status).toBe(200);
  });

  it('reads the latest version at once after a write, before the consumer persists it', async () => {
    const { orgId } = await createTenant('versions-fresh');
    const { auth } = await as(orgId, 'editor');
    const created = await accepted(
      await call('/v1/content', json(auth, { translations: { en: { title: 'Fresh' } } })),
    );
    const response = await call(`/v1/content/${created.content.id}/versions/1`, { headers: auth });
    expect(response.status).toBe(200);
    const body = ContentVersionResource.parse(await response.json());
    expect(body.snapshot.translations.en?.title).toBe('Fresh');
  });

  it('refuses version 0 and abc with 400 naming path.version, and 404s an unknown one', async () => {
    const { auth, id } = await itemWithHistory('versions-get-bad');
    for (const version of ['0', 'abc', '1.5', '-1']) {
      const problem = await expectProblem(
        await call(`/v1/content/${id}/versions/${version}`, { headers: auth }),
        400,
      );
      expect(problem.errors?.[0]?.path).toBe('path.version');
    }
    const problem = await expectProblem(
      await call(`/v1/content/${id}/versions/9`, { headers: auth }),
      404,
    );
    expect(problem.detail).toBe(`${id} has no version 9.`);
  });
});

describe('GET /v1/content/{id}/diff', () => {
  it('shows the changes per field between two versions', async () => {
    const { auth, id } = await itemWithHistory('versions-diff');
    const diff = async (from: number, to: number) => {
      const response = await call(`/v1/content/${id}/diff?from=${from}&to=${to}`, {
        headers: auth,
      });
      expect(response.status, await response.clone().text()).toBe(200);
      return ContentDiffResource.parse(await response.json());
    };
    expect(await diff(1, 2)).toEqual({
      id,
      from: 1,
      to: 2,
      changes: [
        { path: 'translations.en.title', kind: 'changed', before: 'First', after: 'Second' },
      ],
    });
    expect((await diff(3, 1)).changes).toEqual([
      { path: 'translations.en.title', kind: 'changed', before: 'Second', after: 'First' },
      { path: 'translations.en.body', kind: 'changed', before: 'Three.', after: 'One.' },
    ]);
    expect((await diff(2, 2)).changes).toEqual([]);
  });

  it('refuses missing or bad versions with 400 naming the field, and 404s naming the missing one', async () => {
    const { auth, id } = await itemWithHistory('versions-diff-bad');
    for (const [query, path] of [
      ['?from=1', 'query.to'],
      ['?to=1', 'query.from'],
      ['?from=0&to=1', 'query.from'],
      ['?from=1&to=abc', 'query.to'],
    ]) {
      const problem = await expectProblem(
        await call(`/v1/content/${id}/diff${query}`, { headers: auth }),
        400,
      );
      expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    }
    for (const [query, path, version] of [
      ['?from=7&to=1', 'query.from', 7],
      ['?from=1&to=8', 'query.to', 8],
    ] as const) {
      const problem = await expectProblem(
        await call(`/v1/content/${id}/diff${query}`, { headers: auth }),
        404,
      );
      expect(problem.detail).toBe(`${id} has no version ${version}.`);
      expect(problem.errors?.[0]?.path).toBe(path);
    }
  });
});

describe('POST /v1/content/{id}/versions/{version}/restore', () => {
  it("restores version 1's content as version 4 and audits it", async () => {
    const { orgId, auth, id } = await itemWithHistory('versions-restore');
    const response = await call(`/v1/content/${id}/versions/1/restore`, {
      method: 'POST',
      headers: auth,
    });
    const body = await accepted(response);
    expect(response.headers.get('etag')).toBe(`"${id}.v4"`);
    expect(body.content).toMatchObject({ id, version: 4, status: 'draft', tags: ['a'] });
    expect(body.content.translations.en).toMatchObject({ title: 'First', body: 'One.' });
    const read = await call(`/v1/content/${id}`, { headers: auth });
    expect(await read.json()).toMatchObject({
      version: 4,
      translations: { en: { title: 'First' } },
    });

    await persisted(id, 4);
    const history = await listPage(auth, id);
    expect(history.items.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect(history.items[0]!.operation_id).toBe(body.operation.id);
    const diff = await call(`/v1/content/${id}/diff?from=1&to=4`, { headers: auth });
    expect(ContentDiffResource.parse(await diff.json()).changes).toEqual([]);

    const entry = await eventually(async () => {
      const [row] = await testDb()
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.orgId, orgId), eq(auditLog.action, 'content.restore_version')));
      return row;
    });
    expect(entry).toMatchObject({ targetType: 'content', targetId: id });
    expect(entry.data).toMatchObject({ restored_version: 1, version: 4 });
  });

  it('answers 412 when If-Match is stale, and 202 when it names the current version', async () => {
    const { auth, id } = await itemWithHistory('versions-restore-if-match');
    const stale = await call(`/v1/content/${id}/versions/1/restore`, {
      method: 'POST',
      headers: { ...auth, 'If-Match': `"${id}.v2"` },
    });
    const problem = await expectProblem(stale, 412);
    expect(problem.current_version).toBe(3);
    const fresh = await call(`/v1/content/${id}/versions/1/restore`, {
      method: 'POST',
      headers: { ...auth, 'If-Match': `"${id}.v3"` },
    });
    expect((await accepted(fresh)).content.version).toBe(4);
  });

  it('answers 409 when an old slug has since been taken by another item', async () => {
    const { auth, id, slug } = await itemWithHistory('versions-restore-slug');
    const moved = await accepted(
      await patch(auth, id, { translations: { en: { slug: 'moved-on' } } }),
    );
    expect(moved.content.version).toBe(4);
    // The edge checks a chosen slug in Postgres: wait until the item's new slug is there.
    await persisted(id, 4);
    await accepted(
      await call('/v1/content', json(auth, { translations: { en: { title: 'Usurper', slug } } })),
    );
    const problem = await expectProblem(
      await call(`/v1/content/${id}/versions/1/restore`, { method: 'POST', headers: auth }),
      409,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'body.translations.en.slug', code: 'slug_taken' }),
    ]);
  });

  it('answers 404 for an unknown version and for a deleted item', async () => {
    const { auth, id } = await itemWithHistory('versions-restore-404');
    const unknown = await expectProblem(
      await call(`/v1/content/${id}/versions/9/restore`, { method: 'POST', headers: auth }),
      404,
    );
    expect(unknown.detail).toBe(`${id} has no version 9.`);
    await expectProblem(
      await call(`/v1/content/${id}/versions/0/restore`, { method: 'POST', headers: auth }),
      400,
    );
    expect((await call(`/v1/content/${id}`, { method: 'DELETE', headers: auth })).status).toBe(202);
    await expectProblem(
      await call(`/v1/content/${id}/versions/1/restore`, { method: 'POST', headers: auth }),
      404,
    );
  });

  it('refuses a viewer (content:write) and an author on reviewed content (content:publish)', async () => {
    const { orgId, id } = await itemWithHistory('versions-restore-roles');
    const viewer = await as(orgId, 'viewer');
    expect((await call(`/v1/content/${id}/versions/2`, { headers: viewer.auth })).status).toBe(200);
    const refused = await expectProblem(
      await call(`/v1/content/${id}/versions/1/restore`, { method: 'POST', headers: viewer.auth }),
      403,
    );
    expect(refused.permission).toBe('content:write');

    const approved = await insertContent(orgId, { status: 'approved' });
    const author = await as(orgId, 'author');
    const problem = await expectProblem(
      await call(`/v1/content/${approved.id}/versions/1/restore`, {
        method: 'POST',
        headers: author.auth,
      }),
      403,
    );
    expect(problem.permission).toBe('content:publish');
  });
});

describe('tenant isolation', () => {
  it('answers 404 to another organisation for every versions route, showing nothing', async () => {
    const { id } = await itemWithHistory('versions-iso-a');
    const { orgId: otherOrg } = await createTenant('versions-iso-b');
    const { auth } = await as(otherOrg, 'owner');
    const requests: [string, RequestInit][] = [
      [`/v1/content/${id}/versions`, { headers: auth }],
      [`/v1/content/${id}/versions/1`, { headers: auth }],
      [`/v1/content/${id}/diff?from=1&to=2`, { headers: auth }],
      [`/v1/content/${id}/versions/1/restore`, { method: 'POST', headers: auth }],
    ];
    for (const [path, init] of requests) {
      const problem = await expectProblem(await call(path, init), 404);
      const { instance: _, ...rest } = problem;
      expect(JSON.stringify(rest)).not.toContain(id);
    }
    const rows = await testDb()
      .select({ version: contentVersions.version })
      .from(contentVersions)
      .where(eq(contentVersions.contentId, id));
    expect(rows).toHaveLength(3);
  });
});
