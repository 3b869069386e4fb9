import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, events } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { diversify, weightsOf } from '../../../../shared/recommend/recommend.ts';
import { bearer, createTenant } from '../../auth.ts';
import { call, DEAD_URL, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { publishIndexed } from '../content/fixtures.ts';
import { insertKey, json } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Parts = {
  collaborative: number;
  session: number;
  category: number;
  trending: number;
  popularity: number;
  freshness: number;
};
type Answer = {
  recomm_id: string;
  strategy: 'personalized' | 'trending';
  history: number;
  co_readers: number;
  items: { id: string; category_id: string | null; score: number; explain?: Parts }[];
  degraded_reasons: string[];
};

let orgId: string;
// An API key: the events it sends name no user, so each session is a reader of its own.
let auth: Record<string, string>;
const ids: Record<string, string> = {};
const category: Record<string, string> = {};
const HOUR = 3_600_000;

const recommendations = async (query: string, overrides = {}) => {
  const response = await call(`/v1/recommendations?${query}`, { headers: auth }, overrides);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Answer;
};

let eventCount = 0;
/** Sends events through the API; waits until Postgres has them when `settle`. */
async function send(
  list: { session: string; name: string; type?: string; locale?: string; at?: number }[],
  settle = true,
  as = auth,
  org = orgId,
) {
  const batch = list.map((e) => ({
    event_id: `rec-${eventCount++}`,
    type: e.type ?? 'content.viewed',
    content_id: ids[e.name],
    occurred_at: new Date(e.at ?? Date.now() - 1_000).toISOString(),
    session_id: e.session,
    ...(e.locale ? { context: { locale: e.locale } } : {}),
  }));
  const response = await call('/v1/events', json('POST', { events: batch }, as));
  expect(response.status).toBe(202);
  expect(((await response.json()) as { accepted: number }).accepted).toBe(batch.length);
  if (!settle) return;
  const sessions = [...new Set(list.map((e) => e.session))];
  await eventually(async () => {
    const [row] = await testDb()
      .select({ n: sql<number>`count(*)::int` })
      .from(events)
      .where(and(eq(events.orgId, org), sql`${events.sessionId} in ${sessions}`));
    return (row?.n ?? 0) >= batch.length;
  }, 20_000);
}

beforeAll(async () => {
  const tenant = await createTenant('recommend');
  orgId = tenant.orgId;
  const key = await insertKey(orgId, { scopes: ['events:write', 'content:read'] });
  auth = bearer(key.secret);
  for (const slug of ['energy', 'sport', 'food']) {
    category[slug] = newId('category');
    await testDb()
      .insert(categories)
      .values({ id: category[slug]!, orgId, slug, names: { en: slug } });
  }
  const item = async (
    name: string,
    slug: string,
    translations: Record<string, { title: string; body: string }>,
  ) => {
    ids[name] = await publishIndexed(orgId, {
      translations,
      categoryId: category[slug]!,
      publishedAt: new Date(Date.now() - 2 * 86_400_000),
    });
  };
  const en = (title: string, body: string) => ({ en: { title, body } });
  await item(
    'rooftops',
    'energy',
    en(
      'Solar panels on city rooftops',
      'Homeowners install solar panels to cut electricity bills with sunlight.',
    ),
  );
  await item(
    'farms',
    'energy',
    en(
      'Solar farms power a third of the grid',
      'Large photovoltaic solar plants feed sunlight-made electricity to the grid.',
    ),
  );
  await item(
    'storage',
    'energy',
    en(
      'Batteries store solar power for the night',
      'Home batteries keep solar electricity from sunny days for the evening.',
    ),
  );
  await item(
    'wind',
    'energy',
    en(
      'Offshore wind turbines reach record output',
      'Wind farms at sea generated more electricity than ever this winter.',
    ),
  );
  await item(
    'football',
    'sport',
    en(
      'Football final ends in a penalty shoot-out',
      'The striker scored twice before the goalkeeper saved the last penalty.',
    ),
  );
  await item(
    'bread',
    'food',
    en(
      'Baking sourdough bread at home',
      'A starter, flour, water and salt make a loaf with a crisp crust.',
    ),
  );
  await item('dates', 'food', {
    en: { title: 'The date harvest begins', body: 'Palm growers pick the first ripe dates.' },
    ar: { title: 'بدء موسم حصاد التمور', body: 'يقطف المزارعون أول التمور الناضجة.' },
  });
  await item('camels', 'sport', {
    en: {
      title: 'Camel racing season opens',
      body: 'Riders and camels gather for the first race.',
    },
    ar: { title: 'افتتاح موسم سباق الهجن', body: 'يجتمع المتسابقون والهجن للسباق الأول.' },
  });
  // Planted structure: twelve readers read the rooftops article and then the sourdough one, an
  // odd pair no text would suggest; Arabic readers read the date harvest, English ones the races.
  await send([
    ...Array.from({ length: 12 }, (_, i) => [
      { session: `pair-${i}`, name: 'rooftops' },
      { session: `pair-${i}`, name: 'bread', type: 'content.clicked' },
    ]).flat(),
    ...Array.from({ length: 6 }, (_, i) => ({ session: `ar-${i}`, name: 'dates', locale: 'ar' })),
    ...Array.from({ length: 6 }, (_, i) => ({ session: `en-${i}`, name: 'camels', locale: 'en' })),
  ]);
});

describe('GET /v1/recommendations', () => {
  it("gives a new reader what is trending among their language's readers (cold start)", async () => {
    const arabic = await recommendations('anonymous_id=newcomer&locale=ar&explain=true');
    expect(arabic).toMatchObject({ strategy: 'trending', history: 0, co_readers: 0 });
    expect(arabic.recomm_id).toMatch(/^rec_/);
    expect(arabic.items[0]!.id).toBe(ids.dates);
    expect(arabic.items[0]!.explain!.trending).toBeGreaterThan(0);
    const english = await recommendations('anonymous_id=newcomer&locale=en');
    expect(english.items[0]!.id).toBe(ids.camels);
    // No reader at all is a new reader too.
    expect((await recommendations('locale=ar')).strategy).toBe('trending');
  });

  it("recommends what readers who share the reader's history also read, and leaves out what they read", async () => {
    await send([{ session: 'me-1', name: 'rooftops' }]);
    const answer = await recommendations('session_id=me-1&explain=true');
    expect(answer).toMatchObject({ strategy: 'personalized', history: 1, co_readers: 12 });
    const order = answer.items.map((i) => i.id);
    expect(order).not.toContain(ids.rooftops);
    const bread = answer.items.find((i) => i.id === ids.bread)!;
    expect(bread.explain!.collaborative).toBeGreaterThan(0);
    expect(order.indexOf(ids.bread!)).toBeLessThan(order.indexOf(ids.football!));
    // The rooftops article's text neighbours come through the session part.
    const farms = answer.items.find((i) => i.id === ids.farms)!;
    expect(farms.explain!.session).toBeGreaterThan(0);
    for (const entry of answer.items) {
      const sum = Object.values(entry.explain!).reduce((a, b) => a + b, 0);
      expect(entry.score).toBeCloseTo(sum, 10);
    }
  });

  it("caches an answer per reader, and the reader's own next event retires it at once", async () => {
    await send([{ session: 'me-2', name: 'rooftops' }]);
    const first = await recommendations('session_id=me-2');
    expect((await recommendations('session_id=me-2')).recomm_id).toBe(first.recomm_id);
    // Another reader's event leaves this reader's answer alone.
    await send([{ session: 'someone-else', name: 'farms' }], false);
    expect((await recommendations('session_id=me-2')).recomm_id).toBe(first.recomm_id);
    // A view a second ago, not yet waited for in Postgres, changes the next answer.
    expect(first.items.map((i) => i.id)).toContain(ids.farms);
    await send([{ session: 'me-2', name: 'farms' }], false);
    const next = await recommendations('session_id=me-2');
    expect(next.recomm_id).not.toBe(first.recomm_id);
    expect(next.history).toBe(2);
    expect(next.items.map((i) => i.id)).not.toContain(ids.farms);
    // Other parameters are another answer.
    expect((await recommendations('session_id=me-2&limit=3')).recomm_id).not.toBe(next.recomm_id);
  });

  it('keeps one category from filling the list while others can', async () => {
    await send([{ session: 'me-3', name: 'farms' }]);
    const answer = await recommendations('session_id=me-3&limit=4');
    expect(answer.items).toHaveLength(4);
    const energy = answer.items.filter((i) => i.category_id === category.energy).length;
    expect(energy).toBeLessThanOrEqual(2);
    // Asked for energy only, the list is all energy.
    const only = await recommendations(`session_id=me-3&limit=4&category=${category.energy}`);
    expect(only.items.length).toBeGreaterThan(2);
    expect(only.items.every((i) => i.category_id === category.energy)).toBe(true);
  });

  it('weighs collaborative filtering by its co-readers: none at 0, half at 20, 0.7 from 47', () => {
    const sum = (w: Record<string, number>) => Object.values(w).reduce((a, b) => a + b, 0);
    for (const n of [0, 1, 20, 47, 1_000])
      expect(sum(weightsOf('personalized', n))).toBeCloseTo(1, 12);
    expect(weightsOf('personalized', 0).collaborative).toBe(0);
    expect(weightsOf('personalized', 20).collaborative).toBeCloseTo(0.5, 12);
    expect(weightsOf('personalized', 47).collaborative).toBeCloseTo(0.7, 2);
    expect(weightsOf('personalized', 1_000).collaborative).toBeCloseTo(0.7, 12);
    expect(weightsOf('trending', 1_000)).toMatchObject({ collaborative: 0, trending: 0.5 });
  });

  it('diversify holds back a category past its share and fills from it only when short', () => {
    const ranked = ['a1', 'a2', 'a3', 'b1', 'a4', 'c1'].map((contentId) => ({ contentId }));
    const of = (id: string) => id[0]!;
    expect(diversify(ranked, of, 4).map((r) => r.contentId)).toEqual(['a1', 'a2', 'b1', 'c1']);
    const one = ['a1', 'a2', 'a3', 'b1'].map((contentId) => ({ contentId }));
    expect(diversify(one, of, 4).map((r) => r.contentId)).toEqual(['a1', 'a2', 'a3', 'b1']);
    // Items without a category are not capped together.
    const none = ['x', 'y', 'z'].map((contentId) => ({ contentId }));
    expect(diversify(none, () => null, 3)).toHaveLength(3);
  });

  it('filters by locale, category, tags and exclusions, and takes a limit', async () => {
    const arabic = await recommendations('session_id=me-1&locale=ar');
    expect(new Set(arabic.items.map((i) => i.id))).toEqual(new Set([ids.dates, ids.camels]));
    const food = await recommendations(`session_id=me-1&category=${category.food}`);
    expect(food.items.every((i) => i.category_id === category.food)).toBe(true);
    const excluded = await recommendations(`session_id=me-1&exclude=${ids.bread}`);
    expect(excluded.items.map((i) => i.id)).not.toContain(ids.bread);
    expect((await recommendations('session_id=me-1&limit=1')).items).toHaveLength(1);
    expect((await recommendations('session_id=me-1&tags=none-such')).items).toEqual([]);
  });

  it("never lets another organisation's events or items into the answer", async () => {
    // (Another limit than the answer below: a cached answer would prove nothing.)
    const before = await recommendations('session_id=me-1&limit=49');
    const intruder = await createTenant('recommend-intruder');
    const key = await insertKey(intruder.orgId, { scopes: ['events:write', 'content:read'] });
    const theirs = await publishIndexed(intruder.orgId, {
      translations: { en: { title: 'Solar panels on rooftops', body: 'Solar sunlight panels.' } },
    });
    // Forty of their readers read our rooftops and wind articles together, by id.
    await send(
      Array.from({ length: 40 }, (_, i) => [
        { session: `intruder-${i}`, name: 'rooftops', type: 'content.shared' },
        { session: `intruder-${i}`, name: 'wind', type: 'content.shared' },
      ]).flat(),
      true,
      bearer(key.secret),
      intruder.orgId,
    );
    const answer = await recommendations('session_id=me-1&explain=true&limit=50');
    expect(answer.co_readers).toBe(before.co_readers);
    expect(answer.items.map((i) => i.id)).not.toContain(theirs);
    expect(answer.items.find((i) => i.id === ids.wind)?.explain?.collaborative ?? 0).toBe(0);
  });

  it.each([
    ['limit=0', 'query.limit', 'must be at least 1'],
    ['limit=51', 'query.limit', 'must be at most 50'],
    ['limit=lots', 'query.limit', 'must be a number'],
    ['session_id=', 'query.session_id', 'must not be empty'],
    ['session_id=has%20space', 'query.session_id', 'printable ASCII'],
    [`anonymous_id=${'a'.repeat(129)}`, 'query.anonymous_id', 'at most 128'],
    ['anonymous_id=%D8%B2%D8%A7%D8%A6%D8%B1', 'query.anonymous_id', 'printable ASCII'],
    ['exclude=cnt_1', 'query.exclude.0', 'must be a content id'],
    ['category=cat_x', 'query.category.0', 'category id'],
    ['locale=not%20a%20tag', 'query.locale', ''],
    ['explain=maybe', 'query.explain', 'must be true or false'],
    ['user_id=usr_x', 'query.user_id', 'unknown parameter'],
  ])('refuses %s naming the parameter', async (query, path, message) => {
    const problem = await expectProblem(
      await call(`/v1/recommendations?${query}`, { headers: auth }),
      400,
    );
    expect(problem.errors?.[0]?.path).toBe(path);
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('needs content:read: a publishable events key is refused', async () => {
    const key = await insertKey(orgId, { scopes: ['events:write'] });
    await expectProblem(await call('/v1/recommendations', { headers: bearer(key.secret) }), 403);
    await expectProblem(await call('/v1/recommendations'), 401);
  });

  it('answers from Postgres alone when Redis is down, and says so', async () => {
    const answer = await recommendations('session_id=me-1', {
      UPSTASH_REDIS_REST_URL: DEAD_URL,
    });
    expect(answer.degraded_reasons).toEqual(['session_events_unavailable']);
    expect(answer.strategy).toBe('personalized');
    expect(answer.items.map((i) => i.id)).toContain(ids.bread);
  });

  // Last: a dead index opens this isolate's vector breaker for a while.
  it('answers without content neighbours when the index is down, and says so', async () => {
    await send([{ session: 'me-9', name: 'rooftops', at: Date.now() - HOUR }]);
    const answer = await recommendations('session_id=me-9', {
      UPSTASH_VECTOR_REST_URL: DEAD_URL,
    });
    expect(answer.degraded_reasons).toEqual(['content_neighbours_unavailable']);
    expect(answer.items.map((i) => i.id)).toContain(ids.bread);
  });
});
