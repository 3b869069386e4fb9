import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import { keywordSearch, type SearchFilters } from '../../shared/search/keyword.ts';
import { createContent, createTenant } from './fixtures.ts';
import { backends, openDatabase, type TestDatabase } from './harness.ts';

describe.each(backends)('keywordSearch (%s)', (backend) => {
  let database: TestDatabase;
  let orgId: string;
  let otherOrgId: string;
  let categoryId: string;
  const ids: Record<string, string> = {};

  const item = async (
    key: string,
    translations: Parameters<typeof createContent>[2],
    fields: {
      status?: string;
      categoryId?: string | null;
      tags?: string[];
      metadata?: object;
    } = {},
    org = orgId,
  ) => {
    const id = await createContent(database, org, translations, {
      status: fields.status ?? 'published',
      categoryId: fields.categoryId ?? null,
    });
    await database.query(
      `update content set tags = $2, metadata = $3, published_at = $4 where id = $1`,
      [id, fields.tags ?? [], JSON.stringify(fields.metadata ?? {}), '2026-06-01T00:00:00Z'],
    );
    ids[key] = id;
    return id;
  };
  const slug = () => newId('content').slice(-10);

  beforeAll(async () => {
    database = await openDatabase(backend);
    ({ orgId, categoryId } = await createTenant(database, 'kw'));
    ({ orgId: otherOrgId } = await createTenant(database, 'kw-other'));
    await item(
      'title',
      [{ locale: 'en', title: 'Solar libraries', slug: slug(), body: 'Reading rooms.' }],
      { categoryId, tags: ['energy'], metadata: { region: 'gulf', featured: true } },
    );
    await item(
      'body',
      [
        {
          locale: 'en',
          title: 'Reading rooms',
          slug: slug(),
          body: 'Public libraries run on solar power.',
        },
      ],
      { tags: ['culture'] },
    );
    await item('arabic', [
      { locale: 'ar', title: 'المكتبات الشمسية', slug: slug(), body: 'قاعات القراءة.' },
    ]);
    await item('draft', [{ locale: 'en', title: 'Solar drafts', slug: slug() }], {
      status: 'draft',
    });
    await item(
      'foreign',
      [{ locale: 'en', title: 'Solar libraries elsewhere', slug: slug() }],
      {},
      otherOrgId,
    );
    const gone = await item('deleted', [{ locale: 'en', title: 'Solar ruins', slug: slug() }]);
    await database.query(`update content set deleted_at = now() where id = $1`, [gone]);
  });
  afterAll(() => database?.close());

  const search = async (text: string, options: { locale?: string; filters?: SearchFilters } = {}) =>
    (await keywordSearch(database.db, { orgId, text, limit: 20, ...options })).map(
      (h) => Object.entries(ids).find(([, id]) => id === h.contentId)?.[0],
    );

  it('finds English words by their stem and ranks a title match above a body match', async () => {
    expect(await search('library solar')).toEqual(['title', 'body']);
    expect(await search('running')).toEqual(['body']);
  });

  it('finds items with any of the words, those with more of them first', async () => {
    expect(await search('power rooms')).toEqual(['body', 'title']);
    expect(await search('power nonsenseword')).toEqual(['body']);
    expect(await search('"power rooms"')).toEqual([]);
  });

  it('finds Arabic words whatever their article, and only in the locale asked for', async () => {
    expect(await search('مكتبة')).toEqual(['arabic']);
    expect(await search('المكتبات', { locale: 'ar-EG' })).toEqual(['arabic']);
    expect(await search('libraries', { locale: 'ar' })).toEqual([]);
  });

  it('gives scores in [0, 1), best first, with the text of the translation', async () => {
    const hits = await keywordSearch(database.db, { orgId, text: 'solar', limit: 10 });
    expect(hits.length).toBe(2);
    for (const h of hits) {
      expect(h.score).toBeGreaterThan(0);
      expect(h.score).toBeLessThan(1);
    }
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    expect(hits[0]).toMatchObject({
      locale: 'en',
      title: 'Solar libraries',
      categoryId,
      tags: ['energy'],
    });
    expect(hits[0]!.publishedAt?.toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });

  it('leaves out drafts (unless asked for), deleted items and other organisations', async () => {
    expect(await search('solar')).toEqual(['title', 'body']);
    expect(await search('solar', { filters: { statuses: ['draft'] } })).toEqual(['draft']);
  });

  it('filters by category, tags, publication dates and metadata fields', async () => {
    expect(await search('solar', { filters: { categories: [categoryId] } })).toEqual(['title']);
    expect(await search('solar', { filters: { tags: ['culture', 'none'] } })).toEqual(['body']);
    expect(await search('solar', { filters: { tags: ['a"b\\c'] } })).toEqual([]);
    expect(
      await search('solar', { filters: { publishedFrom: new Date('2026-06-01T00:00:00Z') } }),
    ).toEqual(['title', 'body']);
    expect(
      await search('solar', { filters: { publishedTo: new Date('2026-06-01T00:00:00Z') } }),
    ).toEqual([]);
    expect(await search('solar', { filters: { metadata: { region: 'gulf' } } })).toEqual(['title']);
    expect(await search('solar', { filters: { metadata: { featured: 'true' } } })).toEqual([]);
  });

  it('understands what users type: phrases, exclusions, punctuation; nothing for no words', async () => {
    expect(await search('"public libraries"')).toEqual(['body']);
    expect(await search('solar -reading')).toEqual([]);
    expect(await search('zeppelin or power')).toEqual(['body']);
    expect(await search('solar -power')).toEqual(['title']);
    expect(await search("solar's (libraries) & | !")).toEqual(['title', 'body']);
    expect(await search('   ')).toEqual([]);
    expect(await search('the of and')).toEqual([]);
  });
});
