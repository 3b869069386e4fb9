import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../../../shared/auth/permissions.ts';
import { loadSnapshots } from '../../../../shared/content/store.ts';
import { auditLog, categories, organizations } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { indexContent } from '../../../../shared/search/index-entry.ts';
import { bumpIndexVersions } from '../../../../shared/search/index-version.ts';
import { DEFAULT_RANKING } from '../../../../shared/search/ranking.ts';
import { forgetRankingSettings, rankingSettings } from '../../../../shared/search/settings.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb, testServices, untilQuiet } from '../../helpers.ts';
import { insertContent } from '../content/fixtures.ts';
import { auditedEventually, insertKey, json, signedIn } from '../keys/fixtures.ts';

type Weights = { relevance: number; popularity: number; freshness: number; personal: number };
type Effective = {
  fusion: 'rrf' | 'weighted';
  semantic_weight: number;
  weights: Weights;
  category_weights: Record<string, Weights>;
  freshness_half_life_days: number;
};
type Settings = Effective & { defaults: Effective; stored: Record<string, unknown> | null };
type Auth = Record<string, string>;

const PATH = '/v1/search/settings';
const ETAG = /^"[0-9a-f]{32}"$/;
const FRESHNESS_ONLY = { relevance: 0, popularity: 0, freshness: 1, personal: 0 };
const RELEVANCE_ONLY = { relevance: 1, popularity: 0, freshness: 0, personal: 0 };

