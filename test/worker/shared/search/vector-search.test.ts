import { beforeAll, describe, expect, it } from 'vitest';
import type { ContentSnapshot } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { vectorFilter, vectorSearch } from '../../../../shared/search/vector-search.ts';
import { testServices } from '../../helpers.ts';

describe('vectorFilter', () => {
  it('is empty without filters beyond the default status', () => {
    expect(vectorFilter()).toBe('');
    expect(vectorFilter({ statuses: ['published', 'draft'] })).toBe('');
  });

  it('writes every filter in Upstash syntax, quoting strings', () => {
    expect(
      vectorFilter(
        {
          categories: ['cat_1', "o'brien"],
          tags: ['a', 'b\\c'],
          publishedFrom: new Date('2026-01-01T00:00:00Z'),
          publishedTo: new Date('2026-02-01T00:00:00Z'),
          metadata: { region: 'gulf', rank: 3, featured: true },
        },
        'ar-EG',
      ),
    ).toBe(
      "(locale = 'ar' OR locale GLOB 'ar-*') AND category_id IN ('cat_1', 'o\\'brien') AND " +
        "(tags CONTAINS 'a' OR tags CONTAINS 'b\\\\c') AND published_at >= 1767225600 AND " +
        "published_at < 1769904000 AND meta.region = 'gulf' AND meta.rank = 3 AND " +
        'meta.featured = true',
    );
  });

  it('writes a metadata field with several values as any of them, typed', () => {
    expect(vectorFilter({ metadata: { year: [2024, '2024'], featured: [true] } })).toBe(
      "(meta.year = 2024 OR meta.year = '2024') AND meta.featured = true",
    );
    expect(vectorFilter({ metadata: { year: [] } })).toBe('HAS FIELD nothing_matches_no_value');
  });

  it('matches nothing for statuses the index does not hold, and refuses odd field names', () => {
    expect(vectorFilter({ statuses: ['draft'] })).toBe('HAS FIELD nothing_is_unpublished');
    expect(() => vectorFilter({ metadata: { 'a b': 1 } })).toThrow(/not an identifier/);
    expect(() => vectorFilter({ metadata: { "x') OR (1": 1 } })).toThrow(/not an identifier/);
  });
});

describe('vectorSearch', () => {
  const orgId = newId('organization');
  const ids: Record<string, string> = {};
  const s = testServices();

  const item = (
    key: string,
    translations: ContentSnapshot['translations'],
    fields: Partial<ContentSnapshot> = {},
  ): ContentSnapshot => {
    ids[key] = newId('content');
    return {
      id: ids[key]!,
      org_id: orgId,
      status: 'published',
      version: 1,
      category_id: null,
      tags: [],
      metadata: {},
      default_locale: Object.keys(translations)[0]!,
      publish_at: null,
      unpublish_at: null,
      published_at: '2026-06-01T00:00:00.000Z',
      created_by: null,
      updated_by: null,
      created_at: '2026-06-01T00:00:00.000Z',
      updated_at: '2026-06-01T00:00:00.000Z',
      deleted_at: null,
      translations,
      ...fields,
    };
  };
  const text = (title: string, body: string) => ({ title, summary: null, body, slug: 'x' });

  beforeAll(async () => {
    const snapshots = [
      item(
        'lighthouse',
        { en: text('Lighthouse keepers', 'Keeping the lamp lit in storms.') },
        {
          tags: ['sea'],
          metadata: { region: 'north' },
        },
      ),
      item(
        'harbour',
        { en: text('Harbour pilots', 'Guiding ships through the storm.') },
        {
          category_id: 'cat_sea',
        },
      ),
      item('bread', {
        en: text('Sourdough bread', 'Flour, water and patience.'),
        ar: text('خبز العجين المخمر', 'دقيق وماء وصبر.'),
      }),
    ];
    for (const snapshot of snapshots) {
      expect(await indexContent(s, snapshot)).toMatchObject({ ok: true });
    }
  });

  const keys = (hits: { contentId: string; locale: string }[]) =>
    hits.map((h) => `${Object.entries(ids).find(([, id]) => id === h.contentId)?.[0]}:${h.locale}`);

  it('finds by words on the sparse side and by similarity on the dense side', async () => {
    const sparse = await vectorSearch(s, { orgId, text: 'storm', side: 'sparse', topK: 10 });
    expect(keys(sparse).sort()).toEqual(['harbour:en', 'lighthouse:en']);
    expect(sparse[0]!.score).toBeGreaterThan(0);
    const dense = await vectorSearch(s, {
      orgId,
      text: 'lighthouse keeper',
      side: 'dense',
      topK: 2,
    });
    expect(keys(dense)[0]).toBe('lighthouse:en');
    expect(dense[0]!.metadata).toMatchObject({ title: 'Lighthouse keepers', tags: ['sea'] });
  });

  it('applies locale, category, tag and metadata filters', async () => {
    const all = (filters: Parameters<typeof vectorFilter>[0], locale?: string) =>
      vectorSearch(s, {
        orgId,
        text: 'storm bread lighthouse',
        side: 'dense',
        topK: 10,
        ...(filters ? { filters } : {}),
        ...(locale ? { locale } : {}),
      }).then((hits) => keys(hits).sort());
    expect(await all({}, 'ar')).toEqual(['bread:ar']);
    expect(await all({ categories: ['cat_sea'] })).toEqual(['harbour:en']);
    expect(await all({ tags: ['sea', 'none'] })).toEqual(['lighthouse:en']);
    expect(await all({ metadata: { region: 'north' } })).toEqual(['lighthouse:en']);
    expect(await all({ statuses: ['draft'] })).toEqual([]);
  });

  it("sees only the organisation's own namespace, and nothing for blank text", async () => {
    const other = newId('organization');
    expect(await vectorSearch(s, { orgId: other, text: 'storm', side: 'sparse', topK: 5 })).toEqual(
      [],
    );
    expect(await vectorSearch(s, { orgId, text: '  ', side: 'dense', topK: 5 })).toEqual([]);
  });
});
