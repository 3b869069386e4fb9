import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { events } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { bumpIndexVersions } from '../../../../shared/search/index-version.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { recordingQueue } from '../../consumers/deliver.ts';
import {
  call,
  captureLogs,
  createOrg,
  eventually,
  expectProblem,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';
import { insertKey, json } from '../keys/fixtures.ts';

afterAll(() => untilQuiet(), 40_000);

type SearchResult = {
  query_id: string;
  total: number;
  hits: { id: string }[];
  next_cursor: string | null;
};
type Report = {
  from: string;
  to: string;
  top_queries: {
    query: string;
    searches: number;
    clicks: number;
    click_through_rate: number;
    avg_results: number;
  }[];
  zero_result_queries: { query: string; searches: number; last_searched_at: string }[];
  filtered_zero_result_queries: {
    query: string;
    filters: Record<string, unknown> | null;
    searches: number;
    last_searched_at: string;
  }[];
  totals: {
    searches: number;
    clicks: number;
    searches_with_clicks: number;
    click_through_rate: number;
    filtered_searches: number;
    zero_result_rate: number;
    filtered_zero_result_rate: number;
    p50_latency_ms: number | null;
    p95_latency_ms: number | null;
  };
};

/** The `events` row of `type` for `queryId`, once the EVENTS consumer has written it. */
const eventOf = (orgId: string, type: string, queryId: string) =>
  eventually(async () => {
    const [row] = await testDb()
      .select()
      .from(events)
      .where(and(eq(events.orgId, orgId), eq(events.queryId, queryId), eq(events.type, type)));
    return row;
  }, 20_000);

describe('search analytics', () => {
  let orgId: string;
  let ownerId: string;
  let editorAuth: Record<string, string>;
  let viewerAuth: Record<string, string>;
  let viewerId: string;
  let contentId: string;

  beforeAll(async () => {
    const tenant = await createTenant('search-analytics');
    orgId = tenant.orgId;
    ownerId = tenant.owner.userId;
    editorAuth = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    const viewer = await createMember(orgId, 'viewer');
    viewerId = viewer.userId;
    viewerAuth = bearer((await tokenFor(viewer)).token);
    contentId = (
      await insertContent(orgId, {
        status: 'published',
        publishedAt: new Date('2026-11-01T00:00:00Z'),
        translations: {
          en: { title: 'Tidal observatory', body: 'Measuring the tides of the northern bay.' },
        },
      })
    ).id;
    const services = testServices();
    for (const snapshot of (await loadSnapshots(testDb(), orgId, [contentId])).values()) {
      await indexContent(services, snapshot);
    }
    await bumpIndexVersions(services, [orgId]);
  });

  const search = async (query: string, headers: Record<string, string>, overrides = {}) => {
    const response = await call(`/v1/search?${query}`, { headers }, overrides);
    expect(response.status).toBe(200);
    return (await response.json()) as SearchResult;
  };

  describe('recording searches', () => {
    it("records a user's search as a search.performed event with what it did", async () => {
      const result = await search('q=++Tidal++observatory++&mode=keyword', viewerAuth);
      expect(result.total).toBe(1);
      const row = await eventOf(orgId, 'search.performed', result.query_id);
      expect(row).toMatchObject({
        userId: viewerId,
        contentId: null,
        data: {
          query: 'Tidal  observatory',
          normalized: 'tidal observatory',
          mode: 'keyword',
          locale: null,
          result_count: 1,
          latency_ms: expect.any(Number),
          cache: 'miss',
          degraded: false,
          filtered: false,
          filters: null,
        },
      });
      expect(row.id).toMatch(/^evt_/);
      expect(row.data.latency_ms).toBeGreaterThanOrEqual(0);
      expect(row.data).not.toHaveProperty('api_key_id');
      expect(Date.now() - row.occurredAt.getTime()).toBeLessThan(60_000);

      const again = await search('q=++Tidal++observatory++&mode=keyword', viewerAuth);
      expect((await eventOf(orgId, 'search.performed', again.query_id)).data).toMatchObject({
        cache: 'hit',
        result_count: 1,
      });
    });

    it('records a search once, however many of its pages are read', async () => {
      const ids = [];
      for (const title of ['Zephyrine winds', 'Zephyrine sails']) {
        ids.push(
          (await insertContent(orgId, { status: 'published', translations: { en: { title } } })).id,
        );
      }
      const services = testServices();
      for (const snapshot of (await loadSnapshots(testDb(), orgId, ids)).values()) {
        await indexContent(services, snapshot);
      }
      await bumpIndexVersions(services, [orgId]);
      const first = await search('q=zephyrine&mode=keyword&limit=1', viewerAuth);
      expect(first.total).toBe(2);
      const next = await search(
        `q=zephyrine&mode=keyword&limit=1&cursor=${first.next_cursor}`,
        viewerAuth,
      );
      expect(next.query_id).toBe(first.query_id);
      await eventOf(orgId, 'search.performed', first.query_id);
      // A later search's row arriving means anything sent before it has arrived too.
      const later = await search('q=sails&mode=keyword', viewerAuth);
      await eventOf(orgId, 'search.performed', later.query_id);
      const rows = await testDb()
        .select({ id: events.id })
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.queryId, first.query_id)));
      expect(rows).toHaveLength(1);
    });

    it("records an API key's search with the key in data and no user", async () => {
      const key = await insertKey(orgId, { scopes: ['search'] });
      const response = await call(
        '/v1/search',
        json('POST', { q: 'quasar', mode: 'keyword', locale: 'en' }, bearer(key.secret)),
      );
      expect(response.status).toBe(200);
      const result = (await response.json()) as SearchResult;
      const row = await eventOf(orgId, 'search.performed', result.query_id);
      expect(row).toMatchObject({
        userId: null,
        data: { api_key_id: key.id, query: 'quasar', locale: 'en', result_count: 0 },
      });
    });

    it('records the filters a search was narrowed by, under their API names', async () => {
      const response = await call(
        '/v1/search',
        json(
          'POST',
          {
            q: 'tidal',
            mode: 'keyword',
            filters: {
              tags: ['Coast', 'bay'],
              status: ['published'],
              published_from: '2026-10-01T00:00:00Z',
              metadata: { depth: 12, open: true },
            },
          },
          viewerAuth,
        ),
      );
      expect(response.status).toBe(200);
      const result = (await response.json()) as SearchResult;
      expect(result.total).toBe(0);
      const row = await eventOf(orgId, 'search.performed', result.query_id);
      expect(row.data).toMatchObject({
        result_count: 0,
        filtered: true,
        filters: {
          tags: ['coast', 'bay'],
          status: ['published'],
          published_from: '2026-10-01T00:00:00.000Z',
          metadata: { depth: 12, open: true },
        },
      });
      // Only what was given: no empty lists, no absent fields as null.
      expect(Object.keys(row.data.filters as object).sort()).toEqual([
        'metadata',
        'published_from',
        'status',
        'tags',
      ]);
    });

    it('records a search whose filters outgrow the event as filtered, without listing them', async () => {
      const tags = Array.from({ length: 20 }, (_, i) => `${'t'.repeat(60)}${i}`);
      const metadata = Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`field${i}`, 'v'.repeat(200)]),
      );
      const response = await call(
        '/v1/search',
        json(
          'POST',
          { q: 'tidal '.repeat(80).trim(), mode: 'keyword', filters: { tags, metadata } },
          viewerAuth,
        ),
      );
      expect(response.status).toBe(200);
      const result = (await response.json()) as SearchResult;
      const row = await eventOf(orgId, 'search.performed', result.query_id);
      expect(row.data).toMatchObject({ filtered: true, filters: null, result_count: 0 });
      expect(new TextEncoder().encode(JSON.stringify(row.data)).length).toBeLessThanOrEqual(4096);
    });

    it('answers the search when EVENTS refuses the record, and logs a warning', async () => {
      const refused = recordingQueue('EVENTS', { refuse: true });
      const logs = captureLogs();
      let result: SearchResult;
      try {
        result = await search('q=tidal&mode=keyword', viewerAuth, { EVENTS: refused.queue });
      } finally {
        logs.restore();
      }
      expect(result.total).toBe(1);
      const warning = logs.lines.find((line) => line.msg === 'search not recorded');
      expect(warning).toMatchObject({ level: 'warn', query_id: result.query_id });
      expect(String(warning!.error)).toContain('EVENTS refused the message');
    });
  });

  describe('POST /v1/search/clicks', () => {
    const click = (body: unknown, headers = viewerAuth, overrides = {}) =>
      call('/v1/search/clicks', json('POST', body, headers), overrides);
    const valid = () => ({ query_id: newId('query'), content_id: contentId, position: 3 });

    it('records the click under the caller, with its position, and answers 202', async () => {
      const body = valid();
      const response = await click(body);
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ accepted: true });
      const row = await eventOf(orgId, 'search.result_clicked', body.query_id);
      expect(row).toMatchObject({
        userId: viewerId,
        contentId,
        queryId: body.query_id,
        data: { position: 3 },
      });
    });

    it('records an API key click with the key in data', async () => {
      const key = await insertKey(orgId, { scopes: ['search'] });
      const body = { ...valid(), position: 1000 };
      expect((await click(body, bearer(key.secret))).status).toBe(202);
      const row = await eventOf(orgId, 'search.result_clicked', body.query_id);
      expect(row).toMatchObject({ userId: null, data: { position: 1000, api_key_id: key.id } });
    });

    it.each([
      ['a malformed query id', { query_id: 'qry_123' }, 'body.query_id', 'must be a query id'],
      ['a content id as query id', { query_id: newId('content') }, 'body.query_id', 'qry_'],
      ['a number as query id', { query_id: 7 }, 'body.query_id', 'must be a string, not a number'],
      ['a query id as content id', { content_id: newId('query') }, 'body.content_id', 'cnt_'],
      ['no content id', { content_id: undefined }, 'body.content_id', 'is required'],
      ['position 0', { position: 0 }, 'body.position', 'must be at least 1'],
      ['position 1001', { position: 1001 }, 'body.position', 'must be at most 1000'],
      ['a fractional position', { position: 1.5 }, 'body.position', 'must be an integer'],
      ['a string position', { position: '2' }, 'body.position', 'must be a number'],
      [
        'an unknown field',
        { session: 'x' },
        'body.session',
        'unknown field; accepted: query_id, content_id, position',
      ],
    ])('refuses %s with 400 naming the field', async (_, change, path, message) => {
      const body = { ...valid(), ...change };
      const problem = await expectProblem(await click(body), 400);
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors![0]!.path).toBe(path);
      expect(problem.errors![0]!.message).toContain(message);
      const rows = await testDb()
        .select()
        .from(events)
        .where(and(eq(events.orgId, orgId), eq(events.queryId, String(body.query_id))));
      expect(rows).toEqual([]);
    });

    it('answers 503 with Retry-After when EVENTS refuses the click', async () => {
      const refused = recordingQueue('EVENTS', { refuse: true });
      const response = await click(valid(), viewerAuth, { EVENTS: refused.queue });
      const problem = await expectProblem(response, 503);
      expect(problem.code).toBe('SERVICE_UNAVAILABLE');
      expect(response.headers.get('Retry-After')).toBe('5');
    });

    it('needs credentials and the search permission', async () => {
      await expectProblem(await click(valid(), {}), 401);
      const key = await insertKey(orgId, { scopes: ['content:read'] });
      const problem = await expectProblem(await click(valid(), bearer(key.secret)), 403);
      expect(problem.code).toBe('FORBIDDEN');
    });
  });

  describe('GET /v1/analytics/search', () => {
    const report = async (query: string, headers = editorAuth) => {
      const response = await call(`/v1/analytics/search?${query}`, { headers });
      expect(response.status, await response.clone().text()).toBe(200);
      return (await response.json()) as Report;
    };

    const FROM = '2026-10-01T00:00:00.000Z';
    const TO = '2026-10-08T00:00:00.000Z';
    const at = (hours: number) => new Date(Date.parse(FROM) + hours * 3_600_000);

    type Search = {
      typed: string;
      normalized: string;
      results: number;
      latency: number;
      /** As the edge records them; absent: an event from before filters were recorded. */
      filtered?: unknown;
      filters?: Record<string, unknown> | null;
    };
    const searchRow = (org: string, s: Search, occurredAt: Date) => ({
      id: newId('event'),
      occurredAt,
      orgId: org,
      type: 'search.performed',
      userId: ownerId,
      queryId: newId('query'),
      data: {
        query: s.typed,
        normalized: s.normalized,
        mode: 'hybrid',
        locale: null,
        result_count: s.results,
        latency_ms: s.latency,
        cache: 'miss',
        degraded: false,
        ...('filtered' in s ? { filtered: s.filtered, filters: s.filters ?? null } : {}),
      },
    });
    const clickRow = (org: string, queryId: string, occurredAt: Date) => ({
      id: newId('event'),
      occurredAt,
      orgId: org,
      type: 'search.result_clicked',
      userId: ownerId,
      contentId: newId('content'),
      queryId,
      data: { position: 1 },
    });

    /**
     * An organisation whose window holds: "solar panels" 4 times (one typed differently, one
     * at `from` exactly; 10, 8, 6, 4 results; 3 clicks on 2 of them), "tides" 3 times (0, 0, 5
     * results; 1 click), "quasar" twice (no results); latencies 10…90 ms. Outside it: searches
     * a millisecond before `from` and at `to`, a click after `to`. One click in the window is
     * for a search before it. Another organisation has searches and clicks in the same window.
     */
    async function seeded(): Promise<{ org: string; auth: Record<string, string> }> {
      const tenant = await createTenant('analytics-report');
      const org = tenant.orgId;
      const solar = (typed: string, results: number, latency: number) => ({
        typed,
        normalized: 'solar panels',
        results,
        latency,
      });
      const tides = (results: number, latency: number) => ({
        typed: 'Tides',
        normalized: 'tides',
        results,
        latency,
      });
      const quasar = (latency: number) => ({
        typed: 'quasar',
        normalized: 'quasar',
        results: 0,
        latency,
      });
      const s1 = searchRow(org, solar('solar panels', 10, 10), at(0));
      const s2 = searchRow(org, solar('Solar  Panels', 8, 20), at(1));
      const s3 = searchRow(org, solar('solar panels', 6, 30), at(2));
      const s4 = searchRow(org, solar('solar panels', 4, 40), at(3));
      const t1 = searchRow(org, tides(0, 50), at(4));
      const t2 = searchRow(org, tides(5, 60), at(5));
      const t3 = searchRow(org, tides(0, 70), at(30));
      const q1 = searchRow(org, quasar(80), at(6));
      const q2 = searchRow(org, quasar(90), at(20));
      const before = searchRow(org, solar('solar panels', 1, 999), new Date(Date.parse(FROM) - 1));
      const atTo = searchRow(org, quasar(999), new Date(TO));
      const other = await createOrg('analytics-other');
      const otherSearch = searchRow(other, solar('solar panels', 0, 5000), at(1));
      await testDb()
        .insert(events)
        .values([
          s1,
          s2,
          s3,
          s4,
          t1,
          t2,
          t3,
          q1,
          q2,
          before,
          atTo,
          otherSearch,
          clickRow(org, s1.queryId, at(0.1)),
          clickRow(org, s1.queryId, at(0.2)),
          clickRow(org, s2.queryId, at(1.1)),
          clickRow(org, t2.queryId, at(5.1)),
          clickRow(org, before.queryId, at(0.5)),
          clickRow(org, s3.queryId, new Date(TO)),
          clickRow(other, otherSearch.queryId, at(1.1)),
          clickRow(other, s4.queryId, at(3.1)),
        ]);
      const editor = await createMember(org, 'editor');
      return { org, auth: bearer((await tokenFor(editor)).token) };
    }

    let seededAuth: Record<string, string>;
    beforeAll(async () => {
      seededAuth = (await seeded()).auth;
    });

    it('reports top queries, zero-result queries and totals over [from, to)', async () => {
      const body = await report(`from=${FROM}&to=${TO}`, seededAuth);
      expect(body.from).toBe(FROM);
      expect(body.to).toBe(TO);
      expect(body.top_queries).toEqual([
        {
          query: 'solar panels',
          searches: 4,
          clicks: 3,
          click_through_rate: 0.5,
          avg_results: 7,
        },
        {
          query: 'tides',
          searches: 3,
          clicks: 1,
          click_through_rate: expect.closeTo(1 / 3, 10),
          avg_results: expect.closeTo(5 / 3, 10),
        },
        { query: 'quasar', searches: 2, clicks: 0, click_through_rate: 0, avg_results: 0 },
      ]);
      // Both have 2 zero-result searches: the more recently searched comes first.
      expect(body.zero_result_queries).toEqual([
        { query: 'tides', searches: 2, last_searched_at: at(30).toISOString() },
        { query: 'quasar', searches: 2, last_searched_at: at(20).toISOString() },
      ]);
      expect(body.filtered_zero_result_queries).toEqual([]);
      expect(body.totals).toEqual({
        searches: 9,
        clicks: 5,
        searches_with_clicks: 3,
        click_through_rate: expect.closeTo(3 / 9, 10),
        filtered_searches: 0,
        zero_result_rate: expect.closeTo(4 / 9, 10),
        filtered_zero_result_rate: 0,
        p50_latency_ms: 50,
        p95_latency_ms: expect.closeTo(86, 10),
      });
    });

    it('reports filtered searches that found nothing apart from queries that found nothing', async () => {
      const tenant = await createTenant('analytics-filtered');
      const org = tenant.orgId;
      const archive = { tags: ['archive'] };
      const row = (
        normalized: string,
        results: number,
        hours: number,
        filters?: Record<string, unknown> | null,
      ) =>
        searchRow(
          org,
          {
            typed: normalized,
            normalized,
            results,
            latency: 10,
            ...(filters === undefined ? { filtered: false } : { filtered: true, filters }),
          },
          at(hours),
        );
      await testDb()
        .insert(events)
        .values([
          // "reef" finds items, but none tagged archive: the filter excluded them.
          row('reef', 3, 1),
          row('reef', 0, 2, archive),
          row('reef', 0, 3, archive),
          row('reef', 0, 4, { category: ['cat_01jd5x3k7yf0v9r2m4q6s8t1wz'] }),
          row('reef', 2, 5, { tags: ['news'] }),
          // "kraken" finds nothing, with or without filters.
          row('kraken', 0, 6),
          row('kraken', 0, 7, archive),
          // Filters too many to record: filtered, unlisted.
          row('kraken', 0, 8, null),
          // An event from before filters were recorded counts as unfiltered.
          searchRow(org, { typed: 'old', normalized: 'old', results: 0, latency: 10 }, at(9)),
          // Anything but JSON true is not "filtered".
          searchRow(
            org,
            { typed: 'odd', normalized: 'odd', results: 0, latency: 10, filtered: 'true' },
            at(10),
          ),
        ]);
      const body = await report(
        `from=${FROM}&to=${TO}`,
        bearer((await tokenFor(tenant.owner)).token),
      );
      expect(body.zero_result_queries).toEqual([
        { query: 'odd', searches: 1, last_searched_at: at(10).toISOString() },
        { query: 'old', searches: 1, last_searched_at: at(9).toISOString() },
        { query: 'kraken', searches: 1, last_searched_at: at(6).toISOString() },
      ]);
      expect(body.filtered_zero_result_queries).toEqual([
        { query: 'reef', filters: archive, searches: 2, last_searched_at: at(3).toISOString() },
        { query: 'kraken', filters: null, searches: 1, last_searched_at: at(8).toISOString() },
        { query: 'kraken', filters: archive, searches: 1, last_searched_at: at(7).toISOString() },
        {
          query: 'reef',
          filters: { category: ['cat_01jd5x3k7yf0v9r2m4q6s8t1wz'] },
          searches: 1,
          last_searched_at: at(4).toISOString(),
        },
      ]);
      expect(body.totals).toMatchObject({
        searches: 10,
        filtered_searches: 6,
        // 3 of the 4 unfiltered searches found nothing; 5 of the 6 filtered ones.
        zero_result_rate: 0.75,
        filtered_zero_result_rate: expect.closeTo(5 / 6, 10),
      });
      expect(body.top_queries.map((q) => [q.query, q.searches])).toEqual([
        ['reef', 5],
        ['kraken', 3],
        ['odd', 1],
        ['old', 1],
      ]);
    });

    it('keeps each list to limit', async () => {
      const body = await report(`from=${FROM}&to=${TO}&limit=1`, seededAuth);
      expect(body.top_queries.map((q) => q.query)).toEqual(['solar panels']);
      expect(body.zero_result_queries.map((q) => q.query)).toEqual(['tides']);
      expect(body.totals.searches).toBe(9);
    });

    it('covers the last 7 days by default', async () => {
      const tenant = await createTenant('analytics-default');
      const now = Date.now();
      const recent = { typed: 'ebb', normalized: 'ebb', results: 2, latency: 12 };
      await testDb()
        .insert(events)
        .values([
          searchRow(tenant.orgId, recent, new Date(now - 86_400_000)),
          searchRow(tenant.orgId, recent, new Date(now - 8 * 86_400_000)),
        ]);
      const body = await report('', bearer((await tokenFor(tenant.owner)).token));
      expect(Date.parse(body.to)).toBeGreaterThanOrEqual(now);
      expect(Date.parse(body.to) - Date.parse(body.from)).toBe(7 * 86_400_000);
      expect(body.top_queries).toEqual([
        { query: 'ebb', searches: 1, clicks: 0, click_through_rate: 0, avg_results: 2 },
      ]);
      expect(body.totals).toMatchObject({ searches: 1, p50_latency_ms: 12, p95_latency_ms: 12 });
    });

    it('answers an organisation without searches with zeros, not with anyone else’s', async () => {
      const body = await report(`from=${FROM}&to=${TO}`, editorAuth);
      expect(body).toEqual({
        from: FROM,
        to: TO,
        top_queries: [],
        zero_result_queries: [],
        filtered_zero_result_queries: [],
        totals: {
          searches: 0,
          clicks: 0,
          searches_with_clicks: 0,
          click_through_rate: 0,
          filtered_searches: 0,
          zero_result_rate: 0,
          filtered_zero_result_rate: 0,
          p50_latency_ms: null,
          p95_latency_ms: null,
        },
      });
    });

    it('counts searches and clicks made through the API', async () => {
      const tenant = await createTenant('analytics-live');
      const auth = bearer((await tokenFor(tenant.owner)).token);
      const first = await search('q=Kelp+forests&mode=keyword', auth);
      await search('q=kelp+forests&mode=keyword', auth);
      const clicked = await call(
        '/v1/search/clicks',
        json('POST', { query_id: first.query_id, content_id: newId('content'), position: 1 }, auth),
      );
      expect(clicked.status).toBe(202);
      const body = await eventually(async () => {
        const current = await report('', auth);
        return current.totals.searches === 2 && current.totals.clicks === 1 && current;
      }, 20_000);
      expect(body.top_queries).toEqual([
        { query: 'kelp forests', searches: 2, clicks: 1, click_through_rate: 0.5, avg_results: 0 },
      ]);
      expect(body.zero_result_queries).toEqual([
        { query: 'kelp forests', searches: 2, last_searched_at: expect.any(String) },
      ]);
    });

    it('counts a filtered search made through the API apart from the query finding nothing', async () => {
      const tenant = await createTenant('analytics-live-filtered');
      const auth = bearer((await tokenFor(tenant.owner)).token);
      await search('q=Kelp+forests&mode=keyword&tags=Archive', auth);
      await search('q=kelp+forests&mode=keyword', auth);
      const body = await eventually(async () => {
        const current = await report('', auth);
        return current.totals.searches === 2 && current;
      }, 20_000);
      expect(body.zero_result_queries).toEqual([
        { query: 'kelp forests', searches: 1, last_searched_at: expect.any(String) },
      ]);
      expect(body.filtered_zero_result_queries).toEqual([
        {
          query: 'kelp forests',
          filters: { tags: ['archive'] },
          searches: 1,
          last_searched_at: expect.any(String),
        },
      ]);
      expect(body.totals).toMatchObject({
        filtered_searches: 1,
        zero_result_rate: 1,
        filtered_zero_result_rate: 1,
      });
    });

    it.each([
      ['from=yesterday', 'query.from', 'must be an RFC 3339 date-time'],
      ['to=2026-10-08T00:00:00', 'query.to', 'must be an RFC 3339 date-time'],
      [`from=${TO}&to=${FROM}`, 'query.to', 'must be later than from'],
      [`from=${FROM}&to=${FROM}`, 'query.to', 'must be later than from'],
      ['from=2999-01-01T00:00:00Z', 'query.from', 'must be earlier than to'],
      [`from=2026-07-09T23:59:59Z&to=${TO}`, 'query.from', 'must be at most 90 days before to'],
      ['limit=0', 'query.limit', 'must be at least 1'],
      ['limit=101', 'query.limit', 'must be at most 100'],
      ['limit=ten', 'query.limit', 'must be a number'],
    ])('refuses %s with 400 naming the field', async (query, path, message) => {
      const response = await call(`/v1/analytics/search?${query}`, { headers: editorAuth });
      const problem = await expectProblem(response, 400);
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors).toEqual([expect.objectContaining({ path })]);
      expect(problem.errors![0]!.message).toContain(message);
    });

    it('accepts a window of exactly 90 days and offsets other than Z', async () => {
      const body = await report(`from=2026-07-10T00:00:00Z&to=${TO}`);
      expect(body.from).toBe('2026-07-10T00:00:00.000Z');
      const offset = await report(
        `from=${encodeURIComponent('2026-10-01T03:00:00+03:00')}&to=${TO}`,
        seededAuth,
      );
      expect(offset.from).toBe(FROM);
      expect(offset.totals.searches).toBe(9);
    });

    it('takes plain dates: from at the start of its day, to through the end of its day (UTC)', async () => {
      // [2026-10-01, 2026-10-07] is the same window as [FROM, TO).
      const body = await report('from=2026-10-01&to=2026-10-07', seededAuth);
      expect(body.from).toBe(FROM);
      expect(body.to).toBe(TO);
      expect(body.totals.searches).toBe(9);
      // The one search a millisecond before FROM is on 30 September: a date as `to` includes it.
      const before = await report('from=2026-09-24&to=2026-09-30', seededAuth);
      expect(before.to).toBe(FROM);
      expect(before.totals.searches).toBe(1);
      const exclusive = await report('from=2026-09-24&to=2026-09-30T23:59:59.999Z', seededAuth);
      expect(exclusive.totals.searches).toBe(0);
      await expectProblem(
        await call('/v1/analytics/search?from=2026-10-01&to=2026-02-30', { headers: editorAuth }),
        400,
      );
    });

    it('needs analytics:read: viewers and keys without it get 403, editors and keys with it 200', async () => {
      const viewer = await expectProblem(
        await call('/v1/analytics/search', { headers: viewerAuth }),
        403,
      );
      expect(viewer.code).toBe('FORBIDDEN');
      const searchOnly = await insertKey(orgId, { scopes: ['search'] });
      await expectProblem(
        await call('/v1/analytics/search', { headers: bearer(searchOnly.secret) }),
        403,
      );
      const reader = await insertKey(orgId, { scopes: ['analytics:read'] });
      expect((await call('/v1/analytics/search', { headers: bearer(reader.secret) })).status).toBe(
        200,
      );
      await report('', editorAuth);
      await expectProblem(await call('/v1/analytics/search'), 401);
    });
  });
});
