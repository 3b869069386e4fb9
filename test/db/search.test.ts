import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textSearchConfig } from '../../shared/db/schema/index.ts';
import { createContent, createTenant } from './fixtures.ts';
import { backends, openDatabase, type TestDatabase } from './harness.ts';

describe('textSearchConfig', () => {
  it('picks the stemmer from the language subtag', () => {
    expect(textSearchConfig('ar')).toBe('arabic');
    expect(textSearchConfig('ar-EG')).toBe('arabic');
    expect(textSearchConfig('en-GB')).toBe('english');
    expect(textSearchConfig('EN')).toBe('english');
    expect(textSearchConfig('fr')).toBe('simple');
    expect(textSearchConfig('zh-Hant-TW')).toBe('simple');
  });
});

describe.each(backends)('full-text search column (%s)', (backend) => {
  let database: TestDatabase;
  let orgId: string;
  beforeAll(async () => {
    database = await openDatabase(backend);
    ({ orgId } = await createTenant(database));
  });
  afterAll(() => database?.close());

  /** Titles of the org's translations in `locale` matching `q`, best first. */
  const search = async (locale: string, q: string) =>
    (
      await database.query<{ title: string }>(
        `select title from content_translations,
                websearch_to_tsquery($3::regconfig, $4) as q
         where org_id = $1 and locale = $2 and deleted_at is null and search @@ q
         order by ts_rank(search, q) desc, title`,
        [orgId, locale, textSearchConfig(locale), q],
      )
    ).map((r) => r.title);

  it('finds an English word by its stem', async () => {
    await createContent(database, orgId, [
      {
        locale: 'en',
        title: 'Libraries open later',
        slug: 'libraries-open-later',
        body: 'Public libraries are running longer hours this winter.',
      },
    ]);
    expect(await search('en', 'library')).toEqual(['Libraries open later']);
    expect(await search('en', 'run')).toEqual(['Libraries open later']);
    expect(await search('en', 'libraries')).toEqual(['Libraries open later']);
  });

  it('finds an Arabic word by its stem, whatever its article, prefix or diacritics', async () => {
    await createContent(database, orgId, [
      {
        locale: 'ar',
        title: 'المكتبات المدرسية تمدد ساعات العمل',
        slug: 'المكتبات-المدرسية-تمدد-ساعات-العمل',
        body: 'تزايد الاهتمام بالطاقة الشمسية في المدارس. يتناول التقرير التَّعْلِيمَ في المدن.',
      },
    ]);
    const title = 'المكتبات المدرسية تمدد ساعات العمل';
    expect(await search('ar', 'مكتبة')).toEqual([title]);
    expect(await search('ar', 'طاقة شمسية')).toEqual([title]);
    expect(await search('ar', 'تعليم')).toEqual([title]);
    expect(await search('ar', 'أحمد')).toEqual([]);
  });

  it('ranks a match in the title above one in the summary, above one in the body', async () => {
    await createContent(database, orgId, [
      { locale: 'en', title: 'Desalination, explained', slug: 'desalination-explained' },
    ]);
    await createContent(database, orgId, [
      {
        locale: 'en',
        title: 'Water for cities',
        slug: 'water-for-cities',
        body: 'Several plants now rely on desalination for most of their supply.',
      },
    ]);
    await createContent(database, orgId, [
      {
        locale: 'en',
        title: 'Coastal towns',
        slug: 'coastal-towns',
        summary: 'How desalination changes coastal towns.',
      },
    ]);
    expect(await search('en', 'desalination')).toEqual([
      'Desalination, explained',
      'Coastal towns',
      'Water for cities',
    ]);
  });

  it('ranks an Arabic title match above a body match', async () => {
    await createContent(database, orgId, [
      {
        locale: 'ar',
        title: 'نظرة على التصحر',
        slug: 'نظرة-على-التصحر',
        body: 'تقرير موجز.',
      },
    ]);
    await createContent(database, orgId, [
      {
        locale: 'ar',
        title: 'المياه في المدن',
        slug: 'المياه-في-المدن',
        body: 'يهدد التصحر الأراضي الزراعية في المنطقة.',
      },
    ]);
    expect(await search('ar', 'التصحر')).toEqual(['نظرة على التصحر', 'المياه في المدن']);
  });

  it('uses the stemmer of the locale: simple for other languages, arabic for ar-EG', async () => {
    await createContent(database, orgId, [
      { locale: 'fr', title: 'Les bibliothèques', slug: 'les-bibliotheques', body: 'running' },
      { locale: 'ar-EG', title: 'المكتبات العامة', slug: 'المكتبات-العامة' },
    ]);
    const [fr] = await database.query<{ search: string }>(
      `select search::text as search from content_translations where org_id = $1 and locale = 'fr'`,
      [orgId],
    );
    expect(fr?.search).toContain("'running'");
    expect(fr?.search).toContain("'les'");
    expect(await search('ar-EG', 'مكتبة')).toEqual(['المكتبات العامة']);
  });

  it('recomputes the column when the text changes', async () => {
    const id = await createContent(database, orgId, [
      { locale: 'en', title: 'Draft title', slug: 'draft-title-recompute' },
    ]);
    await database.query(
      `update content_translations set title = 'Marathon season opens' where content_id = $1`,
      [id],
    );
    expect(await search('en', 'marathons')).toEqual(['Marathon season opens']);
  });
});
