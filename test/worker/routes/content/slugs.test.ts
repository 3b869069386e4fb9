import { neonConfig } from '@neondatabase/serverless';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { content, contentTranslations } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { bearer, createTenant, tokenFor } from '../../auth.ts';
import { call, eventually, expectProblem, testDb, untilQuiet } from '../../helpers.ts';
import { insertContent } from './fixtures.ts';

type Created = { content: { id: string; translations: Record<string, { slug: string }> } };

/** A WRITES queue that keeps what it is given: the writes stay in the ledger, in flight. */
const heldQueue = () => ({
  send: async () => {},
  sendBatch: async () => {},
});

/**
 * Counts the SQL requests about translations (where slugs live) that the Worker sends over
 * Neon's HTTP driver while `fn` runs.
 */
async function countingQueries<T>(fn: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const previous = neonConfig.fetchFunction;
  let queries = 0;
  neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(init?.body).includes('content_translations')) queries++;
    return fetch(input, init);
  };
  try {
    return { result: await fn(), queries };
  } finally {
    neonConfig.fetchFunction = previous;
  }
}

/** `count` items titled `title` straight into Postgres, slugged `base`, `base-2`, … */
async function sameTitle(orgId: string, title: string, base: string, count: number) {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: newId('content'),
    slug: i === 0 ? base : `${base}-${i + 1}`,
  }));
  const db = testDb();
  await db
    .insert(content)
    .values(rows.map(({ id }) => ({ id, orgId, status: 'draft' as const, defaultLocale: 'en' })));
  await db
    .insert(contentTranslations)
    .values(
      rows.map(({ id, slug }) => ({ contentId: id, orgId, locale: 'en', title, slug, body: '' })),
    );
}

afterAll(() => untilQuiet());

describe('slug generation', () => {
  let auth: Record<string, string>;
  let orgId: string;

  beforeAll(async () => {
    const tenant = await createTenant('slug-gen');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });
  afterEach(() => {
    neonConfig.fetchFunction = undefined;
  });

  const create = (body: unknown, overrides = {}) =>
    call(
      '/v1/content',
      {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      },
      overrides,
    );

  it('finds a free slug among 300 items of one title in one query, whatever their number', async () => {
    await sameTitle(orgId, 'Breaking news', 'breaking-news', 300);
    const { result, queries } = await countingQueries(() =>
      create({ translations: { en: { title: 'Breaking news' } } }),
    );
    expect(result.status).toBe(202);
    const { content: item } = (await result.json()) as Created;
    expect(item.translations.en?.slug).toBe('breaking-news-301');
    // One query for the slug family; nothing per candidate (it used to be one query per
    // candidate, and a 409 past the 100th).
    expect(queries).toBe(1);
  });

  it('fills the first gap of the family, and ignores other titles sharing its prefix', async () => {
    await sameTitle(orgId, 'Gap', 'gap', 5);
    await insertContent(orgId, { translations: { en: { title: 'Gap year', slug: 'gap-year' } } });
    await testDb()
      .update(contentTranslations)
      .set({ deletedAt: new Date() })
      // The third of the family, deleted: its slug is free again.
      .where(and(eq(contentTranslations.orgId, orgId), eq(contentTranslations.slug, 'gap-3')));
    const response = await create({ translations: { en: { title: 'Gap' } } });
    expect(((await response.json()) as Created).content.translations.en?.slug).toBe('gap-3');
  });

  it('counts the slugs in flight in the ledger, which Postgres does not know yet, at once', async () => {
    const held = { WRITES: heldQueue() };
    const slugs: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const { result, queries } = await countingQueries(() =>
        create({ translations: { en: { title: 'In flight' } } }, held),
      );
      slugs.push(((await result.json()) as Created).content.translations.en?.slug);
      // Picked with the ledger's slugs in the same round trip: no refusal, no second plan.
      expect(queries).toBe(1);
    }
    expect(slugs).toEqual(['in-flight', 'in-flight-2', 'in-flight-3']);
  });

  it('gives the items of one bulk request distinct slugs of one family', async () => {
    const response = await call('/v1/content/bulk', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        items: Array.from({ length: 5 }, () => ({
          op: 'create',
          data: { translations: { en: { title: 'Bulk twin' } } },
        })),
      }),
    });
    expect(response.status).toBe(202);
    const { results } = (await response.json()) as { results: { id: string; status: number }[] };
    expect(results.every((r) => r.status === 202)).toBe(true);
    const slugs = await Promise.all(
      results.map(async (r) => {
        const read = await call(`/v1/content/${r.id}`, { headers: auth });
        return ((await read.json()) as Created['content']).translations.en?.slug;
      }),
    );
    expect(slugs.sort()).toEqual([
      'bulk-twin',
      'bulk-twin-2',
      'bulk-twin-3',
      'bulk-twin-4',
      'bulk-twin-5',
    ]);
  });
});

