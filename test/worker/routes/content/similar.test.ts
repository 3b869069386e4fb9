import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { categories, events } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_URL, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { json } from '../keys/fixtures.ts';
import { insertContent, publishIndexed } from './fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Similar = {
  item_id: string;
  recomm_id: string;
  readers: number;
  items: {
    id: string;
    locale: string | null;
    title: string;
    score: number;
    explain?: { content: number; co_engagement: number; content_share: number };
  }[];
  degraded_reasons: string[];
};

let orgId: string;
let auth: Record<string, string>;
const ids: Record<string, string> = {};

async function publish(
  name: string,
  translations: Record<string, { title: string; body: string }>,
  extra: { categoryId?: string; tags?: string[]; status?: 'published' | 'draft' } = {},
  org = orgId,
) {
  const options = {
    translations,
    ...(extra.categoryId ? { categoryId: extra.categoryId } : {}),
    ...(extra.tags ? { tags: extra.tags } : {}),
  };
  ids[name] =
    extra.status === 'draft'
      ? (await insertContent(org, { ...options, status: 'draft' })).id
      : await publishIndexed(org, options);
  return ids[name];
}

beforeAll(async () => {
  const tenant = await createTenant('similar');
  orgId = tenant.orgId;
  auth = bearer((await tokenFor(tenant.owner)).token);
  const energy = { id: newId('category') };
  await testDb()
    .insert(categories)
    .values({ id: energy.id, orgId, slug: 'energy', names: { en: 'Energy' } });
  await publish(
    'rooftops',
    {
      en: {
        title: 'Solar panels spread across city rooftops',
        body: 'Homeowners install solar panels to cut electricity bills with sunlight.',
      },
    },
    { categoryId: energy.id, tags: ['solar'] },
  );
  await publish(
    'farms',
    {
      en: {
        title: 'Solar farms now power a third of the grid',
        body: 'Large photovoltaic solar plants feed sunlight-made electricity to the grid.',
      },
    },
    { categoryId: energy.id, tags: ['solar', 'grid'] },
  );
  await publish('football', {
    en: {
      title: 'Football final ends in a penalty shoot-out',
      body: 'The striker scored twice before the goalkeeper saved the last penalty.',
    },
  });
  await publish(
    'wind',
    {
      en: {
        title: 'Offshore wind turbines reach record output',
        body: 'Wind farms at sea generated more electricity than ever this winter.',
      },
    },
    { categoryId: energy.id, tags: ['wind'] },
  );
  await publish('arabic', {
    ar: {
      title: 'الألواح الشمسية على أسطح المنازل',
      body: 'يركب السكان الألواح الشمسية لخفض فواتير الكهرباء.',
    },
  });
  await publish(
    'draft',
    { en: { title: 'Solar panels draft', body: 'Solar panels and sunlight electricity.' } },
    { status: 'draft' },
  );
  // Another organisation's solar article: never a neighbour here.
  const other = await createTenant('similar-other');
  await publish(
    'theirs',
    { en: { title: 'Solar panels on rooftops', body: 'Solar panels and sunlight electricity.' } },
    {},
    other.orgId,
  );
});

const similar = async (id: string, query = '', overrides = {}) => {
  const response = await call(`/v1/content/${id}/similar?${query}`, { headers: auth }, overrides);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Similar;
};

