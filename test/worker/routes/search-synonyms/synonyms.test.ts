import { env } from 'cloudflare:workers';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import readme from '../../../../README.md?raw';
import type { Permission } from '../../../../shared/auth/permissions.ts';
import { synonyms } from '../../../../shared/db/schema/index.ts';
import { validateEnv } from '../../../../shared/env.ts';
import { newId } from '../../../../shared/ids.ts';
import { createLogger } from '../../../../shared/logger.ts';
import {
  expandQuery,
  loadSynonyms,
  readSynonymsVersion,
  SYNONYM_LIMITS,
} from '../../../../shared/search/synonyms.ts';
import { createServices } from '../../../../shared/services.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, insertKey, json, signedIn } from '../keys/fixtures.ts';

type Synonym = {
  id: string;
  locale: string;
  kind: 'one_way' | 'multi_way';
  root: string | null;
  terms: string[];
  created_by: string | null;
  created_at: string;
  updated_at: string;
};
type Page = { items: Synonym[]; next_cursor: string | null };
type Auth = Record<string, string>;

const PATH = '/v1/search/synonyms';
const FIELDS = [
  'created_at',
  'created_by',
  'id',
  'kind',
  'locale',
  'root',
  'terms',
  'updated_at',
].sort();

const MULTI = { locale: 'en', kind: 'multi_way', terms: ['car', 'automobile'] };
const ONE_WAY = { locale: 'en', kind: 'one_way', root: 'ai', terms: ['artificial intelligence'] };

async function create(auth: Auth, body: unknown = MULTI): Promise<Synonym> {
  const response = await call(PATH, json('POST', body, auth));
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as Synonym;
}

async function read(auth: Auth, id: string) {
  const response = await call(`${PATH}/${id}`, { headers: auth });
  expect(response.status).toBe(200);
  return { body: (await response.json()) as Synonym, etag: response.headers.get('ETag')! };
}

