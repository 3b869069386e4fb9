import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import {
  type FoundItem,
  facets,
  type Retrieval,
  rank,
  retrieve,
} from '../../../../shared/search/engine.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { DEFAULT_RANKING } from '../../../../shared/search/ranking.ts';
import { createOrg, DEAD_DATABASE_URL, DEAD_URL, testDb, testServices } from '../../helpers.ts';
import { insertContent } from '../../routes/content/fixtures.ts';

afterEach(() => resetBreakers());

const now = new Date('2026-11-22T00:00:00Z');

describe('retrieve', () => {
  let orgId: string;
  const ids: Record<string, string> = {};
  const name = (contentId: string) => Object.entries(ids).find(([, id]) => id === contentId)?.[0];

  beforeAll(async () => {
    orgId = await createOrg('engine');
    const published = (title: string, body: string, extra = {}) => ({
      status: 'published' as const,
      publishedAt: new Date('2026-11-01T00:00:00Z'),
      translations: { en: { title, body } },
      ...extra,
    });
    ids.storms = (await insertContent(orgId, published('Winter storms', 'Gales at sea.'))).id;
    ids.lighthouse = (
      await insertContent(
        orgId,
        published('Lighthouse keepers', 'Keeping the lamp lit through storms.', {
          tags: ['sea'],
          translations: {
            en: { title: 'Lighthouse keepers', body: 'Keeping the lamp lit through storms.' },
            ar: { title: 'حراس المنارة', body: 'إبقاء المصباح مضاء في العواصف.' },
          },
        }),
      )
    ).id;
    ids.bread = (await insertContent(orgId, published('Sourdough bread', 'Flour and water.'))).id;
    ids.draft = (
      await insertContent(orgId, { translations: { en: { title: 'Storm draft', body: 'x' } } })
    ).id;
    const services = testServices();
    const snapshots = await loadSnapshots(testDb(), orgId, Object.values(ids));
    for (const snapshot of snapshots.values()) {
      expect(await indexContent(services, snapshot)).toMatchObject({ ok: true });
    }
  });

  const query = (overrides: Partial<Retrieval> = {}): Retrieval => ({
    orgId,
    text: 'storms',
    mode: 'hybrid',
    filters: {},
    ...overrides,
  });

  it('finds items by keyword, meaning or both, one translation per item', async () => {
    const services = testServices();
    for (const mode of ['keyword', 'semantic', 'hybrid'] as const) {
      const { items, degraded } = await retrieve(services, query({ mode }), DEFAULT_RANKING, now);
      expect(degraded).toEqual([]);
      const names = items.map((i) => name(i.contentId));
      expect(names.slice(0, 2).sort()).toEqual(['lighthouse', 'storms']);
      expect(new Set(names).size).toBe(names.length);
      expect(names).not.toContain('draft');
    }
    const { items } = await retrieve(services, query({ mode: 'keyword' }), DEFAULT_RANKING, now);
    expect(items.every((i) => i.semantic === null && i.keyword! > 0)).toBe(true);
    expect(items[0]).toMatchObject({ fused: 1, popularity: 0, publishedAt: expect.any(String) });
    const hybrid = await retrieve(services, query(), DEFAULT_RANKING, now);
    const lighthouse = hybrid.items.find((i) => i.contentId === ids.lighthouse)!;
    expect(lighthouse).toMatchObject({
      title: 'Lighthouse keepers',
      tags: ['sea'],
      keyword: expect.any(Number),
      semantic: expect.any(Number),
    });
  });

  it('answers from Postgres full-text search when the vector index is down', async () => {
    const services = testServices({ UPSTASH_VECTOR_REST_URL: DEAD_URL });
    const { items, degraded } = await retrieve(services, query(), DEFAULT_RANKING, now);
    expect(degraded).toEqual(['vector_unavailable']);
    expect(items.map((i) => name(i.contentId)).sort()).toEqual(['lighthouse', 'storms']);
    expect(items[0]!.keyword).toBeGreaterThan(0);
  });

  it('answers from the vector index alone when Postgres is down', async () => {
    const services = testServices({ DATABASE_URL: DEAD_DATABASE_URL });
    const { items, degraded } = await retrieve(services, query(), DEFAULT_RANKING, now);
    expect(degraded).toEqual(['ranking_features_unavailable']);
    expect(
      items
        .map((i) => name(i.contentId))
        .slice(0, 2)
        .sort(),
    ).toEqual(['lighthouse', 'storms']);
  });

  it('fails only when no retriever can answer', async () => {
    const services = testServices({
      UPSTASH_VECTOR_REST_URL: DEAD_URL,
      DATABASE_URL: DEAD_DATABASE_URL,
    });
    await expect(retrieve(services, query(), DEFAULT_RANKING, now)).rejects.toThrow();
  });

  it('keeps to the locale and filters asked for', async () => {
    const services = testServices();
    const arabic = await retrieve(
      services,
      query({ text: 'المنارة', locale: 'ar' }),
      DEFAULT_RANKING,
      now,
    );
    expect(arabic.items.map((i) => [name(i.contentId), i.locale])).toEqual([['lighthouse', 'ar']]);
    const tagged = await retrieve(
      services,
      query({ filters: { tags: ['sea'] } }),
      DEFAULT_RANKING,
      now,
    );
    expect(tagged.items.map((i) => name(i.contentId))).toEqual(['lighthouse']);
  });
});

describe('rank and facets', () => {
  const item = (contentId: string, fields: Partial<FoundItem> = {}): FoundItem => ({
    contentId,
    locale: 'en',
    keyword: 1,
    semantic: null,
    fused: 0.5,
    title: contentId,
    categoryId: null,
    tags: [],
    publishedAt: '2026-11-01T00:00:00.000Z',
    popularity: 0,
    ...fields,
  });
  const items = [
    item('a', { fused: 1, publishedAt: '2025-01-01T00:00:00.000Z', tags: ['x'] }),
    item('b', { fused: 0.9, popularity: 1, categoryId: 'cat_1', tags: ['x', 'y'] }),
    item('c', { fused: 0.5, publishedAt: null, locale: 'ar', categoryId: 'cat_1' }),
  ];

  it('orders by final score, newest or most popular, and explains every score', () => {
    const order = (sort: 'relevance' | 'newest' | 'popular', affinity = new Map()) =>
      rank(items, DEFAULT_RANKING, affinity, sort, now).map((r) => r.contentId);
    expect(order('relevance')).toEqual(['b', 'a', 'c']);
    expect(order('newest')).toEqual(['b', 'a', 'c']);
    expect(order('popular')).toEqual(['b', 'a', 'c']);
    const ranked = rank(items, DEFAULT_RANKING, new Map([['cat_1', 1]]), 'relevance', now);
    expect(ranked.find((r) => r.contentId === 'c')!.score).toMatchObject({
      fused: 0.5,
      personal: 1,
      freshness: 0,
    });
    const plain = {
      ...DEFAULT_RANKING,
      weights: { relevance: 1, popularity: 0, freshness: 0, personal: 0 },
    };
    expect(rank(items, plain, new Map(), 'relevance', now).map((r) => r.contentId)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('counts categories, tags and locales over every found item', () => {
    expect(facets(items)).toEqual({
      category: [{ value: 'cat_1', count: 2 }],
      tags: [
        { value: 'x', count: 2 },
        { value: 'y', count: 1 },
      ],
      locale: [
        { value: 'en', count: 2 },
        { value: 'ar', count: 1 },
      ],
    });
  });
});
