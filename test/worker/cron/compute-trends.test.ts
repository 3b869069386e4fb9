import { env } from 'cloudflare:workers';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../shared/content/store.ts';
import {
  content,
  events,
  topicChanges,
  topicMembers,
  topics,
  webhookDeliveries,
} from '../../../shared/db/schema/index.ts';
import { newId } from '../../../shared/ids.ts';
import { indexContent } from '../../../shared/search/index-entry.ts';
import { CLUSTER_DEFAULTS } from '../../../shared/trends/cluster.ts';
import { computeTrends } from '../../../shared/trends/compute.ts';
import { bearer, createTenant, tokenFor } from '../auth.ts';
import { call, eventually, runCron, testDb, testServices, untilQuiet } from '../helpers.ts';
import { insertContent } from '../routes/content/fixtures.ts';
import { insertEndpoint } from '../routes/webhooks/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * The run's clock (the job takes it as `now`): the real time, since the routes answer by it, and
 * events placed after it would not count there yet (at 21:06 the hour has had six minutes).
 */
const NOW = new Date();

const SOLAR_CITIES = ['Cairo', 'Amman', 'Tunis', 'Rabat', 'Doha'];
const solar = (city: string) => ({
  en: {
    title: `Solar panels on rooftops cut electricity bills in ${city}`,
    summary: `Rooftop solar panels cut household electricity bills in ${city}.`,
    body: `Homeowners in ${city} install solar panels on their rooftops to cut electricity bills. Solar panels on rooftops now cut bills in ${city}.`,
  },
});
const football = (city: string) => ({
  en: {
    title: `Football final in ${city} ends in a penalty shoot-out`,
    summary: `The football final in ${city} went to a penalty shoot-out.`,
    body: `The football final in ${city} ended in a penalty shoot-out after the striker scored twice. Football fans in ${city} watched the final penalty shoot-out.`,
  },
});
const energyArabic = (city: string) => ({
  ar: {
    title: `الألواح الشمسية على أسطح المنازل تخفض فواتير الكهرباء في ${city}`,
    summary: `الألواح الشمسية على الأسطح تخفض فواتير الكهرباء في ${city}.`,
    body: `يركب السكان في ${city} الألواح الشمسية على أسطح المنازل لخفض فواتير الكهرباء. الألواح الشمسية على الأسطح تخفض الفواتير في ${city}.`,
  },
});

/** A published, indexed item, published `ageMs` before {@link NOW}. */
async function publish(
  orgId: string,
  translations: Record<string, { title: string; summary: string; body: string }>,
  ageMs: number,
) {
  const { id } = await insertContent(orgId, {
    status: 'published',
    publishedAt: new Date(NOW.getTime() - ageMs),
    translations,
  });
  for (const snapshot of (await loadSnapshots(testDb(), orgId, [id])).values()) {
    expect(await indexContent(testServices(), snapshot)).toMatchObject({ ok: true });
  }
  return id;
}

/**
 * `perHour` views of each of `ids` in each hourly bucket `h` hours before NOW's, for h in
 * [to, from): h = 0 is the current hour (40 minutes so far), so each bucket's views fall in its
 * first 36 minutes.
 */
function views(orgId: string, ids: string[], perHour: number, from: number, to: number) {
  const hour = Math.floor(NOW.getTime() / HOUR) * HOUR;
  // The current hour's views fall in the part of it that has passed.
  const span = (h: number) =>
    h === 0 ? Math.min(0.6 * HOUR, 0.9 * (NOW.getTime() - hour)) : 0.6 * HOUR;
  const rows = [];
  for (const id of ids) {
    for (let h = to; h < from; h++) {
      for (let k = 0; k < perHour; k++) {
        const at = new Date(hour - h * HOUR + ((k + 0.5) / perHour) * span(h));
        rows.push({
          id: newId('event', at.getTime()),
          occurredAt: at,
          orgId,
          type: 'content.viewed',
          anonymousId: `reader-${id}-${h}-${k}`,
          contentId: id,
          data: {},
        });
      }
    }
  }
  return rows;
}