async function listPage(auth: Auth, query = ''): Promise<Page> {
  const response = await call(`${PATH}${query}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

async function stored(id: string) {
  const [row] = await testDb().select().from(synonyms).where(eq(synonyms.id, id));
  return row;
}

/** An API key of `orgId` with `scopes`, as a bearer header. */
async function keyAuth(orgId: string, scopes: Permission[]): Promise<Auth> {
  return bearer((await insertKey(orgId, { scopes })).secret);
}

/** A request's services, for reading synonyms as the search path will. */
function services() {
  const validated = validateEnv(env);
  if (!validated.ok) throw new Error('test env invalid');
  return createServices(validated.env, createLogger({ level: 'error' }), {
    waitUntil: () => {},
    context: {},
  });
}

// Audit events are written by the EVENTS consumer after the responses.
afterAll(() => untilQuiet(), 40_000);

describe('POST /v1/search/synonyms', () => {
  it('creates a multi-way set: 201 with Location, ETag and the set', async () => {
    const { auth, member, orgId } = await signedIn('syn-create');
    const response = await call(PATH, json('POST', MULTI, auth));
    expect(response.status).toBe(201);
    const body = (await response.json()) as Synonym;
    expect(Object.keys(body).sort()).toEqual(FIELDS);
    expect(body).toMatchObject({
      locale: 'en',
      kind: 'multi_way',
      root: null,
      terms: ['car', 'automobile'],
      created_by: member.userId,
    });
    expect(body.id).toMatch(/^syn_/);
    expect(response.headers.get('Location')).toBe(`${PATH}/${body.id}`);
    expect(response.headers.get('ETag')).toMatch(new RegExp(`^"${body.id}\\.\\d{20}"$`));
    expect(await stored(body.id)).toMatchObject({ orgId, kind: 'multi_way', root: null });
    const audited = await auditedEventually('search.synonyms.create', body.id);
    expect(audited).toMatchObject({ orgId, actorType: 'user', actorId: member.userId });
    expect(audited.data).toEqual({
      locale: 'en',
      kind: 'multi_way',
      root: null,
      terms: MULTI.terms,
    });
  });

  it("accepts the README's examples as they are written", async () => {
    const examples = [...readme.matchAll(/`(\{"locale"[^`]*\})`/g)].map((m) =>
      JSON.parse(m[1]!.replace(/\s+/g, ' ')),
    );
    expect(examples.map((e) => e.kind)).toEqual(['multi_way', 'one_way']);
    const { auth } = await signedIn('syn-readme');
    for (const example of examples) {
      expect((await call(PATH, json('POST', example, auth))).status).toBe(201);
    }
  });

  it('creates a one-way set, canonicalising the locale and tidying white space', async () => {
    const { auth } = await signedIn('syn-create');
    const longest = 'ب'.repeat(SYNONYM_LIMITS.termLength);
    const body = await create(auth, {
      locale: 'AR-eg',
      kind: 'one_way',
      root: '  الذكاء   الاصطناعي ',
      terms: ['الذكاء الصناعي', longest],
    });
    expect(body).toMatchObject({
      locale: 'ar-EG',
      kind: 'one_way',
      root: 'الذكاء الاصطناعي',
      terms: ['الذكاء الصناعي', longest],
    });
  });

  it('accepts root: null on a multi-way set, as a read gives it back', async () => {
    const { auth } = await signedIn('syn-create');
    expect((await create(auth, { ...MULTI, root: null })).root).toBeNull();
  });

  const tooMany = Array.from({ length: SYNONYM_LIMITS.terms + 1 }, (_, i) => `term ${i}`);
  /** What is wrong, the body, the field path the problem must name, and words of its rule. */
  const INVALID: [string, unknown, string, string][] = [
    ['no locale', { kind: 'multi_way', terms: ['a', 'b'] }, 'body.locale', ''],
    ['a malformed locale', { ...MULTI, locale: 'english!' }, 'body.locale', 'BCP 47'],
    ['a locale with extensions', { ...MULTI, locale: 'en-u-ca-gregory' }, 'body.locale', 'BCP 47'],
    ['an unknown kind', { ...MULTI, kind: 'two_way' }, 'body.kind', ''],
    ['no kind', { locale: 'en', terms: ['a', 'b'] }, 'body.kind', ''],
    ['a one-way set without root', { ...ONE_WAY, root: undefined }, 'body.root', 'required'],
    ['a one-way set with a null root', { ...ONE_WAY, root: null }, 'body.root', 'required'],
    ['a multi-way set with a root', { ...MULTI, root: 'car' }, 'body.root', 'must not be given'],
    ['a blank root', { ...ONE_WAY, root: '   ' }, 'body.root', 'must not be empty'],
    ['no terms', { ...MULTI, terms: [] }, 'body.terms', 'at least 1 term'],
    ['terms that are not a list', { ...MULTI, terms: 'car, automobile' }, 'body.terms', ''],
    ['one multi-way term', { ...MULTI, terms: ['car'] }, 'body.terms', 'at least 2 terms'],
    ['51 terms', { ...MULTI, terms: tooMany }, 'body.terms', 'at most 50 terms'],
    ['a blank term', { ...MULTI, terms: ['car', '  '] }, 'body.terms.1', 'must not be empty'],
    ['a term that is not text', { ...MULTI, terms: [42, 'car'] }, 'body.terms.0', ''],
    [
      'a term of 101 characters',
      { ...MULTI, terms: ['a'.repeat(SYNONYM_LIMITS.termLength + 1), 'car'] },
      'body.terms.0',
      'at most 100 characters',
    ],
    [
      'a term without letters or digits',
      { ...MULTI, terms: ['car', '!!!'] },
      'body.terms.1',
      'must contain a letter or a digit',
    ],
    [
      'a term repeated in another case',
      { ...MULTI, terms: ['car', 'automobile', 'vehicle', 'CAR'] },
      'body.terms.3',
      'must not repeat body.terms.0',
    ],
    [
      'a term repeated with other punctuation',
      { ...MULTI, terms: ['E-Commerce', 'online shopping', 'e commerce'] },
      'body.terms.2',
      'must not repeat body.terms.0',
    ],
    [
      'an Arabic term repeated with diacritics and another alef',
      { locale: 'ar', kind: 'multi_way', terms: ['الإلكتروني', 'رقمي', 'الالِكْتروني'] },
      'body.terms.2',
      'must not repeat body.terms.0',
    ],
    [
      'the root among the terms',
      { ...ONE_WAY, root: 'AI', terms: ['artificial intelligence', 'ai'] },
      'body.terms.1',
      'must not repeat the root',
    ],
    [
      'an unknown field',
      { ...MULTI, weight: 2 },
      'body.weight',
      'unknown field; accepted: locale, kind, root, terms',
    ],
  ];
  it.each(INVALID.map(([label, body, path, message]) => [label, path, body, message] as const))(
    'refuses %s with a 400 naming %s',
    async (_, path, body, message) => {
      const { auth, orgId } = await signedIn('syn-invalid');
      const problem = await expectProblem(await call(PATH, json('POST', body, auth)), 400);
      expect(problem.code).toBe('VALIDATION_FAILED');
      const error = problem.errors?.find((e) => e.path === path);
      expect(error, JSON.stringify(problem.errors)).toBeDefined();
      expect(error!.message).toContain(message);
      const rows = await testDb().select().from(synonyms).where(eq(synonyms.orgId, orgId));
      expect(rows).toEqual([]);
    },
  );

  it(`refuses the ${SYNONYM_LIMITS.setsPerOrganisation + 1}th set of an organisation with 409`, async () => {
    const { auth, orgId } = await signedIn('syn-limit');
    await testDb().execute(sql`
      insert into synonyms (id, org_id, locale, kind, terms)
      select 'syn_limit' || ${orgId} || '_' || n, ${orgId}, 'en', 'multi_way', array['a' || n, 'b' || n]
      from generate_series(1, ${SYNONYM_LIMITS.setsPerOrganisation - 1}) as n`);
    await create(auth);
    const problem = await expectProblem(await call(PATH, json('POST', ONE_WAY, auth)), 409);
    expect(problem.code).toBe('CONFLICT');
    expect(problem.limit).toBe(SYNONYM_LIMITS.setsPerOrganisation);
    expect(problem.detail).toContain('10,000 synonym sets');
    const [counted] = await testDb()
      .select({ n: sql<number>`count(*)::int` })
      .from(synonyms)
      .where(eq(synonyms.orgId, orgId));
    expect(counted?.n).toBe(SYNONYM_LIMITS.setsPerOrganisation);
  });

  it('replays a retry with the same Idempotency-Key instead of creating a second set', async () => {
    const { auth, orgId } = await signedIn('syn-idempotent');
    const headers = { ...auth, 'Idempotency-Key': crypto.randomUUID() };
    const first = await call(PATH, json('POST', MULTI, headers));
    const again = await call(PATH, json('POST', MULTI, headers));
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(((await again.json()) as Synonym).id).toBe(((await first.json()) as Synonym).id);
    const rows = await testDb().select().from(synonyms).where(eq(synonyms.orgId, orgId));
    expect(rows).toHaveLength(1);
  });
});