async function read(auth: Auth) {
  const response = await call(PATH, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return { body: (await response.json()) as Settings, etag: response.headers.get('ETag')! };
}

async function put(auth: Auth, body: unknown, headers: Auth = {}) {
  const response = await call(PATH, json('PUT', body, { ...auth, ...headers }));
  expect(response.status, await response.clone().text()).toBe(200);
  return { body: (await response.json()) as Settings, etag: response.headers.get('ETag')! };
}

/** The organisation's whole `settings` column, as stored. */
async function storedSettings(orgId: string) {
  const [row] = await testDb()
    .select({ settings: organizations.settings })
    .from(organizations)
    .where(eq(organizations.id, orgId));
  return row!.settings;
}

async function setSettings(orgId: string, settings: Record<string, unknown>) {
  await testDb().update(organizations).set({ settings }).where(eq(organizations.id, orgId));
}

async function insertCategory(orgId: string, options: { deleted?: boolean } = {}) {
  const id = newId('category');
  await testDb()
    .insert(categories)
    .values({
      id,
      orgId,
      slug: `cat-${id.slice(-10).toLowerCase()}`,
      names: { en: 'Category' },
      ...(options.deleted ? { deletedAt: new Date() } : {}),
    });
  return id;
}

async function keyAuth(orgId: string, scopes: Permission[]): Promise<Auth> {
  return bearer((await insertKey(orgId, { scopes })).secret);
}

// Audit events are written by the EVENTS consumer after the responses.
afterAll(() => untilQuiet(), 40_000);

describe('GET /v1/search/settings', () => {
  it('answers the defaults for a fresh organisation, nothing stored, with an ETag', async () => {
    const { auth } = await signedIn('rank-get');
    const { body, etag } = await read(auth);
    expect(body).toEqual({ ...DEFAULT_RANKING, defaults: DEFAULT_RANKING, stored: null });
    expect(etag).toMatch(ETAG);
  });

  it('answers 304 to If-None-Match naming the current ETag, and 200 once it changed', async () => {
    const { auth } = await signedIn('rank-get-304');
    const { etag } = await read(auth);
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const response = await call(PATH, { headers: { ...auth, 'If-None-Match': tag } });
      expect(response.status, tag).toBe(304);
      expect(response.headers.get('ETag')).toBe(etag);
      expect(await response.text()).toBe('');
    }
    await put(auth, { fusion: 'weighted' });
    const changed = await call(PATH, { headers: { ...auth, 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('ETag')).not.toBe(etag);
  });

  it('applies stored settings over the defaults, and the defaults when they do not validate', async () => {
    const { auth, orgId } = await signedIn('rank-get-direct');
    await setSettings(orgId, { search: { fusion: 'weighted', semantic_weight: 0.9 } });
    const { body } = await read(auth);
    expect(body).toMatchObject({ fusion: 'weighted', semantic_weight: 0.9 });
    expect(body.weights).toEqual(DEFAULT_RANKING.weights);
    expect(body.stored).toEqual({ fusion: 'weighted', semantic_weight: 0.9 });

    const broken = { fusion: 'weighted', weights: { relevance: -1 } };
    await setSettings(orgId, { search: broken });
    const fallback = (await read(auth)).body;
    expect(fallback).toEqual({ ...DEFAULT_RANKING, defaults: DEFAULT_RANKING, stored: broken });
  });
});

describe('PUT /v1/search/settings', () => {
  it("stores the fields given over the defaults and leaves the organisation's other settings", async () => {
    const { auth, orgId } = await signedIn('rank-put');
    await setSettings(orgId, { features: { beta: true }, theme: 'dark' });
    const before = await read(auth);
    const change = { fusion: 'weighted', semantic_weight: 0.8, freshness_half_life_days: 7 };
    const written = await put(auth, change);
    expect(written.body).toEqual({
      ...DEFAULT_RANKING,
      ...change,
      defaults: DEFAULT_RANKING,
      stored: change,
    });
    expect(written.etag).toMatch(ETAG);
    expect(written.etag).not.toBe(before.etag);
    expect(await read(auth)).toEqual(written);
    expect(await storedSettings(orgId)).toEqual({
      features: { beta: true },
      theme: 'dark',
      search: change,
    });

    // A write replaces what was stored: fields it leaves out go back to the defaults.
    const next = await put(auth, { weights: FRESHNESS_ONLY });
    expect(next.body).toMatchObject({ ...DEFAULT_RANKING, weights: FRESHNESS_ONLY });
    expect(next.body.stored).toEqual({ weights: FRESHNESS_ONLY });
    expect(await storedSettings(orgId)).toEqual({
      features: { beta: true },
      theme: 'dark',
      search: { weights: FRESHNESS_ONLY },
    });

    // `{}` resets: nothing stored, the ETag of the untouched organisation comes back.
    const reset = await put(auth, {});
    expect(reset.body).toEqual({ ...DEFAULT_RANKING, defaults: DEFAULT_RANKING, stored: null });
    expect(reset.etag).toBe(before.etag);
    expect(await storedSettings(orgId)).toEqual({ features: { beta: true }, theme: 'dark' });
  });

  it("stores weights for the organisation's categories", async () => {
    const { auth, orgId } = await signedIn('rank-put-category');
    const sea = await insertCategory(orgId);
    const land = await insertCategory(orgId);
    const categoryWeights = {
      [sea]: FRESHNESS_ONLY,
      [land]: { relevance: 0.5, popularity: 0.5, freshness: 0, personal: 0 },
    };
    const written = await put(auth, { category_weights: categoryWeights });
    expect(written.body.category_weights).toEqual(categoryWeights);
    expect(written.body.weights).toEqual(DEFAULT_RANKING.weights);
    expect((await read(auth)).body.category_weights).toEqual(categoryWeights);
  });

  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['an unknown fusion method', { fusion: 'linear' }, 'body.fusion', /rrf.*weighted/],
    [
      'a semantic weight above 1',
      { semantic_weight: 1.5 },
      'body.semantic_weight',
      /^must be at most 1$/,
    ],
    ['a semantic weight as a string', { semantic_weight: '0.5' }, 'body.semantic_weight', /number/],
    [
      'a negative weight',
      { weights: { ...RELEVANCE_ONLY, popularity: -0.1 } },
      'body.weights.popularity',
      /^must be at least 0$/,
    ],
    [
      'a weight above 10',
      { weights: { ...RELEVANCE_ONLY, freshness: 11 } },
      'body.weights.freshness',
      /^must be at most 10$/,
    ],
    [
      'weights that are all 0',
      { weights: { relevance: 0, popularity: 0, freshness: 0, personal: 0 } },
      'body.weights',
      /at least one weight above 0/,
    ],
    [
      'weights missing one',
      { weights: { relevance: 1 } },
      'body.weights.popularity',
      /^is required$/,
    ],
    ['an unknown field', { fusion: 'rrf', boost: 2 }, 'body.boost', /^unknown field; accepted: /],
    [
      'an unknown weight',
      { weights: { ...RELEVANCE_ONLY, recency: 1 } },
      'body.weights.recency',
      /^unknown field; accepted: relevance, popularity, freshness, personal$/,
    ],
    [
      'a half-life of 0',
      { freshness_half_life_days: 0 },
      'body.freshness_half_life_days',
      /^must be at least 0\.1$/,
    ],
    [
      'a category key that is not a category id',
      { category_weights: { sea: RELEVANCE_ONLY } },
      'body.category_weights.sea',
      /category id/,
    ],
    [
      "a category's weights that are all 0",
      {
        category_weights: {
          cat_01jd5x3k7yf0v9r2m4q6s8t1wz: {
            relevance: 0,
            popularity: 0,
            freshness: 0,
            personal: 0,
          },
        },
      },
      'body.category_weights.cat_01jd5x3k7yf0v9r2m4q6s8t1wz',
      /at least one weight above 0/,
    ],
  ];

  it.each(cases)('refuses %s with a 400 naming the field', async (_, body, path, rule) => {
    const { auth, orgId } = await signedIn('rank-put-invalid');
    const problem = await expectProblem(await call(PATH, json('PUT', body, auth)), 400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    const error = problem.errors?.find((e) => e.path === path);
    expect(error, JSON.stringify(problem.errors)).toBeDefined();
    expect(error!.message).toMatch(rule);
    expect(await storedSettings(orgId)).toEqual({});
  });

  it('refuses too many categories', async () => {
    const { auth } = await signedIn('rank-put-many');
    const many = Object.fromEntries(
      Array.from({ length: 201 }, () => [newId('category'), RELEVANCE_ONLY]),
    );
    const problem = await expectProblem(
      await call(PATH, json('PUT', { category_weights: many }, auth)),
      400,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'body.category_weights',
        message: 'must have at most 200 categories',
      }),
    ]);
  });

  it("answers 422 naming every category that is not one of the organisation's", async () => {
    const { auth, orgId } = await signedIn('rank-put-422');
    const own = await insertCategory(orgId);
    const deleted = await insertCategory(orgId, { deleted: true });
    const foreign = await insertCategory((await createTenant('rank-put-422-other')).orgId);
    const unknown = newId('category');
    const problem = await expectProblem(
      await call(
        PATH,
        json(
          'PUT',
          {
            weights: FRESHNESS_ONLY,
            category_weights: {
              [own]: RELEVANCE_ONLY,
              [deleted]: RELEVANCE_ONLY,
              [foreign]: RELEVANCE_ONLY,
              [unknown]: RELEVANCE_ONLY,
            },
          },
          auth,
        ),
      ),
      422,
    );
    expect(problem.code).toBe('UNPROCESSABLE');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(
      [deleted, foreign, unknown].map((id) => `body.category_weights.${id}`).sort(),
    );
    expect(
      problem.errors?.every((e) => e.message === 'must be a category of this organisation'),
    ).toBe(true);
    expect(await storedSettings(orgId)).toEqual({});
  });

  it('applies If-Match: the current ETag or * go ahead, a stale or weak one is a 412', async () => {
    const { auth, orgId } = await signedIn('rank-put-if-match');
    const { etag: initial } = await read(auth);
    const first = await put(auth, { fusion: 'weighted' }, { 'If-Match': initial });
    const stale = await expectProblem(
      await call(PATH, json('PUT', { fusion: 'rrf' }, { ...auth, 'If-Match': initial })),
      412,
    );
    expect(stale.code).toBe('PRECONDITION_FAILED');
    expect(stale.current_etag).toBe(first.etag);
    await expectProblem(
      await call(PATH, json('PUT', { fusion: 'rrf' }, { ...auth, 'If-Match': `W/${first.etag}` })),
      412,
    );
    expect(await storedSettings(orgId)).toEqual({ search: { fusion: 'weighted' } });

    const listed = await put(auth, { semantic_weight: 0.3 }, { 'If-Match': `"x", ${first.etag}` });
    const any = await put(auth, { semantic_weight: 0.4 }, { 'If-Match': '*' });
    expect(any.etag).not.toBe(listed.etag);
    expect(any.body.stored).toEqual({ semantic_weight: 0.4 });
  });

  it('is audited with the stored settings before and after', async () => {
    const { auth, member, orgId } = await signedIn('rank-put-audit');
    await setSettings(orgId, { search: { fusion: 'weighted' }, other: 1 });
    const change = { weights: FRESHNESS_ONLY, freshness_half_life_days: 3 };
    await put(auth, change);
    const audited = await auditedEventually('search.settings.update', orgId);
    expect(audited).toMatchObject({
      orgId,
      actorType: 'user',
      actorId: member.userId,
      targetType: 'organization',
      targetId: orgId,
    });
    expect(audited.data).toEqual({ before: { fusion: 'weighted' }, after: change });
  });

  it('records a reset as after: null', async () => {
    const { auth, orgId } = await signedIn('rank-put-audit-reset');
    await setSettings(orgId, { search: { fusion: 'weighted' } });
    await put(auth, {});
    const audited = await auditedEventually('search.settings.update', orgId);
    expect(audited.data).toEqual({ before: { fusion: 'weighted' }, after: null });
    const rows = await testDb().select().from(auditLog).where(eq(auditLog.targetId, orgId));
    expect(rows.filter((r) => r.action === 'search.settings.update')).toHaveLength(1);
  });
});