async function insertEvents(rows: (typeof events.$inferInsert)[]) {
  for (let i = 0; i < rows.length; i += 500)
    await testDb()
      .insert(events)
      .values(rows.slice(i, i + 500));
}

const lineage = (orgId: string, topicId: string) =>
  testDb()
    .select({ kind: topicChanges.kind, related: topicChanges.related, size: topicChanges.size })
    .from(topicChanges)
    .where(and(eq(topicChanges.orgId, orgId), eq(topicChanges.topicId, topicId)))
    .orderBy(asc(topicChanges.id));

const topicOf = async (orgId: string, contentId: string) =>
  (
    await testDb()
      .select({ topicId: topicMembers.topicId })
      .from(topicMembers)
      .where(and(eq(topicMembers.orgId, orgId), eq(topicMembers.contentId, contentId)))
  )[0]?.topicId;

describe('compute-trends over real content in the index', () => {
  let orgId: string;
  let auth: Record<string, string>;
  let endpointId: string;
  const solarIds: string[] = [];
  const footballIds: string[] = [];
  const arabicIds: string[] = [];

  beforeAll(async () => {
    const tenant = await createTenant('trends-e2e');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
    endpointId = (await insertEndpoint(orgId, env.SECRETS_KEY, { eventTypes: ['trend.*'] })).id;
    for (const city of SOLAR_CITIES.slice(0, 3))
      solarIds.push(await publish(orgId, solar(city), 5 * DAY));
    for (const city of ['Paris', 'Lima', 'Oslo'])
      footballIds.push(await publish(orgId, football(city), 5 * DAY));
    for (const city of ['القاهرة', 'عمان'])
      arabicIds.push(await publish(orgId, energyArabic(city), 4 * DAY));
    // Everyday reading for five days: two views an hour of each item.
    await insertEvents(views(orgId, [...solarIds, ...footballIds], 2, 5 * 24, 2));
  }, 120_000);

  it('clusters items into topics with keywords, and a topic keeps its id as it grows', async () => {
    const services = testServices();
    // The first run is the cron's own: it finds the organisation (new content) and clusters.
    const cron = await runCron('*/5 * * * *');
    expect(cron?.['compute-trends']).toMatchObject({ organizations: expect.any(Number) });
    const created = await testDb().select().from(topics).where(eq(topics.orgId, orgId));
    expect(created).toHaveLength(3);
    const solarTopic = (await topicOf(orgId, solarIds[0]!))!;
    expect(solarTopic).toMatch(/^top_/);
    for (const id of solarIds) expect(await topicOf(orgId, id)).toBe(solarTopic);
    const footballTopic = await topicOf(orgId, footballIds[0]!);
    expect(footballTopic).not.toBe(solarTopic);
    const arabicTopic = await topicOf(orgId, arabicIds[0]!);
    expect(await topicOf(orgId, arabicIds[1]!)).toBe(arabicTopic);

    const [row] = await testDb().select().from(topics).where(eq(topics.id, solarTopic));
    expect(row).toMatchObject({ status: 'active', size: 3, locales: ['en'] });
    expect(row!.keywords.en).toEqual(expect.arrayContaining(['solar', 'panels']));
    expect(row!.label).toMatch(/^Solar panels on rooftops/);
    const [arabic] = await testDb().select().from(topics).where(eq(topics.id, arabicTopic!));
    expect(arabic!.keywords.ar).toEqual(expect.arrayContaining(['الشمسيه']));

    // Two more solar stories: the same topic, grown, and its lineage says so.
    for (const city of SOLAR_CITIES.slice(3))
      solarIds.push(await publish(orgId, solar(city), 3 * DAY));
    const second = await computeTrends(services, orgId, { now: NOW });
    expect(second).toMatchObject({ clustered: 2, created: 0 });
    for (const id of solarIds) expect(await topicOf(orgId, id)).toBe(solarTopic);
    expect(await lineage(orgId, solarTopic)).toEqual([
      { kind: 'created', related: null, size: 3 },
      { kind: 'grew', related: null, size: 5 },
    ]);
    // A run with nothing new changes no topic.
    expect(await computeTrends(services, orgId, { now: NOW })).toMatchObject({
      clustered: 0,
      created: 0,
    });
  });

  it('detects a burst once: trend.detected reaches the organisation’s channel and its endpoint', async () => {
    const services = testServices();
    const solarTopic = (await topicOf(orgId, solarIds[0]!))!;
    // The last two hours: the solar stories are read ten times as much as usual.
    await insertEvents(views(orgId, solarIds, 25, 2, 0));
    const run = await computeTrends(services, orgId, { now: NOW });
    expect(run.detected).toEqual([solarTopic]);
    const [row] = await testDb().select().from(topics).where(eq(topics.id, solarTopic));
    expect(row).toMatchObject({ lifecycle: 'emerging' });
    expect(row!.score).toBeGreaterThan(4.5);
    expect(row!.detectedAt).not.toBeNull();
    // The steady football topic is scored, not detected (its lifecycle is its birth's, five
    // days ago, when its three items appeared at once: declining since).
    const [steady] = await testDb()
      .select()
      .from(topics)
      .where(eq(topics.id, (await topicOf(orgId, footballIds[0]!))!));
    expect(steady).toMatchObject({ lifecycle: 'declining', detectedAt: null });
    expect(steady!.score).toBeLessThan(4.5);

    const channel = env.REALTIME.get(env.REALTIME.idFromName(`org:${orgId}`));
    await eventually(async () => (await channel.presence()).offset === 1, 20_000);
    const deliveries = () =>
      testDb()
        .select({ eventType: webhookDeliveries.eventType, eventId: webhookDeliveries.eventId })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.endpointId, endpointId));
    expect(
      await eventually(async () => (await deliveries()).length > 0 && deliveries(), 20_000),
    ).toEqual([{ eventType: 'trend.detected', eventId: `${solarTopic}.detected` }]);

    // Later runs send nothing again.
    expect((await computeTrends(services, orgId, { now: NOW })).detected).toEqual([]);
    expect((await computeTrends(services, orgId, { now: NOW })).detected).toEqual([]);
    await untilQuiet({ quietMs: 1_500 });
    expect((await channel.presence()).offset).toBe(1);
    expect(await deliveries()).toHaveLength(1);
  });

  it('answers the topic in GET /v1/trends and GET /v1/trends/{id}', async () => {
    const solarTopic = (await topicOf(orgId, solarIds[0]!))!;
    const list = await call('/v1/trends', { headers: auth });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { items: { id: string; lifecycle: string }[] };
    expect(body.items.map((t) => t.id)).toEqual([solarTopic]);
    const one = await call(`/v1/trends/${solarTopic}?limit=3`, { headers: auth });
    expect(one.status).toBe(200);
    const detail = (await one.json()) as {
      status: string;
      items: {
        id: string;
        title: string;
        score: number;
        trend: { score: number; lifecycle: string };
      }[];
      series: { hour: string; new_items: number; engagement: number }[];
      lineage: { kind: string }[];
      keywords: { en: string[] };
    };
    expect(detail.status).toBe('active');
    expect(detail.items).toHaveLength(3);
    expect(solarIds).toEqual(expect.arrayContaining(detail.items.map((i) => i.id)));
    expect(detail.items[0]!.title).toMatch(/^Solar panels/);
    // Each item carries the burst too: its own trend, scored as topics are.
    for (const item of detail.items) {
      expect(item.trend.lifecycle).toBe('emerging');
      expect(item.trend.score).toBeGreaterThan(4.5);
    }
    // The last two hours: 25 views of each of the five items.
    expect(detail.series.at(-1)).toMatchObject({ engagement: 125 });
    expect(detail.series.reduce((n, s) => n + s.new_items, 0)).toBe(5);
    expect(detail.lineage.map((c) => c.kind)).toEqual(['created', 'grew']);
  });
});