describe('GET /v1/search/synonyms', () => {
  it('pages through the sets newest first', async () => {
    const { auth } = await signedIn('syn-list');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      created.push((await create(auth, { ...MULTI, terms: [`a${i}`, `b${i}`] })).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await listPage(auth, query);
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(FIELDS);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it('filters by locale (exactly, canonicalised) and lists only the organisation’s own sets', async () => {
    const { auth } = await signedIn('syn-list');
    const english = await create(auth);
    const arabic = await create(auth, {
      locale: 'ar',
      kind: 'multi_way',
      terms: ['سيارة', 'عربية'],
    });
    const egyptian = await create(auth, { ...MULTI, locale: 'ar-EG' });
    const other = await signedIn('syn-list-other');
    await create(other.auth);

    expect((await listPage(auth, '?locale=AR')).items.map((s) => s.id)).toEqual([arabic.id]);
    expect((await listPage(auth, '?locale=ar-eg')).items.map((s) => s.id)).toEqual([egyptian.id]);
    const all = await listPage(auth);
    expect(all.items.map((s) => s.id)).toEqual([egyptian.id, arabic.id, english.id]);
    expect(all.next_cursor).toBeNull();
  });

  it.each([
    ['?locale=english!', 'query.locale'],
    ['?limit=0', 'query.limit'],
    ['?limit=101', 'query.limit'],
    ['?cursor=not-a-cursor', 'query.cursor'],
  ])('refuses %s with a 400 naming %s', async (query, path) => {
    const { auth } = await signedIn('syn-list-invalid');
    const problem = await expectProblem(await call(`${PATH}${query}`, { headers: auth }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });
});

describe('GET /v1/search/synonyms/{id}', () => {
  it('answers the set with its ETag, and 304 to If-None-Match with it', async () => {
    const { auth } = await signedIn('syn-get');
    const created = await create(auth, ONE_WAY);
    const { body, etag } = await read(auth, created.id);
    expect(body).toEqual(created);
    const again = await call(`${PATH}/${created.id}`, {
      headers: { ...auth, 'If-None-Match': etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('ETag')).toBe(etag);
  });

  it("answers 404 for another organisation's set and for one that does not exist", async () => {
    const owner = await signedIn('syn-get-a');
    const set = await create(owner.auth);
    const outsider = await signedIn('syn-get-b');
    for (const id of [set.id, newId('synonym')]) {
      const problem = await expectProblem(
        await call(`${PATH}/${id}`, { headers: outsider.auth }),
        404,
      );
      expect(problem.detail).toBe('There is no such synonym set.');
    }
  });

  it('refuses an id that is not a synonym set id with a 400 naming path.id', async () => {
    const { auth } = await signedIn('syn-get');
    const problem = await expectProblem(await call(`${PATH}/cnt_123`, { headers: auth }), 400);
    expect(problem.errors?.[0]?.path).toBe('path.id');
  });
});

describe('PUT /v1/search/synonyms/{id}', () => {
  it('replaces the whole set, moves the ETag on and audits before and after', async () => {
    const { auth, orgId } = await signedIn('syn-put');
    const created = await create(auth);
    const { etag } = await read(auth, created.id);
    const response = await call(`${PATH}/${created.id}`, json('PUT', ONE_WAY, auth));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Synonym;
    expect(body).toMatchObject({ id: created.id, ...ONE_WAY, created_at: created.created_at });
    expect(Date.parse(body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    const newEtag = response.headers.get('ETag');
    expect(newEtag).not.toBe(etag);
    expect((await read(auth, created.id)).etag).toBe(newEtag);
    expect(await stored(created.id)).toMatchObject({ orgId, kind: 'one_way', root: 'ai' });
    const audited = await auditedEventually('search.synonyms.update', created.id);
    expect(audited.data).toEqual({
      before: { locale: 'en', kind: 'multi_way', root: null, terms: MULTI.terms },
      after: { locale: 'en', kind: 'one_way', root: 'ai', terms: ONE_WAY.terms },
    });
  });

  it('applies If-Match: the current ETag or * go ahead, a stale or weak one is a 412', async () => {
    const { auth } = await signedIn('syn-put-if-match');
    const created = await create(auth);
    const { etag } = await read(auth, created.id);
    const first = await call(
      `${PATH}/${created.id}`,
      json('PUT', { ...MULTI, terms: ['car', 'motorcar'] }, { ...auth, 'If-Match': etag }),
    );
    expect(first.status).toBe(200);
    const current = first.headers.get('ETag')!;

    const stale = await call(
      `${PATH}/${created.id}`,
      json('PUT', { ...MULTI, terms: ['car', 'lost update'] }, { ...auth, 'If-Match': etag }),
    );
    const problem = await expectProblem(stale, 412);
    expect(problem.code).toBe('PRECONDITION_FAILED');
    expect(problem.current_etag).toBe(current);
    const weak = await call(
      `${PATH}/${created.id}`,
      json('PUT', MULTI, { ...auth, 'If-Match': `W/${current}` }),
    );
    await expectProblem(weak, 412);
    expect((await read(auth, created.id)).body.terms).toEqual(['car', 'motorcar']);

    const listed = await call(
      `${PATH}/${created.id}`,
      json('PUT', MULTI, { ...auth, 'If-Match': `"syn_other.1", ${current}` }),
    );
    expect(listed.status).toBe(200);
    const any = await call(
      `${PATH}/${created.id}`,
      json('PUT', MULTI, { ...auth, 'If-Match': '*' }),
    );
    expect(any.status).toBe(200);
  });

  it('gives two quick replaces different ETags, so If-Match tells them apart', async () => {
    const { auth } = await signedIn('syn-put-quick');
    const created = await create(auth);
    const etags = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const response = await call(`${PATH}/${created.id}`, json('PUT', MULTI, auth));
      expect(response.status).toBe(200);
      etags.add(response.headers.get('ETag')!);
    }
    expect(etags.size).toBe(4);
  });

  it('validates the body as a create does', async () => {
    const { auth } = await signedIn('syn-put-invalid');
    const created = await create(auth);
    const problem = await expectProblem(
      await call(`${PATH}/${created.id}`, json('PUT', { ...MULTI, root: 'car' }, auth)),
      400,
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['body.root']);
    expect((await read(auth, created.id)).body).toEqual(created);
  });

  it("answers 404 for another organisation's set and leaves it as it was", async () => {
    const owner = await signedIn('syn-put-a');
    const set = await create(owner.auth);
    const outsider = await signedIn('syn-put-b');
    await expectProblem(await call(`${PATH}/${set.id}`, json('PUT', ONE_WAY, outsider.auth)), 404);
    await expectProblem(
      await call(`${PATH}/${set.id}`, json('PUT', ONE_WAY, { ...outsider.auth, 'If-Match': '*' })),
      404,
    );
    expect((await read(owner.auth, set.id)).body).toEqual(set);
  });
});

describe('DELETE /v1/search/synonyms/{id}', () => {
  it('deletes the set: 204, then 404, and audits what it was', async () => {
    const { auth, orgId } = await signedIn('syn-delete');
    const created = await create(auth, ONE_WAY);
    const response = await call(`${PATH}/${created.id}`, { method: 'DELETE', headers: auth });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await stored(created.id)).toBeUndefined();
    await expectProblem(await call(`${PATH}/${created.id}`, { headers: auth }), 404);
    await expectProblem(
      await call(`${PATH}/${created.id}`, { method: 'DELETE', headers: auth }),
      404,
    );
    const audited = await auditedEventually('search.synonyms.delete', created.id);
    expect(audited).toMatchObject({ orgId, targetType: 'synonym' });
    expect(audited.data).toEqual({
      locale: 'en',
      kind: 'one_way',
      root: 'ai',
      terms: ONE_WAY.terms,
    });
  });

  it("answers 404 for another organisation's set and leaves it in place", async () => {
    const owner = await signedIn('syn-delete-a');
    const set = await create(owner.auth);
    const outsider = await signedIn('syn-delete-b');
    await expectProblem(
      await call(`${PATH}/${set.id}`, { method: 'DELETE', headers: outsider.auth }),
      404,
    );
    expect(await stored(set.id)).toBeDefined();
  });
});

describe('permissions', () => {
  it('lets a viewer list and read, but not create, replace or delete (403)', async () => {
    const { orgId, owner } = await createTenant('syn-perm');
    const set = await create(bearer((await tokenFor(owner)).token));
    const viewer = bearer((await tokenFor(await createMember(orgId, 'viewer'))).token);
    expect((await listPage(viewer)).items.map((s) => s.id)).toEqual([set.id]);
    expect((await read(viewer, set.id)).body.id).toBe(set.id);
    for (const [method, path] of [
      ['POST', PATH],
      ['PUT', `${PATH}/${set.id}`],
    ] as const) {
      const problem = await expectProblem(await call(path, json(method, ONE_WAY, viewer)), 403);
      expect(problem.permission).toBe('settings:manage');
    }
    await expectProblem(
      await call(`${PATH}/${set.id}`, { method: 'DELETE', headers: viewer }),
      403,
    );
    expect(await stored(set.id)).toMatchObject({ kind: 'multi_way', terms: MULTI.terms });
    expect(await listPage(viewer)).toMatchObject({ items: [{ id: set.id }] });
  });

  it('refuses an editor a write (settings:manage is for owners and admins)', async () => {
    const editor = await signedIn('syn-perm-editor', 'editor');
    await expectProblem(await call(PATH, json('POST', MULTI, editor.auth)), 403);
    const admin = await signedIn('syn-perm-admin', 'admin');
    await create(admin.auth);
  });

  it('lets an API key with settings:manage write (recorded as its creator), and one without it only read', async () => {
    const { orgId } = await signedIn('syn-perm-key');
    const key = await insertKey(orgId, { scopes: ['settings:manage', 'search'] });
    const manager = bearer(key.secret);
    const created = await create(manager, ONE_WAY);
    expect(created.created_by).toBe(key.id);
    expect((await stored(created.id))?.createdBy).toBe(key.id);
    const read = await call(`${PATH}/${created.id}`, { headers: manager });
    expect(await read.json()).toMatchObject({ created_by: key.id });
    const put = await call(`${PATH}/${created.id}`, json('PUT', MULTI, manager));
    expect(put.status).toBe(200);

    const searcher = await keyAuth(orgId, ['search']);
    expect((await listPage(searcher)).items.map((s) => s.id)).toEqual([created.id]);
    await expectProblem(await call(PATH, json('POST', MULTI, searcher)), 403);
    const writerOnly = await keyAuth(orgId, ['settings:manage']);
    await expectProblem(await call(PATH, { headers: writerOnly }), 403);
    const del = await call(`${PATH}/${created.id}`, { method: 'DELETE', headers: manager });
    expect(del.status).toBe(204);
  });

  it('answers 401 without credentials', async () => {
    await expectProblem(await call(PATH), 401);
    await expectProblem(await call(PATH, json('POST', MULTI)), 401);
  });
});

describe('search sees every write at once', () => {
  it('bumps the synonyms version on each write, and loadSynonyms reflects it immediately', async () => {
    const { auth, orgId } = await signedIn('syn-version');
    const s = services();
    const version = async () => readSynonymsVersion(s, orgId);
    const expand = async (query: string) =>
      expandQuery(query.split(' '), await loadSynonyms(s, orgId, 'en-GB')).orTerms;

    // Warm the cache with the empty compilation first, so a missed bump would show.
    expect(await expand('car')).toEqual([]);
    const v0 = (await version())!;

    const set = await create(auth, { ...MULTI, locale: 'en' });
    expect(await version()).toBe(v0 + 1);
    expect(await expand('car')).toEqual(['automobile']);

    await call(`${PATH}/${set.id}`, json('PUT', { ...ONE_WAY, terms: ['machine learning'] }, auth));
    expect(await version()).toBe(v0 + 2);
    expect(await expand('car')).toEqual([]);
    expect(await expand('ai')).toEqual(['machine learning']);

    await call(`${PATH}/${set.id}`, { method: 'DELETE', headers: auth });
    expect(await version()).toBe(v0 + 3);
    expect(await expand('ai')).toEqual([]);
  });

  it('does not bump on a refused write', async () => {
    const { auth, orgId } = await signedIn('syn-version-refused');
    const s = services();
    const before = await readSynonymsVersion(s, orgId);
    await expectProblem(await call(PATH, json('POST', { ...MULTI, terms: ['x'] }, auth)), 400);
    await expectProblem(await call(`${PATH}/${newId('synonym')}`, json('PUT', MULTI, auth)), 404);
    expect(await readSynonymsVersion(s, orgId)).toBe(before);
    expect(await testDb().select().from(synonyms).where(eq(synonyms.orgId, orgId))).toEqual([]);
  });
});
