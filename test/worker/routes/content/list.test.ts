import { beforeAll, describe, expect, it } from 'vitest';
import { categories } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { encodeCursor } from '../../../../shared/pagination.ts';
import { bearer, createMember, createTenant, tokenFor } from '../../auth.ts';
import { call, expectProblem, testDb } from '../../helpers.ts';
import { insertContent, type TestContent } from './fixtures.ts';

type Item = {
  id: string;
  status: string;
  locale: string | null;
  available_locales: string[];
  translations: Record<string, { title: string; slug: string }>;
};
type Page = { items: Item[]; next_cursor: string | null };

const T = Date.parse('2026-03-01T10:00:00.000Z');
const at = (minutes: number) => new Date(T + minutes * 60_000);

type Sort = 'updated_at' | 'created_at' | 'published_at';
type Row = { id: string; updated_at: Date; created_at: Date; published_at: Date | null };

describe('GET /v1/content', () => {
  let orgId: string;
  let token: string;
  let categoryId: string;
  /** Organisation A's live items, by name. */
  const items: Record<string, Row & { spec: TestContent }> = {};
  let deletedId: string;
  let strangerToken: string;
  let strangerId: string;

  beforeAll(async () => {
    const tenant = await createTenant('content-list');
    orgId = tenant.orgId;
    token = (await tokenFor(tenant.owner)).token;
    categoryId = newId('category');
    await testDb()
      .insert(categories)
      .values({ id: categoryId, orgId, slug: 'tech', names: { en: 'Tech' } });

    // created_at runs opposite to updated_at; c and d share updated_at (a tie the cursor must split).
    const specs: Record<string, TestContent> = {
      a: {
        status: 'draft',
        translations: { en: { title: 'Alpha' } },
        tags: ['news'],
        categoryId: 'CATEGORY',
        metadata: { year: 2024, featured: true, region: 'north' },
        updatedAt: at(0),
        createdAt: at(-1),
      },
      b: {
        status: 'in_review',
        translations: { en: { title: 'Bravo' }, ar: { title: 'برافو' } },
        metadata: { year: '2024', featured: 'true' },
        updatedAt: at(1),
        createdAt: at(-2),
      },
      c: {
        status: 'published',
        translations: { ar: { title: 'تشارلي' } },
        metadata: { year: 2025, region: 'south' },
        publishedAt: at(10),
        updatedAt: at(2),
        createdAt: at(-3),
      },
      d: {
        status: 'published',
        translations: { ar: { title: 'دلتا' }, en: { title: 'Delta' } },
        tags: ['news', 'sport'],
        categoryId: 'CATEGORY',
        publishedAt: at(9),
        updatedAt: at(2),
        createdAt: at(-4),
      },
      e: {
        status: 'archived',
        translations: { en: { title: 'Echo' } },
        publishedAt: at(8),
        updatedAt: at(3),
        createdAt: at(-5),
      },
    };
    for (const [name, spec] of Object.entries(specs)) {
      const full = { ...spec, categoryId: spec.categoryId ? categoryId : null };
      const { id } = await insertContent(orgId, full);
      items[name] = {
        id,
        spec: full,
        updated_at: spec.updatedAt!,
        created_at: spec.createdAt!,
        published_at: spec.publishedAt ?? null,
      };
    }
    deletedId = (
      await insertContent(orgId, {
        translations: { en: { title: 'Gone' } },
        updatedAt: at(4),
        deletedAt: at(5),
      })
    ).id;

    const stranger = await createTenant('content-list-other');
    strangerToken = (await tokenFor(stranger.owner)).token;
    strangerId = (
      await insertContent(stranger.orgId, {
        status: 'published',
        translations: { en: { title: 'Not yours' } },
        tags: ['news'],
        publishedAt: at(9),
        updatedAt: at(2),
      })
    ).id;
  });

  const list = async (query = '', headers: Record<string, string> = {}, as = token) => {
    const response = await call(`/v1/content${query}`, { headers: { ...bearer(as), ...headers } });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Page;
  };
  const nameOf = (id: string) => Object.keys(items).find((n) => items[n]!.id === id) ?? id;
  const names = (page: Page) => page.items.map((item) => nameOf(item.id));

  /** The names in the order the list must give them: (time, id), descending unless asc. */
  const expected = (sort: Sort, order: 'asc' | 'desc') => {
    const sign = order === 'asc' ? 1 : -1;
    return Object.entries(items)
      .filter(([, row]) => row[sort] !== null)
      .sort(([, x], [, y]) => {
        const dt = x[sort]!.getTime() - y[sort]!.getTime();
        return sign * (dt !== 0 ? dt : x.id < y.id ? -1 : 1);
      })
      .map(([name]) => name);
  };

  it("lists the organisation's live items, most recently updated first", async () => {
    const page = await list();
    expect(names(page)).toEqual(expected('updated_at', 'desc'));
    expect(names(page)[0]).toBe('e');
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((i) => i.id)).not.toContain(deletedId);
    expect(page.items.map((i) => i.id)).not.toContain(strangerId);
    const d = page.items.find((i) => i.id === items.d!.id)!;
    expect(d).toMatchObject({
      status: 'published',
      locale: null,
      available_locales: ['ar', 'en'],
      translations: { ar: { title: 'دلتا' }, en: { title: 'Delta' } },
    });
  });

  it.each([
    ['updated_at', 'desc'],
    ['updated_at', 'asc'],
    ['created_at', 'desc'],
    ['created_at', 'asc'],
    ['published_at', 'desc'],
    ['published_at', 'asc'],
  ] as const)(
    'sorts by %s %s and pages with limit 2 without gaps or repeats',
    async (sort, order) => {
      const want = expected(sort, order);
      expect(names(await list(`?sort=${sort}&order=${order}`))).toEqual(want);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await list(query);
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...names(page));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(want);
      expect(pages).toBe(Math.ceil(want.length / 2));
    },
  );

  it('leaves items never published out of the published_at sort', async () => {
    expect(names(await list('?sort=published_at'))).toEqual(['c', 'd', 'e']);
  });

  it('splits items with the same updated_at across pages exactly', async () => {
    // Newest first: e, then the tie c/d split by the page boundary, then b, a.
    const first = await list('?limit=2');
    const second = await list(`?limit=2&cursor=${first.next_cursor}`);
    expect([...names(first), ...names(second)].slice(1, 3).sort()).toEqual(['c', 'd']);
    expect(names(second)[1]).toBe('b');
  });

  it('filters by status, one or several', async () => {
    expect(names(await list('?status=published'))).toEqual(
      expected('updated_at', 'desc').filter((n) => n === 'c' || n === 'd'),
    );
    expect(names(await list('?status=draft,%20archived'))).toEqual(['e', 'a']);
  });

  it('filters by category, tags and locale, each repeated or comma-separated: any of them', async () => {
    expect(names(await list(`?category=${categoryId}`))).toEqual(['d', 'a']);
    expect(names(await list(`?category=${newId('category')}`))).toEqual([]);
    expect(names(await list(`?category=${newId('category')}&category=${categoryId}`))).toEqual([
      'd',
      'a',
    ]);
    expect(names(await list('?tags=news'))).toEqual(['d', 'a']);
    expect(names(await list('?tags=SPORT'))).toEqual(['d']);
    expect(names(await list('?tags=sport&tags=nothing'))).toEqual(['d']);
    expect(names(await list('?tags=sport,nothing&tags=news'))).toEqual(['d', 'a']);
    expect(names(await list('?status=draft&status=archived,in_review'))).toEqual(['e', 'b', 'a']);
    expect(names(await list('?locale=ar'))).toEqual(
      expected('updated_at', 'desc').filter((n) => ['b', 'c', 'd'].includes(n)),
    );
    expect(names(await list('?locale=fr'))).toEqual([]);
  });

  it('filters by updated_since, inclusive', async () => {
    expect(names(await list(`?updated_since=${at(2).toISOString()}`))).toEqual(
      expected('updated_at', 'desc').filter((n) => ['c', 'd', 'e'].includes(n)),
    );
    // Offsets are accepted and compared as instants.
    expect(names(await list('?updated_since=2026-03-01T13:03:00%2B03:00'))).toEqual(['e']);
    // A plain date is its start in UTC.
    expect(names(await list('?updated_since=2026-03-01'))).toHaveLength(5);
    expect(names(await list('?updated_since=2026-03-02'))).toEqual([]);
  });

  it('filters by published_from and published_to, date-times or plain dates', async () => {
    // c, d and e were published at 10:10, 10:09 and 10:08 on 1 March 2026 (UTC).
    const published = (query: string) => list(query).then((page) => names(page).sort());
    expect(await published(`?published_from=${at(9).toISOString()}`)).toEqual(['c', 'd']);
    expect(await published(`?published_to=${at(9).toISOString()}`)).toEqual(['e']);
    // A date as the upper bound includes that whole day; as the lower bound, from its start.
    expect(await published('?published_to=2026-03-01')).toEqual(['c', 'd', 'e']);
    expect(await published('?published_to=2026-02-28')).toEqual([]);
    expect(await published('?published_from=2026-03-01&published_to=2026-03-01')).toEqual([
      'c',
      'd',
      'e',
    ]);
    expect(await published('?published_from=2026-03-02')).toEqual([]);
  });

  it('filters by metadata fields, numbers and booleans matching typed or as text', async () => {
    const meta = (query: string) => list(query).then((page) => names(page).sort());
    // a holds the number 2024, b the string "2024": a query string cannot tell them apart.
    expect(await meta('?meta.year=2024')).toEqual(['a', 'b']);
    expect(await meta('?meta.featured=true')).toEqual(['a', 'b']);
    expect(await meta('?meta.region=north')).toEqual(['a']);
    // Repeated: any of the values; several fields: all of them.
    expect(await meta('?meta.year=2024&meta.year=2025')).toEqual(['a', 'b', 'c']);
    expect(await meta('?meta.year=2025&meta.region=south')).toEqual(['c']);
    expect(await meta('?meta.year=2024&meta.region=south')).toEqual([]);
    expect(await meta('?meta.year=2024.0')).toEqual(['a']);
    expect(await meta('?meta.region=North')).toEqual([]);
  });

  it('refuses the old tag parameter, pointing to tags', async () => {
    const response = await call('/v1/content?tag=news', { headers: bearer(token) });
    const problem = await expectProblem(response, 400);
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'query.tag',
        message: expect.stringMatching(/^unknown parameter \(did you mean tags\?\); accepted: /),
      }),
    ]);
  });

  it('combines filters with paging', async () => {
    const first = await list('?tags=news&limit=1');
    expect(names(first)).toEqual(['d']);
    const second = await list(`?tags=news&limit=1&cursor=${first.next_cursor}`);
    expect(names(second)).toEqual(['a']);
    expect(second.next_cursor).toBeNull();
  });

  it('serves the requested locale, or falls back per item along the chain', async () => {
    const arabic = await list('', { 'Accept-Language': 'ar, en;q=0.5' });
    const served = Object.fromEntries(arabic.items.map((i) => [nameOf(i.id), i.locale]));
    // a and e have English only; the others have Arabic.
    expect(served).toEqual({ a: 'en', b: 'ar', c: 'ar', d: 'ar', e: 'en' });
    for (const item of arabic.items) {
      expect(Object.keys(item.translations)).toEqual([item.locale]);
    }
    // A locale nobody has: each item's default locale.
    const french = await list('', { 'Accept-Language': 'fr' });
    expect(Object.fromEntries(french.items.map((i) => [i.id, i.locale]))).toEqual(
      Object.fromEntries(
        Object.values(items).map((row) => [row.id, Object.keys(row.spec.translations!)[0] ?? null]),
      ),
    );
    // ?locale= both filters and chooses, overriding Accept-Language.
    const english = await list('?locale=en', { 'Accept-Language': 'ar' });
    expect(english.items.map((i) => i.locale)).toEqual(['en', 'en', 'en', 'en']);
    expect(english.items.find((i) => i.id === items.d!.id)!.translations).toEqual({
      en: expect.objectContaining({ title: 'Delta' }),
    });
  });

  it('refuses a cursor from another sort, order or list with 400 naming query.cursor', async () => {
    const byUpdate = await list('?limit=2');
    expect(byUpdate.next_cursor).not.toBeNull();
    const foreign = encodeCursor({ t: at(2).toISOString(), id: items.d!.id });
    for (const query of [
      `?sort=created_at&limit=2&cursor=${byUpdate.next_cursor}`,
      `?order=asc&limit=2&cursor=${byUpdate.next_cursor}`,
      `?cursor=${foreign}`,
      '?cursor=not-a-cursor',
    ]) {
      const response = await call(`/v1/content${query}`, { headers: bearer(token) });
      const problem = await expectProblem(response, 400);
      expect(
        problem.errors?.map((e) => e.path),
        query,
      ).toEqual(['query.cursor']);
    }
  });

  it('answers 400 naming the parameter for a bad limit, status, sort, order or filter', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', 'query.limit'],
      ['?limit=101', 'query.limit'],
      ['?limit=ten', 'query.limit'],
      ['?limit=1&limit=2', 'query.limit'],
      ['?status=live', 'query.status.0'],
      ['?status=draft,live', 'query.status.1'],
      ['?status=draft&status=live', 'query.status.1'],
      ['?status=', 'query.status'],
      ['?status=,,', 'query.status'],
      ['?updated_since=yesterday', 'query.updated_since'],
      ['?updated_since=2026-02-30', 'query.updated_since'],
      ['?updated_since=2026-03-01T10:00:00', 'query.updated_since'],
      ['?published_to=2026-13-01', 'query.published_to'],
      ['?sort=title', 'query.sort'],
      ['?order=up', 'query.order'],
      ['?category=tech', 'query.category.0'],
      ['?tags=', 'query.tags'],
      [`?tags=${'t'.repeat(65)}`, 'query.tags.0'],
      [`?tags=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}`, 'query.tags'],
      ['?locale=not%20a%20locale', 'query.locale'],
      ['?meta.bad-field=1', 'query.meta.bad-field'],
      ['?meta.year=', 'query.meta.year'],
      [`?meta.year=${'9'.repeat(201)}`, 'query.meta.year'],
      [`?${Array.from({ length: 11 }, (_, i) => `meta.f${i}=1`).join('&')}`, 'query.meta'],
      ['?next_cursor=abc', 'query.next_cursor'],
      ['?Limit=5', 'query.Limit'],
      [`?${encodeURIComponent('مرحبا')}=1`, 'query.مرحبا'],
    ];
    for (const [query, path] of cases) {
      const response = await call(`/v1/content${query}`, { headers: bearer(token) });
      const problem = await expectProblem(response, 400);
      expect(
        problem.errors?.map((e) => e.path),
        query,
      ).toContain(path);
    }
  });

  it("never shows another organisation's items", async () => {
    const theirs = await list('?tags=news', {}, strangerToken);
    expect(theirs.items.map((i) => i.id)).toEqual([strangerId]);
    const ours = await list(`?updated_since=${at(-60).toISOString()}&limit=100`);
    expect(ours.items.map((i) => i.id)).not.toContain(strangerId);
  });

  it('lets a viewer list (content:read)', async () => {
    const viewer = await createMember(orgId, 'viewer');
    const page = await list('', {}, (await tokenFor(viewer)).token);
    expect(page.items).toHaveLength(5);
  });
});