describe('compute-trends records merges in Postgres', () => {
  it('merges topics whose centroids come close: the larger keeps its id, the other names it', async () => {
    const orgId = (await createTenant('trends-merge')).orgId;
    const ids = [];
    for (const city of SOLAR_CITIES.slice(0, 3))
      ids.push(await publish(orgId, solar(city), 2 * DAY));
    const services = testServices();
    // A run that keeps every item apart (nothing is near enough to join or merge)…
    const apart = { ...CLUSTER_DEFAULTS, assign: 0.999, merge: 0.9999 };
    expect(await computeTrends(services, orgId, { now: NOW, cluster: apart })).toMatchObject({
      created: 3,
    });
    const before = await Promise.all(ids.map((id) => topicOf(orgId, id)));
    expect(new Set(before).size).toBe(3);
    // …then, with a fourth story coming in, settings under which they are all one story.
    ids.push(await publish(orgId, solar(SOLAR_CITIES[3]!), DAY));
    const merging = { ...CLUSTER_DEFAULTS, merge: 0.5 };
    expect(await computeTrends(services, orgId, { now: NOW, cluster: merging })).toMatchObject({
      clustered: 1,
      merged: 2,
      created: 0,
    });
    const keeper = (await topicOf(orgId, ids[0]!))!;
    expect(before).toContain(keeper);
    for (const id of ids) expect(await topicOf(orgId, id)).toBe(keeper);
    const gone = await testDb()
      .select({ id: topics.id, status: topics.status, mergedInto: topics.mergedInto })
      .from(topics)
      .where(and(eq(topics.orgId, orgId), eq(topics.status, 'merged')));
    expect(gone.map((g) => g.mergedInto)).toEqual([keeper, keeper]);
    expect((await lineage(orgId, keeper)).map((c) => [c.kind, c.related])).toEqual([
      ['created', null],
      ['absorbed', expect.stringMatching(/^top_/)],
      ['absorbed', expect.stringMatching(/^top_/)],
      ['grew', null],
    ]);
    for (const g of gone) {
      expect((await lineage(orgId, g.id)).map((c) => [c.kind, c.related])).toEqual([
        ['created', null],
        ['merged', keeper],
      ]);
    }
  });
});

