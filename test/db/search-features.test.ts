import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../shared/ids.ts';
import { categoryAffinity, popularity } from '../../shared/search/features.ts';
import { createContent, createTenant } from './fixtures.ts';
import { backends, openDatabase, type TestDatabase } from './harness.ts';

describe.each(backends)('search features (%s)', (backend) => {
  let database: TestDatabase;
  let orgId: string;
  let userId: string;
  let news: string;
  let sport: string;
  let viral: string;
  let steady: string;
  let quiet: string;
  const now = new Date('2026-11-22T12:00:00Z');
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

  const event = (type: string, contentId: string, occurredAt: string, user: string | null = null) =>
    database.query(
      `insert into events (id, occurred_at, org_id, type, user_id, content_id)
       values ($1, $2, $3, $4, $5, $6)`,
      [newId('event'), occurredAt, orgId, type, user, contentId],
    );

  beforeAll(async () => {
    database = await openDatabase(backend);
    ({ orgId, userId, categoryId: news } = await createTenant(database, 'features'));
    sport = newId('category');
    await database.query(
      `insert into categories (id, org_id, slug, names) values ($1, $2, 'sport', '{"en":"Sport"}')`,
      [sport, orgId],
    );
    const item = (categoryId: string) =>
      createContent(database, orgId, [{ locale: 'en', title: 'x', slug: newId('content') }], {
        status: 'published',
        categoryId,
      });
    viral = await item(news);
    steady = await item(sport);
    quiet = await item(sport);
    for (let i = 0; i < 99; i++) await event('content.viewed', viral, daysAgo(1));
    await event('content.viewed', steady, daysAgo(2), userId);
    await event('search.result_clicked', steady, daysAgo(3), userId);
    await event('content.viewed', viral, daysAgo(4), userId);
    // Outside the window, of an unknown type, or in the future: not counted.
    for (let i = 0; i < 50; i++) await event('content.viewed', quiet, daysAgo(31));
    await event('content.updated', quiet, daysAgo(1));
    await event('content.viewed', quiet, new Date(now.getTime() + 60_000).toISOString());
  });
  afterAll(() => database?.close());

  it('log-scales weighted engagement in the window against the most engaged item', async () => {
    const scores = await popularity(database.db, orgId, [viral, steady, quiet], now);
    expect(scores.get(viral)).toBe(1);
    // steady: 1 view + 1 click (weight 2) = 3; viral: 100.
    expect(scores.get(steady)).toBeCloseTo(Math.log1p(3) / Math.log1p(100), 10);
    expect(scores.has(quiet)).toBe(false);
    expect(await popularity(database.db, orgId, [], now)).toEqual(new Map());
    expect(await popularity(database.db, newId('organization'), [viral], now)).toEqual(new Map());
  });

  it("gives a reader's affinity per category, their favourite at 1", async () => {
    const affinity = await categoryAffinity(database.db, orgId, userId, now);
    expect(affinity).toEqual(
      new Map([
        [sport, 1],
        [news, 1 / 3],
      ]),
    );
    expect(await categoryAffinity(database.db, orgId, newId('user'), now)).toEqual(new Map());
  });
});
