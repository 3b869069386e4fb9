import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, events } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Trending = {
  recomm_id: string;
  window: string;
  items: {
    id: string;
    title: string;
    score: number;
    explain?: { current: number; baseline: number; expected: number; readers: number };
  }[];
};

const HOUR = 3_600_000;
let orgId: string;
let auth: Record<string, string>;
let categoryId: string;
const ids: Record<string, string> = {};

/** `count` views of `name` spread evenly over [from, to) hours ago, one reader each. */
function views(
  org: string,
  name: string,
  count: number,
  fromHours: number,
  toHours: number,
  locale = 'en',
) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(now - (fromHours - ((fromHours - toHours) * (i + 0.5)) / count) * HOUR);
    return {
      id: newId('event', at.getTime()),
      occurredAt: at,
      orgId: org,
      type: 'content.viewed',
      anonymousId: `trend-${name}-${fromHours}-${i}`,
      contentId: ids[name]!,
      data: { locale },
    };
  });
}

beforeAll(async () => {
  const tenant = await createTenant('trending');
  orgId = tenant.orgId;
  auth = bearer((await tokenFor(tenant.owner)).token);
  categoryId = newId('category');
  await testDb()
    .insert(categories)
    .values({ id: categoryId, orgId, slug: 'news', names: { en: 'News' } });
  const item = async (
    name: string,
    status: 'published' | 'draft' = 'published',
    category?: string,
    tags: string[] = [],
  ) => {
    ids[name] = (
      await insertContent(orgId, {
        status,
        publishedAt: status === 'published' ? new Date('2026-11-01T00:00:00Z') : null,
        translations: { en: { title: `The ${name} story`, body: 'Body.' } },
        ...(category ? { categoryId: category } : {}),
        tags,
      })
    ).id;
  };
  await item('steady', 'published', undefined, ['storm']);
  await item('rising', 'published', categoryId, ['storm']);
  await item('fresh', 'published', undefined, ['local']);
  await item('quiet');
  await item('draft', 'draft');
  const other = await createTenant('trending-other');
  await testDb()
    .insert(events)
    .values([
      // A steady favourite: 10 a day for 8 days; as many today as usual.
      ...views(orgId, 'steady', 80, 8 * 24, 0),
      // Rising: 2 a day for the 7 days before the window, then 30 in the last 24 hours (5 of
      // them in the last hour).
      ...views(orgId, 'rising', 14, 8 * 24, 24),
      ...views(orgId, 'rising', 25, 24, 1),
      ...views(orgId, 'rising', 5, 1, 0),
      // New: nothing before, 6 today, all from Arabic readers.
      ...views(orgId, 'fresh', 6, 24, 1, 'ar'),
      // Too little to count: 2 today.
      ...views(orgId, 'quiet', 2, 24, 1),
      // A draft with plenty: never shown.
      ...views(orgId, 'draft', 50, 24, 1),
      // Another organisation's events naming this organisation's item move nothing here.
      ...views(other.orgId, 'quiet', 500, 24, 1),
    ]);
});

const trending = async (query = '') => {
  const response = await call(`/v1/trending?${query}`, { headers: auth });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Trending;
};

describe('GET /v1/trending', () => {
  it('ranks items by how far above their own baseline they are, not by raw counts', async () => {
    const answer = await trending('explain=true');
    expect(answer.window).toBe('24h');
    expect(answer.recomm_id).toMatch(/^rec_/);
    expect(answer.items.map((i) => i.id)).toEqual([ids.rising, ids.fresh]);
    const [rising, fresh] = answer.items;
    expect(rising!.explain).toEqual({ current: 30, baseline: 14, expected: 2, readers: 30 });
    expect(rising!.score).toBeCloseTo(28 / Math.sqrt(2), 10);
    // No history: expected is the prior, 1.
    expect(fresh!.explain).toMatchObject({ current: 6, baseline: 0, expected: 1 });
    expect(fresh!.score).toBeCloseTo(5, 10);
    expect(rising!.title).toBe('The rising story');
    expect((await trending()).items[0]).not.toHaveProperty('explain');
  });

  it('measures the window asked for, and filters by category and readers’ language', async () => {
    const hour = await trending('window=1h&explain=true');
    expect(hour.items.map((i) => i.id)).toEqual([ids.rising]);
    expect(hour.items[0]!.explain).toMatchObject({ current: 5 });
    expect((await trending(`category=${categoryId}`)).items.map((i) => i.id)).toEqual([ids.rising]);
    expect((await trending('locale=ar')).items.map((i) => i.id)).toEqual([ids.fresh]);
    expect((await trending('limit=1')).items).toHaveLength(1);
    // Over 7 days against the 28 before, the steady item has no past to beat.
    const week = await trending('window=7d&explain=true');
    expect(week.items.find((i) => i.id === ids.steady)?.explain).toMatchObject({ current: 70 });
  });

  it.each([
    ['window=2h', 'query.window', 'must be one of 1h, 24h, 7d'],
    ['limit=0', 'query.limit', 'must be at least 1'],
    ['limit=51', 'query.limit', 'must be at most 50'],
    ['category=cat_1', 'query.category.0', 'category id'],
    ['locale=%00', 'query.locale', ''],
    ['explain=perhaps', 'query.explain', 'must be true or false'],
    ['since=yesterday', 'query.since', 'unknown parameter'],
  ])('refuses %s naming the parameter', async (query, path, message) => {
    const problem = await expectProblem(
      await call(`/v1/trending?${query}`, { headers: auth }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe(path);
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('names the categories and tags rising, from their items’ summed engagement', async () => {
    const response = await call('/v1/trending/facets?explain=true', { headers: auth });
    expect(response.status).toBe(200);
    const facets = (await response.json()) as {
      categories: { id: string; slug: string; score: number; explain: unknown }[];
      tags: { tag: string; score: number; explain: { current: number; expected: number } }[];
    };
    expect(facets.categories).toEqual([
      {
        id: categoryId,
        slug: 'news',
        score: 28 / Math.sqrt(2),
        explain: { current: 30, baseline: 14, expected: 2 },
      },
    ]);
    // storm: the rising and the steady item together, 40 against 84 over the week before.
    expect(facets.tags.map((t) => t.tag)).toEqual(['storm', 'local']);
    expect(facets.tags[0]!.explain).toMatchObject({ current: 40, expected: 12 });
    expect(facets.tags[0]!.score).toBeCloseTo(28 / Math.sqrt(12), 10);
    const ar = (await (await call('/v1/trending/facets?locale=ar', { headers: auth })).json()) as {
      categories: unknown[];
      tags: { tag: string }[];
    };
    expect(ar.categories).toEqual([]);
    expect(ar.tags.map((t) => t.tag)).toEqual(['local']);
    for (const [query, path] of [
      ['limit=21', 'query.limit'],
      ['window=1d', 'query.window'],
      ['explain=yes', 'query.explain'],
      ['tags=storm', 'query.tags'],
    ] as const) {
      const problem = await expectProblem(
        await call(`/v1/trending/facets?${query}`, { headers: auth }),
        400,
      );
      expect(problem.errors?.[0]?.path, query).toBe(path);
    }
  });

  it('answers 503 when Postgres is down', async () => {
    const response = await call(
      '/v1/trending',
      { headers: auth },
      { DATABASE_URL: DEAD_DATABASE_URL },
    );
    await expectProblem(response, 503);
  });
});
