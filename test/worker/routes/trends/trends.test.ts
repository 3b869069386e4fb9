import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, DEAD_DATABASE_URL, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { insertTopic } from './fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type Trends = {
  window: string;
  items: { id: string; label: string; lifecycle: string | null; score: number; url: string }[];
  next_cursor: string | null;
};

const HOUR = 3_600_000;
let auth: Record<string, string>;
let categoryId: string;
const ids: Record<string, string> = {};
let otherTopic: string;

beforeAll(async () => {
  const tenant = await createTenant('trends-routes');
  auth = bearer((await tokenFor(tenant.owner)).token);
  categoryId = newId('category');
  await testDb()
    .insert(categories)
    .values({ id: categoryId, orgId: tenant.orgId, slug: 'energy', names: { en: 'Energy' } });
  const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR);
  ids.emerging = await insertTopic(tenant.orgId, {
    label: 'Emerging',
    lifecycle: 'emerging',
    score: 9,
    categoryId,
    locales: ['ar', 'en'],
  });
  ids.rising = await insertTopic(tenant.orgId, { label: 'Rising', lifecycle: 'rising', score: 7 });
  ids.peaking = await insertTopic(tenant.orgId, {
    label: 'Peaking',
    lifecycle: 'peaking',
    score: 3,
    locales: ['ar-EG'],
    lastSignificantAt: hoursAgo(5),
  });
  ids.declining = await insertTopic(tenant.orgId, {
    label: 'Declining',
    lifecycle: 'declining',
    score: -1,
    lastSignificantAt: hoursAgo(72),
  });
  ids.quiet = await insertTopic(tenant.orgId, {
    label: 'Quiet',
    lifecycle: null,
    score: 0,
    lastSignificantAt: null,
  });
  const other = await createTenant('trends-routes-other');
  otherTopic = await insertTopic(other.orgId, { label: 'Elsewhere', score: 100 });
});

const trends = async (query = '') => {
  const response = await call(`/v1/trends?${query}`, { headers: auth });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as Trends;
};

describe('GET /v1/trends', () => {
  it('lists the organisation’s topics significant in the window, best score first', async () => {
    const day = await trends();
    expect(day.window).toBe('24h');
    expect(day.items.map((t) => t.label)).toEqual(['Emerging', 'Rising', 'Peaking']);
    expect(day.items[0]).toMatchObject({ id: ids.emerging, url: `/v1/trends/${ids.emerging}` });
    expect((await trends('window=7d')).items.map((t) => t.label)).toEqual([
      'Emerging',
      'Rising',
      'Peaking',
      'Declining',
    ]);
    expect((await trends('window=1h')).items.map((t) => t.label)).toEqual(['Emerging', 'Rising']);
  });

  it('filters by lifecycle, category and language', async () => {
    expect((await trends('lifecycle=emerging,rising')).items.map((t) => t.label)).toEqual([
      'Emerging',
      'Rising',
    ]);
    expect(
      (await trends('lifecycle=peaking&lifecycle=declining&window=7d')).items.map((t) => t.label),
    ).toEqual(['Peaking', 'Declining']);
    expect((await trends(`category=${categoryId}`)).items.map((t) => t.label)).toEqual([
      'Emerging',
    ]);
    // ar matches ar and ar-EG.
    expect((await trends('locale=ar')).items.map((t) => t.label)).toEqual(['Emerging', 'Peaking']);
  });

  it('pages with limit and cursor, each topic once', async () => {
    const first = await trends('window=7d&limit=3');
    expect(first.items).toHaveLength(3);
    expect(first.next_cursor).not.toBeNull();
    const second = await trends(`window=7d&limit=3&cursor=${first.next_cursor}`);
    expect(second.items.map((t) => t.label)).toEqual(['Declining']);
    expect(second.next_cursor).toBeNull();
  });

  it.each([
    [
      'lifecycle=trending',
      'query.lifecycle.0',
      'must be one of emerging, rising, peaking, declining',
    ],
    ['window=2h', 'query.window', 'must be one of 1h, 24h, 7d'],
    ['window=24h&window=7d', 'query.window', 'must be given once'],
    ['limit=0', 'query.limit', 'must be at least 1'],
    ['limit=51', 'query.limit', 'must be at most 50'],
    ['limit=ten', 'query.limit', 'must be a number'],
    ['limit=1&limit=2', 'query.limit', 'must be given once'],
    ['category=cat_1', 'query.category.0', 'category id'],
    ['locale=%ED%A0%80', 'query.locale', ''],
    ['locale=en%00', 'query.locale', ''],
    ['lifecycle=%E2%80%AEgnisir', 'query.lifecycle.0', 'must be one of'],
    ['cursor=not-a-cursor', 'query.cursor', 'must be a cursor from a previous page'],
    ['since=yesterday', 'query.since', 'unknown parameter'],
  ])('refuses %s naming the field', async (query, path, message) => {
    const problem = await expectProblem(await call(`/v1/trends?${query}`, { headers: auth }), 400);
    expect(problem.errors?.[0]?.path).toBe(path);
    expect(problem.errors?.[0]?.message).toContain(message);
  });

  it('answers 503 when Postgres is down', async () => {
    await expectProblem(
      await call('/v1/trends', { headers: auth }, { DATABASE_URL: DEAD_DATABASE_URL }),
      503,
    );
  });
});

describe('GET /v1/trends/{id}', () => {
  it('answers the topic with its keywords, an empty series and lineage when it has none', async () => {
    const response = await call(`/v1/trends/${ids.peaking}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: ids.peaking,
      label: 'Peaking',
      status: 'active',
      merged_into: null,
      lifecycle: 'peaking',
      keywords: { ar: [], en: ['topic'] },
      locales: ['ar-EG'],
      series: [],
      items: [],
      lineage: [],
    });
  });

  it('answers 404 for another organisation’s topic and for one that does not exist', async () => {
    await expectProblem(await call(`/v1/trends/${otherTopic}`, { headers: auth }), 404);
    await expectProblem(await call(`/v1/trends/${newId('topic')}`, { headers: auth }), 404);
  });

  it.each([
    ['/v1/trends/top_123', 'path.id', '"top_" and 26 characters'],
    [`/v1/trends/${newId('content')}`, 'path.id', 'must be a topic id'],
    ['/v1/trends/top_01jd5x3k7yf0v9r2m4q6s8t1w%ED%A0%80', 'path', ''],
    [`/v1/trends/${newId('topic')}?limit=51`, 'query.limit', 'must be at most 50'],
    [`/v1/trends/${newId('topic')}?window=1h`, 'query.window', 'unknown parameter'],
    [`/v1/trends/${newId('topic')}?locale=en&locale=ar`, 'query.locale', 'must be given once'],
  ])('refuses %s naming the field', async (path, field, message) => {
    const problem = await expectProblem(await call(path, { headers: auth }), 400);
    expect(problem.errors?.[0]?.path).toBe(field);
    expect(problem.errors?.[0]?.message).toContain(message);
  });
});