describe('permissions', () => {
  it('lets a viewer read the settings but not change them (403)', async () => {
    const { orgId, owner } = await createTenant('rank-perm');
    await put(bearer((await tokenFor(owner)).token), { fusion: 'weighted' });
    const viewer = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    expect((await read(viewer)).body.fusion).toBe('weighted');
    const problem = await expectProblem(await call(PATH, json('PUT', {}, viewer)), 403);
    expect(problem.permission).toBe('settings:manage');
    const editor = bearer((await tokenFor(await createMember(orgId, 'editor'))).token);
    await expectProblem(await call(PATH, json('PUT', {}, editor)), 403);
    expect(await storedSettings(orgId)).toEqual({ search: { fusion: 'weighted' } });
  });

  it('lets an API key with settings:manage write, and one with only search read', async () => {
    const { orgId } = await signedIn('rank-perm-key');
    const manager = await keyAuth(orgId, ['settings:manage']);
    expect((await put(manager, { fusion: 'weighted' })).body.fusion).toBe('weighted');
    const audited = await auditedEventually('search.settings.update', orgId);
    expect(audited.actorType).toBe('api_key');
    await expectProblem(await call(PATH, { headers: manager }), 403);
    const searcher = await keyAuth(orgId, ['search']);
    expect((await read(searcher)).body.fusion).toBe('weighted');
    await expectProblem(await call(PATH, json('PUT', {}, searcher)), 403);
  });

  it('answers 401 without credentials', async () => {
    await expectProblem(await call(PATH), 401);
    await expectProblem(await call(PATH, json('PUT', {})), 401);
  });
});