describe('GET /v1/content/{id}/similar', () => {
  it('gives an indexed item its content neighbours with no events at all', async () => {
    const answer = await similar(ids.rooftops!, 'explain=true');
    expect(answer.item_id).toBe(ids.rooftops);
    expect(answer.recomm_id).toMatch(/^rec_/);
    expect(answer.readers).toBe(0);
    expect(answer.degraded_reasons).toEqual([]);
    const order = answer.items.map((i) => i.id);
    expect(order[0]).toBe(ids.farms);
    expect(order.indexOf(ids.farms!)).toBeLessThan(order.indexOf(ids.football!));
    for (const never of [ids.rooftops, ids.draft, ids.theirs]) expect(order).not.toContain(never);
    expect(answer.items[0]).toMatchObject({
      title: 'Solar farms now power a third of the grid',
      locale: 'en',
      explain: { co_engagement: 0, content_share: 1 },
    });
    expect(answer.items[0]!.score).toBeCloseTo(answer.items[0]!.explain!.content, 10);
    const plain = await similar(ids.rooftops!);
    expect(plain.items[0]).not.toHaveProperty('explain');
    expect(plain.recomm_id).not.toBe(answer.recomm_id);
  });

  it('filters by category, tags, locale and exclusions, and takes a limit', async () => {
    const inCategory = await similar(ids.rooftops!, `category=${await categoryOf('farms')}`);
    expect(new Set(inCategory.items.map((i) => i.id))).toEqual(new Set([ids.farms, ids.wind]));
    const tagged = await similar(ids.rooftops!, 'tags=wind');
    expect(tagged.items.map((i) => i.id)).toEqual([ids.wind]);
    const arabic = await similar(ids.rooftops!, 'locale=ar');
    expect(arabic.items.map((i) => [i.id, i.locale])).toEqual([[ids.arabic, 'ar']]);
    const excluded = await similar(ids.rooftops!, `exclude=${ids.farms},${ids.wind}`);
    expect(excluded.items.map((i) => i.id)).not.toContain(ids.farms);
    expect(excluded.items.map((i) => i.id)).not.toContain(ids.wind);
    expect((await similar(ids.rooftops!, 'limit=1')).items).toHaveLength(1);
  });

  it('blends in co-engagement (content weighs 20 / (20 + readers)); another organisation’s events move nothing', async () => {
    // 25 sessions read the rooftops article and the football final: an odd pair, but the readers'.
    const now = Date.now();
    const batch = Array.from({ length: 25 }, (_, s) =>
      ['rooftops', 'football'].map((name, k) => ({
        event_id: `sim-${s}-${k}`,
        type: k === 0 ? 'content.viewed' : 'content.clicked',
        content_id: ids[name],
        occurred_at: new Date(now - 60_000 + k * 1_000).toISOString(),
        session_id: `similar-session-${s}`,
      })),
    ).flat();
    const sent = await call('/v1/events', json('POST', { events: batch }, auth));
    expect(sent.status).toBe(202);
    await eventually(async () => {
      const rows = await testDb()
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.contentId, ids.football!)));
      return rows.length >= 25;
    }, 20_000);
    const answer = await similar(ids.rooftops!, 'explain=true');
    expect(answer.readers).toBe(25);
    const football = answer.items.find((i) => i.id === ids.football)!;
    expect(football.explain).toMatchObject({ co_engagement: 1 });
    expect(football.explain!.content_share).toBeCloseTo(20 / 45, 10);
    expect(answer.items[0]!.id).toBe(ids.football);
    // The pair is the readers' both ways: the football final's neighbours now include rooftops.
    const back = await similar(ids.football!, 'explain=true');
    expect(back.items.find((i) => i.id === ids.rooftops)!.explain!.co_engagement).toBe(1);
    // Another organisation naming these items in its own events changes nothing here.
    const intruder = await createTenant('similar-intruder');
    const intruderAuth = bearer((await tokenFor(intruder.owner)).token);
    const foreign = Array.from({ length: 40 }, (_, s) =>
      ['rooftops', 'wind'].map((name, k) => ({
        event_id: `intrude-${s}-${k}`,
        type: 'content.shared',
        content_id: ids[name],
        occurred_at: new Date(now).toISOString(),
        session_id: `intruder-session-${s}`,
      })),
    ).flat();
    expect((await call('/v1/events', json('POST', { events: foreign }, intruderAuth))).status).toBe(
      202,
    );
    await eventually(async () => {
      const rows = await testDb()
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.orgId, intruder.orgId), eq(events.contentId, ids.wind!)));
      return rows.length >= 40;
    }, 20_000);
    const after = await similar(ids.rooftops!, 'explain=true');
    expect(after.readers).toBe(25);
    expect(after.items.find((i) => i.id === ids.wind)?.explain?.co_engagement ?? 0).toBe(0);
  });

  it.each([
    ['limit=0', 'query.limit', 'must be at least 1'],
    ['limit=51', 'query.limit', 'must be at most 50'],
    ['limit=many', 'query.limit', 'must be a number'],
    ['exclude=cnt_1', 'query.exclude.0', 'must be a content id'],
    ['locale=not%20a%20tag', 'query.locale', ''],
    ['category=cat_x', 'query.category.0', 'category id'],
    ['explain=maybe', 'query.explain', 'must be true or false'],
    ['colour=red', 'query.colour', 'unknown parameter'],
  ])('refuses %s naming the parameter', async (query, path, message) => {
    const response = await call(`/v1/content/${ids.rooftops}/similar?${query}`, { headers: auth });
    const problem = await expectProblem(response, 400);
    expect(problem.errors?.[0]?.path).toBe(path);
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('refuses 101 exclusions, a malformed id, and answers 404 for an unknown or another organisation’s item', async () => {
    const many = Array.from({ length: 101 }, () => newId('content')).join(',');
    const problem = await expectProblem(
      await call(`/v1/content/${ids.rooftops}/similar?exclude=${many}`, { headers: auth }),
      400,
    );
    expect(problem.errors?.[0]).toMatchObject({ path: 'query.exclude' });
    await expectProblem(await call('/v1/content/nope/similar', { headers: auth }), 400);
    await expectProblem(
      await call(`/v1/content/${newId('content')}/similar`, { headers: auth }),
      404,
    );
    await expectProblem(await call(`/v1/content/${ids.theirs}/similar`, { headers: auth }), 404);
  });

  // Last: a dead index opens this isolate's vector breaker for a while.
  it('answers from co-engagement alone when the index is down, and says so', async () => {
    const answer = await similar(ids.rooftops!, '', { UPSTASH_VECTOR_REST_URL: DEAD_URL });
    expect(answer.degraded_reasons).toEqual(['content_neighbours_unavailable']);
    expect(answer.items.map((i) => i.id)).toEqual([ids.football]);
  });
});

async function categoryOf(name: string): Promise<string | null> {
  const snapshot = (await loadSnapshots(testDb(), orgId, [ids[name]!])).get(ids[name]!);
  return snapshot?.category_id ?? null;
}
