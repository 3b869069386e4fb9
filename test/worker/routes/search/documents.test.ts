import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { categories, documents } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { bumpIndexVersions } from '../../../../shared/search/index-version.ts';
import { bearer, createMember, createTenant, type Member, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb, testServices, untilQuiet } from '../../helpers.ts';
import { readyDocument } from '../../support/ready-documents.ts';
import { insertContent } from '../content/fixtures.ts';
import { insertKey } from '../keys/fixtures.ts';

type Auth = Record<string, string>;
type Hit = {
  type: 'content' | 'document';
  id: string;
  document_id?: string;
  title: string;
  snippet: string;
  url: string;
  locale: string;
  category_id: string | null;
  page_start?: number | null;
  page_end?: number | null;
  heading_path?: string[];
  chunk_index?: number;
  passages?: { chunk_index: number; snippet: string }[];
  score: number;
};
type Page = {
  total: number;
  hits: Hit[];
  degraded: boolean;
  facets: Record<string, { value: string; count: number }[]> | null;
  next_cursor: string | null;
};

afterAll(() => untilQuiet(), 60_000);

let orgId: string;
let categoryId: string;
let uploader: Member;
let viewer: Auth;
let admin: Auth;
const ids: Record<string, string> = {};

async function search(auth: Auth, query: string): Promise<Page> {
  const response = await call(`/v1/search?${query}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

const documentIds = (page: Page) => page.hits.filter((h) => h.type === 'document').map((h) => h.id);

beforeAll(async () => {
  ({ orgId } = await createTenant('docsearch'));
  categoryId = newId('category');
  await testDb()
    .insert(categories)
    .values({ id: categoryId, orgId, slug: 'coast', names: { en: 'Coast' } });
  uploader = await createMember(orgId, 'viewer');
  viewer = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
  admin = bearer((await tokenFor(await createMember(orgId, 'admin'))).token);
  const item = await insertContent(orgId, {
    status: 'published',
    publishedAt: new Date('2026-11-01T00:00:00Z'),
    categoryId,
    translations: {
      en: { title: 'Lighthouse keepers', body: 'Keeping the lighthouse lamp lit in storms.' },
    },
  });
  ids.article = item.id;
  const services = testServices();
  for (const snapshot of (await loadSnapshots(testDb(), orgId, [item.id])).values()) {
    await indexContent(services, snapshot);
  }
  await bumpIndexVersions(services, [orgId]);
  ids.manual = (
    await readyDocument(orgId, {
      title: 'Lighthouse maintenance manual',
      categoryId,
      tags: ['maintenance'],
      chunks: [
        { text: 'Safety rules for climbing the tower stairs.', page: 1, headings: ['Safety'] },
        {
          text: 'The lighthouse lamp lens is polished every week with a soft cloth.',
          page: 4,
          headings: ['Lamp', 'Lens'],
        },
        { text: 'Replace the lighthouse lamp bulb when it flickers.', page: 5 },
      ],
    })
  ).id;
  ids.arabic = (
    await readyDocument(orgId, {
      title: 'دليل المنارة',
      language: 'ar',
      chunks: ['يجب تنظيف عدسة المنارة كل أسبوع بقطعة قماش ناعمة.'],
    })
  ).id;
  ids.private = (
    await readyDocument(orgId, {
      title: 'Private lighthouse budget',
      visibility: 'private',
      uploadedBy: uploader.userId,
      chunks: ['The lighthouse lamp budget rises by a quarter next year.'],
    })
  ).id;
  ids.processing = (
    await readyDocument(orgId, {
      title: 'Lighthouse draft',
      status: 'embedding',
      chunks: ['The lighthouse lamp draft is not ready yet.'],
    })
  ).id;
  ids.deleted = (
    await readyDocument(orgId, {
      title: 'Lighthouse leaflet',
      chunks: ['The lighthouse lamp leaflet for visitors.'],
    })
  ).id;
  // The row goes, the index entries stay (as when a deletion has not reached the index yet).
  await testDb().delete(documents).where(eq(documents.id, ids.deleted));
}, 60_000);

describe('GET /v1/search with type', () => {
  it('searches content only by default, each hit saying it is content', async () => {
    const page = await search(viewer, 'q=lighthouse+lamp');
    expect(page.hits.map((h) => h.type)).toEqual(['content']);
    expect(page.hits[0]!.id).toBe(ids.article);
    expect(page.facets?.type).toEqual([{ value: 'content', count: 1 }]);
  });

  it('finds documents once each, with their best passage, pages and headings', async () => {
    const page = await search(viewer, 'q=lighthouse+lamp+lens+polished&type=document');
    expect(page.hits.every((h) => h.type === 'document')).toBe(true);
    expect(new Set(documentIds(page)).size).toBe(documentIds(page).length);
    const manual = page.hits.find((h) => h.id === ids.manual)!;
    expect(manual).toMatchObject({
      document_id: ids.manual,
      url: `/v1/documents/${ids.manual}`,
      chunk_index: 1,
      page_start: 4,
      page_end: 4,
      heading_path: ['Lamp', 'Lens'],
      category_id: categoryId,
      locale: 'en',
    });
    expect(manual.snippet).toContain('<mark>polished</mark>');
    expect(manual.passages!.length).toBeGreaterThanOrEqual(1);
    expect(manual.passages![0]!.chunk_index).toBe(1);
    expect(page.hits[0]!.id).toBe(ids.manual);
  });

  it('finds an Arabic document in its own language', async () => {
    const page = await search(
      viewer,
      `q=${encodeURIComponent('عدسة المنارة')}&type=document&locale=ar`,
    );
    expect(documentIds(page)).toEqual([ids.arabic]);
    expect(page.hits[0]!.snippet).toContain('<mark>');
  });

  it('mixes content and documents (repeated or comma-separated), with coherent facets and pages', async () => {
    const both = await search(viewer, 'q=lighthouse+lamp&type=content,document');
    const types = new Set(both.hits.map((h) => h.type));
    expect(types).toEqual(new Set(['content', 'document']));
    expect(both.total).toBe(both.hits.length);
    const counts = Object.fromEntries(both.facets!.type!.map((f) => [f.value, f.count]));
    expect(counts).toEqual({
      content: both.hits.filter((h) => h.type === 'content').length,
      document: both.hits.filter((h) => h.type === 'document').length,
    });
    const repeated = await search(viewer, 'q=lighthouse+lamp&type=content&type=document');
    expect(repeated.hits.map((h) => h.id)).toEqual(both.hits.map((h) => h.id));
    // Pages of one hit each walk the same list without gaps or repeats.
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await search(
        viewer,
        `q=lighthouse+lamp&type=content,document&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...page.hits.map((h) => h.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(walked).toEqual(both.hits.map((h) => h.id));
  });

  it("never shows another member's private document, but shows it to its uploader and to admins", async () => {
    const other = await search(viewer, 'q=lighthouse+lamp+budget&type=document');
    expect(documentIds(other)).not.toContain(ids.private);
    expect(JSON.stringify(other)).not.toContain('rises by a quarter');
    const own = await search(
      bearer((await tokenFor(uploader)).token),
      'q=lighthouse+lamp+budget&type=document',
    );
    expect(documentIds(own)).toContain(ids.private);
    expect(documentIds(await search(admin, 'q=lighthouse+lamp+budget&type=document'))).toContain(
      ids.private,
    );
  });

  it('leaves out documents that are not ready, and index entries whose document is gone', async () => {
    const page = await search(admin, 'q=lighthouse+lamp+draft+leaflet&type=document');
    expect(documentIds(page)).not.toContain(ids.processing);
    expect(documentIds(page)).not.toContain(ids.deleted);
    expect(documentIds(page)).toContain(ids.manual);
  });

  it('filters documents by category and tags', async () => {
    const tagged = await search(viewer, 'q=lighthouse+lamp&type=document&tags=maintenance');
    expect(documentIds(tagged)).toEqual([ids.manual]);
    const categorised = await search(viewer, `q=lighthouse&type=document&category=${categoryId}`);
    expect(documentIds(categorised)).toEqual([ids.manual]);
  });

  it('leaves documents out of a mixed search with a content-only filter, and refuses one with type=document alone', async () => {
    const mixed = await search(viewer, 'q=lighthouse+lamp&type=content,document&status=published');
    expect(mixed.hits.map((h) => h.type)).toEqual(['content']);
    const problem = await expectProblem(
      await call('/v1/search?q=lighthouse&type=document&published_from=2026-01-01', {
        headers: viewer,
      }),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['query.published_from']);
    const body = await expectProblem(
      await call('/v1/search', {
        method: 'POST',
        headers: { ...viewer, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          q: 'lighthouse',
          type: ['document'],
          filters: { status: ['draft'] },
        }),
      }),
      400,
    );
    expect(body.errors?.map((e) => e.path)).toEqual(['body.filters.status']);
  });

  it('refuses an unknown type, and documents to a key without documents:read', async () => {
    const problem = await expectProblem(
      await call('/v1/search?q=lighthouse&type=pictures', { headers: viewer }),
      400,
    );
    expect(problem.errors?.[0]?.path).toMatch(/^query\.type/);
    const key = await insertKey(orgId, { scopes: ['search'] });
    await expectProblem(
      await call('/v1/search?q=lighthouse&type=document', { headers: bearer(key.secret) }),
      403,
    );
    const content = await call('/v1/search?q=lighthouse', { headers: bearer(key.secret) });
    expect(content.status).toBe(200);
  });

  it('answers POST /v1/search with documents too', async () => {
    const response = await call('/v1/search', {
      method: 'POST',
      headers: { ...viewer, 'Content-Type': 'application/json' },
      body: JSON.stringify({ q: 'lighthouse lamp lens', type: ['document'] }),
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as Page;
    expect(documentIds(page)).toContain(ids.manual);
  });
});