describe('compute-trends when items are unpublished', () => {
  it('takes an unpublished item out of its topic, which shrinks, and retires a topic left empty', async () => {
    const orgId = (await createTenant('trends-unpublish')).orgId;
    const ids = [];
    for (const city of SOLAR_CITIES.slice(0, 3)) ids.push(await publish(orgId, solar(city), DAY));
    const lonely = await publish(orgId, football('Quito'), DAY);
    const services = testServices();
    await computeTrends(services, orgId, { now: NOW });
    const topicId = (await topicOf(orgId, ids[0]!))!;
    const footballTopic = (await topicOf(orgId, lonely))!;
    await testDb()
      .update(content)
      .set({ status: 'archived' })
      .where(and(eq(content.orgId, orgId), inArray(content.id, [ids[2]!, lonely])));
    expect(await computeTrends(services, orgId, { now: NOW })).toMatchObject({ retired: 1 });
    expect(await topicOf(orgId, ids[2]!)).toBeUndefined();
    const rows = await testDb()
      .select({ id: topics.id, size: topics.size, status: topics.status })
      .from(topics)
      .where(eq(topics.orgId, orgId))
      .orderBy(asc(topics.id));
    expect(rows.find((r) => r.id === topicId)).toMatchObject({ size: 2, status: 'active' });
    expect(rows.find((r) => r.id === footballTopic)).toMatchObject({ status: 'retired' });
    expect((await lineage(orgId, footballTopic)).map((c) => c.kind)).toEqual([
      'created',
      'retired',
    ]);
  });
});
