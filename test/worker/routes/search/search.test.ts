import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { categories, content } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { bumpIndexVersions } from '../../../../shared/search/index-version.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import {
  call,
  DEAD_DATABASE_URL,
  DEAD_URL,
  expectProblem,
  testDb,
  testServices,
  untilQuiet,
} from '../../helpers.ts';
import { insertContent, type TestContent } from '../content/fixtures.ts';
import { insertKey, json } from '../keys/fixtures.ts';

afterEach(() => resetBreakers());
afterAll(() => untilQuiet(), 40_000);

type Hit = {
  id: string;
  locale: string;
  title: string;
  snippet: string;
  url: string;
  category_id: string | null;
  tags: string[];
  published_at: string | null;
  score: number;
  explain?: Record<string, unknown>;
};
type Result = {
  query_id: string;
  query: {
    text: string;
    normalized: string;
    language: string | null;
    classification: string;
    did_you_mean: string | null;
    corrections: { from: string; to: string }[];
    synonyms: string[];
  };
  mode: string;
  degraded: boolean;
  degraded_reasons: string[];
  total: number;
  hits: Hit[];
  facets: Record<string, { value: string; count: number }[]> | null;
  next_cursor: string | null;
};

describe('search', () => {
  let orgId: string;
  let auth: Record<string, string>;
  let ownerAuth: Record<string, string>;
  let categoryId: string;
  const ids: Record<string, string> = {};
  const name = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0];

  const publish = async (key: string, options: TestContent) => {
    ids[key] = (
      await insertContent(orgId, {
        status: 'published',
        publishedAt: new Date('2026-11-01T00:00:00Z'),
        ...options,
      })
    ).id;
  };
  const indexAll = async () => {
    const services = testServices();
    const snapshots = await loadSnapshots(testDb(), orgId, Object.values(ids));
    for (const snapshot of snapshots.values()) await indexContent(services, snapshot);
    await bumpIndexVersions(services, [orgId]);
  };

  beforeAll(async () => {
    const tenant = await createTenant('search');
    orgId = tenant.orgId;
    ownerAuth = bearer((await tokenFor(tenant.owner)).token);
    auth = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    categoryId = newId('category');
    await testDb()
      .insert(categories)
      .values({ id: categoryId, orgId, slug: 'sea', names: { en: 'Sea' } });
    await publish('lighthouse', {
      categoryId,
      tags: ['sea', 'history'],
      metadata: { region: 'north', featured: true },
      translations: {
        en: {
          title: 'Lighthouse keepers',
          body: 'Keeping the lamp lit through winter storms on the northern coast.',
        },
        ar: { title: 'حراس المنارة', body: 'إبقاء المصباح مضاءً في عواصف الشتاء.' },
      },
    });
    await publish('storms', {
      tags: ['weather'],
      translations: { en: { title: 'Winter storms', body: 'Gales and storms at sea all winter.' } },
    });
    await publish('bread', {
      translations: { en: { title: 'Sourdough bread', body: 'Flour, water and patience.' } },
    });
    await publish('solar', {
      translations: {
        en: { title: 'Photovoltaic panels', body: 'Rooftop photovoltaic arrays for homes.' },
      },
    });
    await indexAll();
  });

  const get = (query: string, headers = auth, overrides = {}) =>
    call(`/v1/search?${query}`, { headers }, overrides);
  const ok = async (response: Response) => {
    expect(response.status).toBe(200);
    return (await response.json()) as Result;
  };
  const names = (result: Result) => result.hits.map((h) => name(h.id));

  it('finds, highlights and explains, with facets and a query id', async () => {
    const result = await ok(await get('q=winter+storms&explain=true'));
    expect(names(result).slice(0, 2).sort()).toEqual(['lighthouse', 'storms']);
    expect(result.query_id).toMatch(/^qry_/);
    expect(result).toMatchObject({ mode: 'hybrid', degraded: false, degraded_reasons: [] });
    expect(result.query).toMatchObject({
      text: 'winter storms',
      normalized: 'winter storms',
      language: 'en',
      did_you_mean: null,
    });
    const storms = result.hits.find((h) => name(h.id) === 'storms')!;
    expect(storms.title).toBe('<mark>Winter</mark> <mark>storms</mark>');
    expect(storms.snippet).toContain('<mark>storms</mark>');
    expect(storms.url).toBe(`/v1/content/${ids.storms}?locale=en`);
    expect(storms.explain).toMatchObject({
      keyword: expect.any(Number),
      semantic: expect.any(Number),
      fused: expect.any(Number),
      popularity: 0,
      freshness: expect.any(Number),
      personal: 0,
      final: storms.score,
    });
    expect(result.hits[0]!.explain!.fused).toBe(1);
    expect(result.facets!.tags).toEqual(
      expect.arrayContaining([
        { value: 'sea', count: 1 },
        { value: 'weather', count: 1 },
      ]),
    );
    expect(result.hits.every((h) => h.explain !== undefined)).toBe(true);
    const plain = await ok(await get('q=winter+storms&facets=false'));
    expect(plain.facets).toBeNull();
    expect(plain.hits.every((h) => h.explain === undefined)).toBe(true);
  });

  it('searches by keyword or by meaning', async () => {
    const keyword = await ok(await get('q=gales&mode=keyword'));
    expect(names(keyword)).toEqual(['storms']);
    expect(keyword.hits[0]!.snippet).toContain('<mark>Gales</mark>');
    const semantic = await ok(await get('q=lighthouse+keeper&mode=semantic'));
    expect(names(semantic)[0]).toBe('lighthouse');
  });

  it('searches Arabic, in the locale asked for', async () => {
    const result = await ok(await get(`q=${encodeURIComponent('المنارة')}&locale=ar`));
    expect(result.hits.map((h) => [name(h.id), h.locale])).toEqual([['lighthouse', 'ar']]);
    expect(result.hits[0]!.title).toBe('حراس <mark>المنارة</mark>');
    expect(result.query.language).toBe('ar');
  });

  it('filters by category, tags and metadata, by GET and by POST', async () => {
    expect(names(await ok(await get(`q=storms&category=${categoryId}`)))).toEqual(['lighthouse']);
    expect(names(await ok(await get('q=storms&tags=weather,none')))).toEqual(['storms']);
    expect(names(await ok(await get('q=storms&tags=none&tags=weather')))).toEqual(['storms']);
    const both = names(await ok(await get('q=storms&tags=weather&tags=sea')));
    expect(both.sort()).toEqual(['lighthouse', 'storms']);
    expect(names(await ok(await get('q=storms&meta.region=north')))).toEqual(['lighthouse']);
    const posted = await ok(
      await call(
        '/v1/search',
        json('POST', { q: 'storms', filters: { metadata: { featured: true } } }, auth),
      ),
    );
    expect(names(posted)).toEqual(['lighthouse']);
    const none = await ok(
      await call(
        '/v1/search',
        json('POST', { q: 'storms', filters: { metadata: { featured: 'true' } } }, auth),
      ),
    );
    expect(none.hits).toEqual([]);
  });

  it('matches GET metadata values typed: numbers and booleans as such or as text', async () => {
    // lighthouse holds featured: true (a boolean), region: 'north'; sundial holds the number
    // 2024 and the string "true"; almanac the string "2024".
    await publish('sundial', {
      metadata: { year: 2024, featured: 'true' },
      translations: { en: { title: 'Sundial tides', body: 'Tides read from a sundial.' } },
    });
    await publish('almanac', {
      metadata: { year: '2024', rank: 1.5 },
      translations: { en: { title: 'Tides almanac', body: 'Tide tables for the year.' } },
    });
    await indexAll();
    const sorted = async (query: string) => names(await ok(await get(query))).sort();
    for (const mode of ['keyword', 'hybrid']) {
      expect(await sorted(`q=tides&mode=${mode}&meta.year=2024`), mode).toEqual([
        'almanac',
        'sundial',
      ]);
      expect(await sorted(`q=tides&mode=${mode}&meta.rank=1.5`), mode).toEqual(['almanac']);
      expect(await sorted(`q=tides&mode=${mode}&meta.year=2023&meta.year=2024`), mode).toEqual([
        'almanac',
        'sundial',
      ]);
      expect(await sorted(`q=tides&mode=${mode}&meta.year=2024&meta.rank=1.5`), mode).toEqual([
        'almanac',
      ]);
    }
    expect(await sorted('q=tides+storms&meta.featured=true')).toEqual(['lighthouse', 'sundial']);
    // Postgres answers the same when the index is down.
    const degraded = await ok(
      await get('q=tides+tables&meta.year=2024', auth, { UPSTASH_VECTOR_REST_URL: DEAD_URL }),
    );
    expect(degraded.degraded).toBe(true);
    expect(names(degraded).sort()).toEqual(['almanac', 'sundial']);
    // POST is typed: the number matches the number only, and an array is any of its values.
    const typed = async (metadata: unknown) =>
      names(
        await ok(
          await call('/v1/search', json('POST', { q: 'tides', filters: { metadata } }, auth)),
        ),
      ).sort();
    expect(await typed({ year: 2024 })).toEqual(['sundial']);
    expect(await typed({ year: '2024' })).toEqual(['almanac']);
    expect(await typed({ year: [2024, '2024'] })).toEqual(['almanac', 'sundial']);
  });

  it('takes plain dates for published_from and published_to, the upper one inclusive', async () => {
    // Everything here was published at 2026-11-01T00:00:00Z.
    const count = async (query: string) => (await ok(await get(`q=storms&${query}`))).total;
    expect(await count('published_from=2026-11-01')).toBeGreaterThan(0);
    expect(await count('published_from=2026-11-02')).toBe(0);
    expect(await count('published_to=2026-11-01')).toBeGreaterThan(0);
    expect(await count('published_to=2026-10-31')).toBe(0);
    expect(await count('published_to=2026-11-01T00:00:00Z')).toBe(0);
    const posted = await ok(
      await call(
        '/v1/search',
        json('POST', { q: 'storms', filters: { published_to: '2026-10-31' } }, auth),
      ),
    );
    expect(posted.total).toBe(0);
  });

  it('refuses a query that normalises to nothing, by GET and by POST', async () => {
    const empty = [
      '\u200b',
      '\u200b\u200c\u200d\u2060\ufeff',
      '...',
      '?!',
      '"',
      '-',
      '\u3000\u00a0',
      '\u0640\u064e',
    ];
    for (const q of empty) {
      const byGet = await expectProblem(await get(`q=${encodeURIComponent(q)}`), 400);
      expect(byGet.errors, JSON.stringify(q)).toEqual([
        expect.objectContaining({
          path: 'query.q',
          message: q.trim() ? expect.stringMatching(/word/) : 'must not be empty',
        }),
      ]);
      const byPost = await expectProblem(await call('/v1/search', json('POST', { q }, auth)), 400);
      expect(
        byPost.errors?.map((e) => e.path),
        JSON.stringify(q),
      ).toEqual(['body.q']);
    }
    // A word among the noise is a query.
    expect((await get(`q=${encodeURIComponent('\u200bstorms...')}`)).status).toBe(200);
  });

  it('refuses invalid percent-encoding in the query string', async () => {
    for (const raw of ['%E0%A4%A', '%ZZ', '%ED%A0%80', '%C3', '%FF', 'storms%']) {
      const problem = await expectProblem(await get(`q=${raw}`), 400);
      expect(problem.errors, raw).toEqual([
        expect.objectContaining({
          path: 'query.q',
          message: expect.stringMatching(/percent-encoding/),
        }),
      ]);
    }
    const other = await expectProblem(await get('q=storms&tags=%ZZ'), 400);
    expect(other.errors?.map((e) => e.path)).toEqual(['query.tags']);
    // Well-formed encodings of any script, and `+` for a space, still search.
    expect((await get(`q=${encodeURIComponent('حراس المنارة')}`)).status).toBe(200);
    expect((await get('q=winter+storms')).status).toBe(200);
  });

  it('refuses unknown and repeated single-value parameters, naming them', async () => {
    const unknown = await expectProblem(await get('q=storms&next_cursor=abc'), 400);
    expect(unknown.errors).toEqual([
      expect.objectContaining({
        path: 'query.next_cursor',
        message: expect.stringMatching(/^unknown parameter \(did you mean cursor\?\); accepted: /),
      }),
    ]);
    const tag = await expectProblem(await get('q=storms&tag=sea'), 400);
    expect(tag.errors?.[0]?.message).toMatch(/did you mean tags\?/);
    const twice = await expectProblem(await get('q=storms&q=gales'), 400);
    expect(twice.errors).toEqual([
      expect.objectContaining({
        path: 'query.q',
        message: 'must be given once (it was given 2 times)',
      }),
    ]);
    const both = await expectProblem(await get('q=storms&colour=red&size=9'), 400);
    expect(both.errors?.map((e) => e.path).sort()).toEqual(['query.colour', 'query.size']);
  });

  it('pages with cursors bound to the search', async () => {
    const first = await ok(await get('q=winter+storms+bread&limit=1'));
    expect(first.hits).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await ok(await get(`q=winter+storms+bread&limit=1&cursor=${first.next_cursor}`));
    expect(second.hits).toHaveLength(1);
    expect(second.hits[0]!.id).not.toBe(first.hits[0]!.id);
    // The same search: its pages share one query id.
    expect(second.query_id).toBe(first.query_id);
    const all = await ok(await get('q=winter+storms+bread&limit=50'));
    expect(all.next_cursor).toBeNull();
    expect(all.hits.slice(0, 2).map((h) => h.id)).toEqual([first.hits[0]!.id, second.hits[0]!.id]);
    const other = await get(`q=bread&limit=1&cursor=${first.next_cursor}`);
    const problem = await expectProblem(other, 400);
    expect(problem.errors?.[0]?.path).toBe('query.cursor');
    await expectProblem(await get('q=bread&cursor=not-a-cursor'), 400);
    const posted = await expectProblem(
      await call('/v1/search', json('POST', { q: 'bread', cursor: first.next_cursor }, auth)),
      400,
    );
    expect(posted.errors?.map((e) => e.path)).toEqual(['body.cursor']);
  });

  it('corrects typos from the organisation vocabulary and still finds the item', async () => {
    const result = await ok(await get('q=lighthuose&mode=keyword'));
    expect(result.query.did_you_mean).toBe('lighthouse');
    expect(result.query.corrections).toEqual([
      { from: 'lighthuose', to: 'lighthouse', distance: 1 },
    ]);
    expect(names(result)).toEqual(['lighthouse']);
    expect(result.hits[0]!.title).toBe('<mark>Lighthouse</mark> keepers');
  });

  it("expands the organisation's synonyms", async () => {
    const created = await call(
      '/v1/search/synonyms',
      json(
        'POST',
        { locale: 'en', kind: 'multi_way', terms: ['solar', 'photovoltaic'] },
        ownerAuth,
      ),
    );
    expect(created.status).toBe(201);
    const result = await ok(await get('q=solar&mode=keyword&locale=en'));
    expect(result.query.synonyms).toEqual(['photovoltaic']);
    expect(names(result)).toEqual(['solar']);
    expect(result.hits[0]!.title).toBe('<mark>Photovoltaic</mark> panels');
  });

  it('caches results per index version: a hit until the index changes', async () => {
    const first = await get('q=patience&mode=keyword');
    expect(first.headers.get('server-timing')).toContain('cache;desc="miss"');
    expect(names(await ok(first))).toEqual(['bread']);
    const again = await get('q=patience&mode=keyword');
    expect(again.headers.get('server-timing')).toContain('cache;desc="hit"');
    expect(names(await ok(again))).toEqual(['bread']);
    await publish('patience', {
      translations: { en: { title: 'Patience', body: 'Waiting is an art.' } },
    });
    await indexAll();
    const after = await get('q=patience&mode=keyword');
    expect(after.headers.get('server-timing')).toContain('cache;desc="miss"');
    expect(names(await ok(after)).sort()).toEqual(['bread', 'patience']);
  });

  it('drops an item deleted since it was indexed', async () => {
    const id = (
      await insertContent(orgId, {
        status: 'published',
        translations: { en: { title: 'Ephemeral zeppelin', body: 'Gone soon.' } },
      })
    ).id;
    const [snapshot] = (await loadSnapshots(testDb(), orgId, [id])).values();
    await indexContent(testServices(), snapshot!);
    await testDb().update(content).set({ deletedAt: new Date() }).where(eq(content.id, id));
    const result = await ok(await get('q=zeppelin&mode=keyword'));
    expect(result.hits).toEqual([]);
  });

  it('falls back to Postgres when the vector index is down, marked degraded', async () => {
    const result = await ok(
      await get('q=gales+storms&mode=hybrid', auth, { UPSTASH_VECTOR_REST_URL: DEAD_URL }),
    );
    expect(result).toMatchObject({ degraded: true, degraded_reasons: ['vector_unavailable'] });
    // Any of the words; the item with both first.
    expect(names(result)).toEqual(['storms', 'lighthouse']);
    expect(result.hits[0]!.title).toBe('Winter <mark>storms</mark>');
    expect(result.hits[0]!.explain).toBeUndefined();
  });

  it('answers from the keyword side when the embedding model is down, marked degraded', async () => {
    const down = { WORKERS_AI_API_URL: DEAD_URL };
    // Words no other test searches for in this order: no cached results nor query embedding.
    const hybrid = await ok(await get('q=storms+gales&mode=hybrid', auth, down));
    expect(hybrid).toMatchObject({
      degraded: true,
      degraded_reasons: ['semantic_side_unavailable'],
    });
    expect(names(hybrid)).toEqual(['storms', 'lighthouse']);
    // Semantic search has no side left in the index: Postgres answers.
    const semantic = await ok(await get('q=storms+gales&mode=semantic', auth, down));
    expect(semantic.degraded_reasons).toEqual(['vector_unavailable']);
    expect(names(semantic)).toEqual(['storms', 'lighthouse']);
  });

  it('answers from the vector index alone when Postgres is down', async () => {
    const result = await ok(
      await get('q=gales&mode=keyword', auth, { DATABASE_URL: DEAD_DATABASE_URL }),
    );
    expect(result.degraded_reasons).toEqual(['ranking_features_unavailable']);
    expect(names(result)).toEqual(['storms']);
    expect(result.hits[0]!.title).toBe('Winter storms');
  });

  it('answers 503 with Retry-After when neither can answer', async () => {
    const response = await get('q=gales', auth, {
      UPSTASH_VECTOR_REST_URL: DEAD_URL,
      DATABASE_URL: DEAD_DATABASE_URL,
    });
    await expectProblem(response, 503);
    expect(response.headers.get('retry-after')).toBe('5');
  });

  it('refuses bad input, naming the field and the rule', async () => {
    const cases: [string, string][] = [
      ['', 'query.q'],
      ['q=', 'query.q'],
      [`q=${'x'.repeat(501)}`, 'query.q'],
      ['q=a&mode=fuzzy', 'query.mode'],
      ['q=a&sort=random', 'query.sort'],
      ['q=a&limit=0', 'query.limit'],
      ['q=a&limit=51', 'query.limit'],
      ['q=a&status=live', 'query.status.0'],
      ['q=a&category=nope', 'query.category.0'],
      ['q=a&tags=', 'query.tags'],
      ['q=a&published_from=yesterday', 'query.published_from'],
      ['q=a&published_to=2026-02-29', 'query.published_to'],
      ['q=a&explain=maybe', 'query.explain'],
      ['q=a&locale=not_a_locale', 'query.locale'],
      ['q=a&meta.bad-field=1', 'query.meta.bad-field'],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await get(query), 400);
      expect(
        problem.errors?.map((e) => e.path),
        query,
      ).toContain(path);
    }
    const bodies: [unknown, string][] = [
      [{}, 'body.q'],
      [{ q: 'a', extra: 1 }, 'body.extra'],
      [{ q: 'a', filters: { metadata: { a: [] } } }, 'body.filters.metadata.a'],
      [{ q: 'a', filters: { published_from: '2026-1-1' } }, 'body.filters.published_from'],
      [{ q: 'a', filters: { metadata: { 'a b': 1 } } }, 'body.filters.metadata.a b'],
      [{ q: 'a', filters: { metadata: { a: { nested: 1 } } } }, 'body.filters.metadata.a'],
      [{ q: 'a', filters: { tags: Array(21).fill('t') } }, 'body.filters.tags'],
      [{ q: 'a', explain: 'yes' }, 'body.explain'],
    ];
    for (const [body, path] of bodies) {
      const problem = await expectProblem(await call('/v1/search', json('POST', body, auth)), 400);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it('needs the search permission', async () => {
    await expectProblem(await get('q=storms', {}), 401);
    const { secret } = await insertKey(orgId, { scopes: ['content:read'] });
    await expectProblem(await get('q=storms', bearer(secret)), 403);
    const { secret: allowed } = await insertKey(orgId, { scopes: ['search'] });
    expect(names(await ok(await get('q=gales&mode=keyword', bearer(allowed))))).toEqual(['storms']);
  });
});

describe('search relevance floors', () => {
  let orgId: string;
  let auth: Record<string, string>;
  let ownerAuth: Record<string, string>;
  let cycling: string;
  /** Articles about everything but cycling. */
  const UNRELATED: [string, string][] = [
    ['Sourdough bread at home', 'Flour, water, salt and a starter fed every morning.'],
    ['Winter storms at sea', 'Gales batter the harbour walls all season.'],
    ['The history of the printing press', 'Movable type changed how books were made.'],
    ['Rooftop solar panels', 'Photovoltaic arrays lower household electricity bills.'],
    ['Learning the violin as an adult', 'Scales, patience and a good teacher.'],
    ['Coral reefs under pressure', 'Warmer oceans bleach the reefs of the tropics.'],
    ['A guide to tax returns', 'Deductions, deadlines and the forms to file.'],
    ['Growing tomatoes on a balcony', 'Pots, sunlight and regular watering.'],
    ['The economics of airline tickets', 'Fares rise as departure approaches.'],
    ['Caring for an older cat', 'Diet, check-ups and a warm place to sleep.'],
    ['Chess openings for beginners', 'Control the centre and develop the knights.'],
    ['Volcanoes of Iceland', 'Eruptions, lava fields and ash clouds over the Atlantic.'],
    ['Writing a cover letter', 'Say why you want the job and what you bring.'],
    ['The chemistry of coffee roasting', 'Heat turns green beans brown and aromatic.'],
    ['Museums of ancient Egypt', 'Statues, papyri and the tombs of the pharaohs.'],
    ['Saving for retirement', 'Pensions, index funds and compound interest.'],
    ['Knitting a first scarf', 'Wool, two needles and the basic stitches.'],
    ['How vaccines are tested', 'Trials in phases before a licence is granted.'],
    ['Birdwatching in the marshes', 'Herons, waders and a good pair of binoculars.'],
    ['Renting a first apartment', 'Deposits, leases and meeting the landlord.'],
  ];
  const UNRELATED_AR: [string, string][] = [
    ['خبز العجين المخمر في البيت', 'دقيق وماء وملح وخميرة تغذى كل صباح.'],
    ['عواصف الشتاء في البحر', 'رياح عاتية تضرب جدران الميناء طوال الموسم.'],
    ['تاريخ الطباعة', 'غيرت الحروف المتحركة طريقة صناعة الكتب.'],
    ['الألواح الشمسية على الأسطح', 'تخفض الخلايا الكهروضوئية فواتير الكهرباء.'],
    ['الشعاب المرجانية في خطر', 'ترفع المحيطات الدافئة ابيضاض الشعاب.'],
  ];

  beforeAll(async () => {
    const tenant = await createTenant('floors');
    orgId = tenant.orgId;
    ownerAuth = bearer((await tokenFor(tenant.owner)).token);
    auth = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    const publish = async (translations: TestContent['translations']) =>
      (
        await insertContent(orgId, {
          status: 'published',
          publishedAt: new Date('2026-11-01T00:00:00Z'),
          translations,
        })
      ).id;
    cycling = await publish({
      en: {
        title: 'Cycling to work',
        body: 'Commuting by bike: routes, helmets and cycling lanes in the city.',
      },
      ar: {
        title: 'ركوب الدراجات إلى العمل',
        body: 'التنقل بالدراجة: الطرق والخوذات ومسارات الدراجات في المدينة.',
      },
    });
    const ids = [cycling];
    for (const [title, body] of UNRELATED) ids.push(await publish({ en: { title, body } }));
    for (const [title, body] of UNRELATED_AR) ids.push(await publish({ ar: { title, body } }));
    const services = testServices();
    const snapshots = await loadSnapshots(testDb(), orgId, ids);
    for (const snapshot of snapshots.values()) await indexContent(services, snapshot);
    await bumpIndexVersions(services, [orgId]);
  });

  const search = async (query: string, headers = auth) => {
    const response = await call(`/v1/search?${query}`, { headers });
    expect(response.status).toBe(200);
    return (await response.json()) as Result;
  };
  const putSettings = async (settings: Record<string, unknown>) => {
    const response = await call('/v1/search/settings', json('PUT', settings, ownerAuth));
    expect(response.status).toBe(200);
  };
  const collection = 1 + UNRELATED.length + UNRELATED_AR.length;

  it('finds the one relevant item of a collection of unrelated ones, not the collection', async () => {
    for (const q of ['cycling', encodeURIComponent('الدراجات'), 'bicycle+commuting']) {
      for (const mode of ['keyword', 'semantic', 'hybrid'] as const) {
        const result = await search(`q=${q}&mode=${mode}`);
        expect(result.hits[0]?.id, `${q} ${mode}`).toBe(cycling);
        expect(result.total, `${q} ${mode}`).toBeLessThanOrEqual(2);
      }
    }
  });

  it('finds nothing when the collection has nothing about the query', async () => {
    for (const q of ['quantum+chromodynamics', encodeURIComponent('الفيزياء النووية')]) {
      for (const mode of ['keyword', 'semantic', 'hybrid'] as const) {
        expect((await search(`q=${q}&mode=${mode}`)).total, `${q} ${mode}`).toBe(0);
      }
    }
  });

  it("takes its floors from the organisation's search settings", async () => {
    const settings = await call('/v1/search/settings', { headers: auth });
    expect(await settings.json()).toMatchObject({
      semantic_floor: 0.3,
      semantic_only_floor: 0.5,
      semantic_min_similarity: 0.15,
    });
    try {
      // Floors off: the semantic side ranks the whole collection, as it did before floors.
      await putSettings({ semantic_floor: 0, semantic_only_floor: 0, semantic_min_similarity: -1 });
      const off = await search('q=cycling&mode=hybrid');
      expect(off.hits[0]!.id).toBe(cycling);
      expect(off.total).toBe(collection);
      await putSettings({ semantic_min_similarity: 1 });
      expect((await search('q=cycling&mode=semantic')).total).toBe(0);
    } finally {
      await putSettings({});
    }
    expect((await search('q=cycling&mode=hybrid')).total).toBeLessThanOrEqual(2);
    const refused = await call(
      '/v1/search/settings',
      json('PUT', { semantic_floor: 2 }, ownerAuth),
    );
    expect((await expectProblem(refused, 400)).errors?.[0]?.path).toBe('body.semantic_floor');
  });
});