describe('slugs are case-insensitive', () => {
  let auth: Record<string, string>;
  let orgId: string;

  beforeAll(async () => {
    const tenant = await createTenant('slug-case');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });

  const create = (translations: unknown) =>
    call('/v1/content', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ translations }),
    });

  it('stores a slug with capitals lower-cased, and finds it whatever the case asked', async () => {
    const response = await create({ en: { title: 'Solar', slug: 'Solar-Energy' } });
    const { content: item } = (await response.json()) as Created;
    expect(item.translations.en?.slug).toBe('solar-energy');
    // Slugs are looked up in Postgres: once the consumer has persisted the item.
    await eventually(async () => {
      const read = await call('/v1/content/by-slug/en/solar-energy', { headers: auth });
      return read.status === 200;
    });
    for (const asked of ['solar-energy', 'SOLAR-ENERGY', 'Solar-Energy']) {
      const read = await call(`/v1/content/by-slug/en/${asked}`, { headers: auth });
      expect(read.status, asked).toBe(200);
      expect(((await read.json()) as { id: string }).id).toBe(item.id);
    }
  });

  it('refuses a slug that differs from a taken one only in case', async () => {
    await create({ en: { title: 'Wind', slug: 'wind-power' } });
    const problem = await expectProblem(
      await create({ en: { title: 'Wind 2', slug: 'WIND-Power' } }),
      409,
    );
    expect(problem.errors?.[0]).toMatchObject({
      path: 'body.translations.en.slug',
      code: 'slug_taken',
    });
  });

  it('treats a slug stored with capitals before this rule as the same slug', async () => {
    const legacy = await insertContent(orgId, {
      translations: { en: { title: 'Legacy', slug: 'Legacy-Slug' } },
    });
    const read = await call('/v1/content/by-slug/en/legacy-slug', { headers: auth });
    expect(((await read.json()) as { id: string }).id).toBe(legacy.id);
    await expectProblem(await create({ en: { title: 'Legacy again', slug: 'legacy-slug' } }), 409);
    const generated = await create({ en: { title: 'Legacy slug' } });
    expect(((await generated.json()) as Created).content.translations.en?.slug).toBe(
      'legacy-slug-2',
    );
  });
});

describe('slug look-ups fall back along the locale chain', () => {
  let auth: Record<string, string>;
  let orgId: string;

  beforeAll(async () => {
    const tenant = await createTenant('slug-locale');
    orgId = tenant.orgId;
    auth = bearer((await tokenFor(tenant.owner)).token);
  });

  const bySlug = async (locale: string, slug: string) => {
    const response = await call(`/v1/content/by-slug/${locale}/${encodeURIComponent(slug)}`, {
      headers: auth,
    });
    return {
      status: response.status,
      body: (await response.json()) as { id: string; locale: string | null },
    };
  };

  it('finds an ar slug from ar-EG, as reads by id fall back, and serves the ar translation', async () => {
    const item = await insertContent(orgId, {
      translations: { ar: { title: 'مرحبا', slug: 'مرحبا-بالعالم' } },
    });
    const { status, body } = await bySlug('ar-EG', 'مرحبا-بالعالم');
    expect(status).toBe(200);
    expect(body).toMatchObject({ id: item.id, locale: 'ar' });
  });

  it('prefers the exact locale, then its parents, then another variant of the language', async () => {
    const exact = await insertContent(orgId, {
      translations: { 'ar-EG': { title: 'أ', slug: 'shared-slug' } },
    });
    await insertContent(orgId, { translations: { ar: { title: 'ب', slug: 'shared-slug' } } });
    expect((await bySlug('ar-EG', 'shared-slug')).body.id).toBe(exact.id);
    const sibling = await insertContent(orgId, {
      translations: { 'ar-SA': { title: 'ج', slug: 'sibling-slug' } },
    });
    expect((await bySlug('ar-EG', 'sibling-slug')).body.id).toBe(sibling.id);
    expect((await bySlug('en', 'sibling-slug')).status).toBe(404);
  });
});