describe('search applies the settings', () => {
  it('re-ranks with the weights written, at once in this isolate, per category too', async () => {
    const { auth, orgId } = await signedIn('rank-e2e');
    const archive = await insertCategory(orgId);
    const day = 86_400_000;
    const ids: Record<string, string> = {};
    // The older item matches "tide" far better; the newer one only mentions it.
    ids.older = (
      await insertContent(orgId, {
        status: 'published',
        categoryId: archive,
        publishedAt: new Date(Date.now() - 90 * day),
        translations: {
          en: { title: 'Tide tables', body: 'Tide times: high tide, low tide, spring tide.' },
        },
      })
    ).id;
    ids.newer = (
      await insertContent(orgId, {
        status: 'published',
        publishedAt: new Date(Date.now() - day),
        translations: {
          en: {
            title: 'Harbour news',
            body: 'The harbour master reports new moorings, a repainted quay and the tide.',
          },
        },
      })
    ).id;
    const services = testServices();
    const snapshots = await loadSnapshots(testDb(), orgId, Object.values(ids));
    for (const snapshot of snapshots.values()) await indexContent(services, snapshot);
    await bumpIndexVersions(services, [orgId]);
    const search = async () => {
      const response = await call('/v1/search?q=tide&mode=keyword&explain=true', {
        headers: auth,
      });
      expect(response.status, await response.clone().text()).toBe(200);
      const { hits } = (await response.json()) as {
        hits: { id: string; score: number; explain: { freshness: number; weights: Weights } }[];
      };
      const name = (id: string) => Object.entries(ids).find(([, v]) => v === id)?.[0];
      return hits.map((hit) => ({ ...hit, name: name(hit.id) }));
    };

    await put(auth, { weights: RELEVANCE_ONLY });
    const byRelevance = await search();
    expect(byRelevance.map((h) => h.name)).toEqual(['older', 'newer']);
    expect(byRelevance.map((h) => h.explain.weights)).toEqual([RELEVANCE_ONLY, RELEVANCE_ONLY]);

    await put(auth, { weights: FRESHNESS_ONLY });
    const byFreshness = await search();
    expect(byFreshness.map((h) => h.name)).toEqual(['newer', 'older']);
    for (const hit of byFreshness) {
      expect(hit.explain.weights).toEqual(FRESHNESS_ONLY);
      expect(hit.score).toBeCloseTo(hit.explain.freshness, 10);
    }
    expect(byFreshness[0]!.explain.freshness).toBeGreaterThan(byFreshness[1]!.explain.freshness);

    // A category's weights replace the organisation's for its items: the older item is ranked
    // by relevance again (it has the best, 1), the newer one still by freshness (below 1).
    await put(auth, { weights: FRESHNESS_ONLY, category_weights: { [archive]: RELEVANCE_ONLY } });
    const mixed = await search();
    expect(mixed.map((h) => [h.name, h.explain.weights])).toEqual([
      ['older', RELEVANCE_ONLY],
      ['newer', FRESHNESS_ONLY],
    ]);
  });

  it('forgets the isolate copy on a write, and keeps no read that began before it', async () => {
    const orgId = (await createTenant('rank-forget')).orgId;
    const services = testServices();
    expect((await rankingSettings(services, orgId)).fusion).toBe('rrf');
    await setSettings(orgId, { search: { fusion: 'weighted' } });
    // The copy holds for SETTINGS_TTL_MS, so a change written behind its back is not seen...
    expect((await rankingSettings(services, orgId)).fusion).toBe('rrf');
    // ...until it is forgotten, as the PUT route does.
    forgetRankingSettings(orgId);
    expect((await rankingSettings(services, orgId)).fusion).toBe('weighted');

    // A read under way when the copy is forgotten answers, but is not kept.
    const inFlight = rankingSettings(services, orgId, Date.now() + 60_000);
    forgetRankingSettings(orgId);
    await inFlight;
    await setSettings(orgId, { search: { fusion: 'rrf', semantic_weight: 0.2 } });
    expect(await rankingSettings(services, orgId, Date.now() + 60_000)).toMatchObject({
      fusion: 'rrf',
      semantic_weight: 0.2,
    });
  });
});
