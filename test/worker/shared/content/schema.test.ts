import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  applyContentPatch,
  CONTENT_LIMITS,
  ContentInput,
  ContentPatch,
  ContentResource,
  ContentSnapshotSchema,
  jsonBytes,
  Locale,
  mergePatch,
  patchContent,
  Slug,
  Tags,
  TransitionRequest,
} from '../../../../shared/content/schema.ts';
import type { ContentSnapshot } from '../../../../shared/db/schema/content.ts';
import { fieldErrors } from '../../../../shared/errors.ts';
import { newId } from '../../../../shared/ids.ts';

/** The field errors a body gets, as the validation hook would render them. */
function errorsOf(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected a failure, got ${JSON.stringify(result.data)}`);
  return fieldErrors(result.error, 'body').map((e) => `${e.path}: ${e.message}`);
}

const CATEGORY = newId('category');
const valid = {
  translations: {
    en: { title: 'Solar power in Arab cities', summary: 'A short look.', body: '# Hello' },
    ar: { title: 'الطاقة الشمسية في المدن العربية', slug: 'الطاقة-الشمسية' },
  },
  default_locale: 'en',
  category_id: CATEGORY,
  tags: ['Energy', 'solar'],
  metadata: { source: 'wire', seo: { keywords: ['sun'] } },
  publish_at: '2030-01-01T09:00:00Z',
  unpublish_at: '2030-02-01T09:00:00Z',
};

describe('ContentInput (create and full update)', () => {
  it('accepts a bilingual item and fills in the defaults', () => {
    const parsed = ContentInput.parse(valid);
    expect(parsed.translations.en).toEqual({
      title: 'Solar power in Arab cities',
      summary: 'A short look.',
      body: '# Hello',
    });
    expect(parsed.translations.ar).toEqual({
      title: 'الطاقة الشمسية في المدن العربية',
      summary: null,
      body: '',
      slug: 'الطاقة-الشمسية',
    });
    expect(parsed.tags).toEqual(['energy', 'solar']);
    expect(parsed.publish_at).toBe('2030-01-01T09:00:00.000Z');
  });

  it('defaults category, tags, metadata and schedule for a minimal body', () => {
    expect(ContentInput.parse({ translations: { ar: { title: 'مرحبا' } } })).toEqual({
      translations: { ar: { title: 'مرحبا', summary: null, body: '' } },
      default_locale: undefined,
      category_id: null,
      tags: [],
      metadata: {},
      publish_at: null,
      unpublish_at: null,
    });
  });

  it('canonicalises locale keys and default_locale', () => {
    const parsed = ContentInput.parse({
      translations: { 'EN-us': { title: 'Hi' }, 'zh-hant-tw': { title: '你好' } },
      default_locale: 'en-us',
    });
    expect(Object.keys(parsed.translations)).toEqual(['en-US', 'zh-Hant-TW']);
    expect(parsed.default_locale).toBe('en-US');
  });

  it('accepts any BCP 47 locale, not only Arabic and English', () => {
    const parsed = ContentInput.parse({
      translations: {
        fr: { title: 'Bonjour' },
        'ar-EG': { title: 'أهلا' },
        fil: { title: 'Kumusta' },
      },
    });
    expect(Object.keys(parsed.translations)).toEqual(['fr', 'ar-EG', 'fil']);
  });

  it('trims titles and turns a blank summary into null', () => {
    const parsed = ContentInput.parse({ translations: { en: { title: '  Hi  ', summary: '  ' } } });
    expect(parsed.translations.en).toMatchObject({ title: 'Hi', summary: null });
  });

  it('counts characters, not UTF-16 units: 300 emoji are a valid title', () => {
    expect(
      ContentInput.safeParse({ translations: { en: { title: '😀'.repeat(300) } } }).success,
    ).toBe(true);
  });

  it.each([
    [
      'no translations',
      { translations: {} },
      'body.translations: must have at least one translation',
    ],
    ['translations missing', {}, 'body.translations: is required'],
    ['translations null', { translations: null }, 'body.translations: must not be null'],
    [
      'translations an array',
      { translations: [] },
      'body.translations: must be an object keyed by locale',
    ],
    [
      'a malformed locale key',
      { translations: { en_US: { title: 'x' } } },
      'body.translations.en_US: must be a BCP 47 language tag such as en, ar or ar-EG (no extensions, at most 35 characters)',
    ],
    [
      'a locale with an extension',
      { translations: { 'en-u-ca-gregory': { title: 'x' } } },
      'body.translations.en-u-ca-gregory: must be a BCP 47 language tag such as en, ar or ar-EG (no extensions, at most 35 characters)',
    ],
    [
      'two keys for one locale',
      { translations: { en: { title: 'x' }, EN: { title: 'y' } } },
      'body.translations.EN: names the same locale as another key (en)',
    ],
    [
      'a translation that is not an object',
      { translations: { en: 'Hello' } },
      'body.translations.en: must be an object with title, summary, body and slug',
    ],
    [
      'an unknown translation field',
      { translations: { en: { title: 'x', subtitle: 'y' } } },
      'body.translations.en.subtitle: unknown field; accepted: title, summary, body, slug',
    ],
    ['a missing title', { translations: { ar: {} } }, 'body.translations.ar.title: is required'],
    [
      'a blank title',
      { translations: { ar: { title: '   ' } } },
      'body.translations.ar.title: must not be empty',
    ],
    [
      'a title of 301 characters',
      { translations: { ar: { title: 'ب'.repeat(301) } } },
      'body.translations.ar.title: must be at most 300 characters',
    ],
    [
      'a numeric title',
      { translations: { en: { title: 42 } } },
      'body.translations.en.title: must be a string',
    ],
    [
      'a summary of 1,001 characters',
      { translations: { en: { title: 'x', summary: 's'.repeat(1001) } } },
      'body.translations.en.summary: must be at most 1,000 characters',
    ],
    [
      'a body of 200,001 characters',
      { translations: { en: { title: 'x', body: 'b'.repeat(200_001) } } },
      'body.translations.en.body: must be at most 200,000 characters',
    ],
    [
      'a null body',
      { translations: { en: { title: 'x', body: null } } },
      'body.translations.en.body: must not be null',
    ],
    [
      'a status in the body',
      { translations: { en: { title: 'x' } }, status: 'published' },
      'body.status: unknown field; accepted: translations, default_locale, category_id, tags, metadata, publish_at, unpublish_at',
    ],
    ['a body that is not an object', 'hello', 'body: must be a JSON object'],
  ])('refuses %s', (_, body, error) => {
    expect(errorsOf(ContentInput, body)).toEqual([error]);
  });

  it(`refuses more than ${CONTENT_LIMITS.translations} translations`, () => {
    // qaa…qtz are the language codes reserved for local use: valid tags, 51 distinct ones.
    const languages = Array.from({ length: 51 }, (_, i) => {
      const a = String.fromCharCode(97 + Math.floor(i / 26));
      const b = String.fromCharCode(97 + (i % 26));
      return `q${a}${b}`;
    });
    const body = { translations: Object.fromEntries(languages.map((l) => [l, { title: 't' }])) };
    expect(errorsOf(ContentInput, body)).toEqual([
      'body.translations: must have at most 50 translations',
    ]);
  });

  it.each([
    ['an empty slug', '', 'must not be empty'],
    ['a slug of 201 characters', 'a'.repeat(201), 'must be at most 200 characters'],
    ['a slug with a space', 'hello world', 'must not contain whitespace or control characters'],
    ['a slug with a tab', 'hello\tworld', 'must not contain whitespace or control characters'],
    ['a slug with a slash', 'a/b', 'must not contain / ? # or %'],
    ['a slug with a question mark', 'a?b', 'must not contain / ? # or %'],
    ['a slug with a hash', 'a#b', 'must not contain / ? # or %'],
    ['a slug with a percent sign', '100%', 'must not contain / ? # or %'],
    ['a slug with a leading hyphen', '-hello', "must not start or end with '-'"],
    ['a slug with a trailing hyphen', 'hello-', "must not start or end with '-'"],
  ])('refuses %s', (_, slug, message) => {
    expect(errorsOf(ContentInput, { translations: { en: { title: 'x', slug } } })).toEqual([
      `body.translations.en.slug: ${message}`,
    ]);
  });

  it('accepts Arabic, mixed and 200-character slugs, normalised to NFC', () => {
    expect(Slug.parse('مرحبا-بالعالم')).toBe('مرحبا-بالعالم');
    expect(Slug.parse('ai-في-المدارس')).toBe('ai-في-المدارس');
    expect(Slug.parse('a'.repeat(200))).toHaveLength(200);
    expect(Slug.parse('cafe\u0301')).toBe('café');
  });

  describe('default_locale', () => {
    it('must be one of the translations', () => {
      expect(
        errorsOf(ContentInput, { translations: { en: { title: 'x' } }, default_locale: 'ar' }),
      ).toEqual(['body.default_locale: must be one of the translations (en)']);
    });

    it('must be a locale', () => {
      expect(
        errorsOf(ContentInput, { translations: { en: { title: 'x' } }, default_locale: 'english' }),
      ).toEqual([
        'body.default_locale: must be a BCP 47 language tag such as en, ar or ar-EG (no extensions, at most 35 characters)',
      ]);
    });

    it('matches a translation key written in another case', () => {
      const parsed = ContentInput.parse({
        translations: { 'ar-eg': { title: 'x' } },
        default_locale: 'AR-EG',
      });
      expect(parsed.default_locale).toBe('ar-EG');
    });
  });

  describe('tags', () => {
    it('lower-cases, trims and de-duplicates, keeping the first order', () => {
      expect(Tags.parse(['News', ' news ', 'AI', 'تقنية', 'ai', 'تقنية'])).toEqual([
        'news',
        'ai',
        'تقنية',
      ]);
    });

    it.each([
      [
        'more than 50 tags',
        Array.from({ length: 51 }, (_, i) => `t${i}`),
        'body.tags: must have at most 50 tags',
      ],
      ['an empty tag', ['ok', '  '], 'body.tags.1: must not be empty'],
      ['a tag of 65 characters', ['t'.repeat(65)], 'body.tags.0: must be at most 64 characters'],
      [
        'a tag with a control character',
        ['a\u0000b'],
        'body.tags.0: must not contain control characters',
      ],
      ['a tag that is not a string', [7], 'body.tags.0: must be a string'],
      ['tags as a string', 'a,b', 'body.tags: must be an array of tags'],
    ])('refuses %s', (_, tags, error) => {
      expect(errorsOf(ContentInput, { translations: { en: { title: 'x' } }, tags })).toEqual([
        error,
      ]);
    });

    it('accepts 50 tags of 64 characters', () => {
      const tags = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(64, 'x'));
      expect(Tags.parse(tags)).toHaveLength(50);
    });
  });

  describe('metadata', () => {
    it('accepts a JSON object up to 16 KiB', () => {
      const metadata = { blob: 'x'.repeat(CONTENT_LIMITS.metadataBytes - 11) };
      expect(jsonBytes(metadata)).toBe(CONTENT_LIMITS.metadataBytes);
      expect(
        ContentInput.safeParse({ translations: { en: { title: 'x' } }, metadata }).success,
      ).toBe(true);
    });

    it('refuses more than 16 KiB, naming the limit and the size', () => {
      const metadata = { blob: 'x'.repeat(CONTENT_LIMITS.metadataBytes - 10) };
      expect(errorsOf(ContentInput, { translations: { en: { title: 'x' } }, metadata })).toEqual([
        'body.metadata: must be at most 16 KiB (16384 bytes) as JSON; this is 16385 bytes',
      ]);
    });

    it('counts UTF-8 bytes, so Arabic text weighs twice its length', () => {
      const metadata = { note: 'ع'.repeat(8200) };
      expect(errorsOf(ContentInput, { translations: { en: { title: 'x' } }, metadata })).toEqual([
        'body.metadata: must be at most 16 KiB (16384 bytes) as JSON; this is 16411 bytes',
      ]);
    });

    it.each([
      ['an array', []],
      ['a string', 'x'],
      ['null', null],
    ])('refuses %s', (_, metadata) => {
      const [error] = errorsOf(ContentInput, { translations: { en: { title: 'x' } }, metadata });
      expect(error).toMatch(/^body\.metadata: must (be a JSON object|not be null)$/);
    });

    it('refuses nesting deeper than 20 levels', () => {
      let deep: Record<string, unknown> = { leaf: 1 };
      for (let i = 0; i < 20; i++) deep = { next: deep };
      expect(
        errorsOf(ContentInput, { translations: { en: { title: 'x' } }, metadata: deep }),
      ).toEqual(['body.metadata: must nest at most 20 levels deep']);
    });
  });

  describe('category_id', () => {
    it.each([
      ['a content id', newId('content')],
      ['a malformed id', 'cat_123'],
      ['a number', 12],
    ])('refuses %s', (_, category_id) => {
      const [error] = errorsOf(ContentInput, { translations: { en: { title: 'x' } }, category_id });
      expect(error).toMatch(/^body\.category_id: must be a category id\b.*cat_/);
    });

    it('accepts null (no category)', () => {
      expect(
        ContentInput.parse({ translations: { en: { title: 'x' } }, category_id: null }).category_id,
      ).toBeNull();
    });
  });

  describe('publish_at and unpublish_at', () => {
    it('normalises RFC 3339 times with offsets to UTC', () => {
      const parsed = ContentInput.parse({
        translations: { en: { title: 'x' } },
        publish_at: '2030-01-01T12:00:00+03:00',
        unpublish_at: '2030-01-01T12:00:00.5-01:00',
      });
      expect(parsed.publish_at).toBe('2030-01-01T09:00:00.000Z');
      expect(parsed.unpublish_at).toBe('2030-01-01T13:00:00.500Z');
    });

    it.each([
      'tomorrow',
      '2030-01-01',
      '2030-01-01 12:00:00Z',
      '2030-01-01T12:00Z',
      '2030-02-30T00:00:00Z',
    ])('refuses %s', (publish_at) => {
      expect(errorsOf(ContentInput, { translations: { en: { title: 'x' } }, publish_at })).toEqual([
        'body.publish_at: must be an RFC 3339 date-time such as 2025-01-01T12:00:00Z',
      ]);
    });

    it('refuses unpublish_at at or before publish_at', () => {
      for (const unpublish_at of ['2030-01-01T09:00:00Z', '2029-12-31T00:00:00Z']) {
        expect(
          errorsOf(ContentInput, {
            translations: { en: { title: 'x' } },
            publish_at: '2030-01-01T12:00:00+03:00',
            unpublish_at,
          }),
        ).toEqual(['body.unpublish_at: must be later than publish_at']);
      }
    });

    it('accepts unpublish_at alone', () => {
      expect(
        ContentInput.safeParse({
          translations: { en: { title: 'x' } },
          unpublish_at: '2030-01-01T00:00:00Z',
        }).success,
      ).toBe(true);
    });
  });

  it('reports every broken field of a body at once', () => {
    expect(
      errorsOf(ContentInput, {
        translations: { en: { title: '', summary: 5 } },
        tags: [''],
        metadata: [],
        category_id: 'nope',
        publish_at: 'soon',
      }),
    ).toEqual([
      'body.translations.en.title: must not be empty',
      'body.translations.en.summary: must be a string or null',
      'body.category_id: must be a category id: "cat_" and 26 characters from 0-9 and a-z except i, l, o, u (cat_01jd5x3k7yf0v9r2m4q6s8t1wz)',
      'body.tags.0: must not be empty',
      'body.metadata: must be a JSON object',
      'body.publish_at: must be an RFC 3339 date-time such as 2025-01-01T12:00:00Z',
    ]);
  });
});

describe('Locale', () => {
  it.each([
    ['en', 'en'],
    ['EN-us', 'en-US'],
    ['ar-eg', 'ar-EG'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    [' fr ', 'fr'],
    ['iw', 'he'],
  ])('canonicalises %s to %s', (input, canonical) => {
    expect(Locale.parse(input)).toBe(canonical);
  });

  it.each([
    '',
    'e',
    'english',
    'en_US',
    'en-',
    'x-private',
    'en-u-ca-gregory',
    `en-${'a'.repeat(40)}`,
  ])('refuses %j', (input) => {
    expect(Locale.safeParse(input).success).toBe(false);
  });
});

const snapshot = (over: Partial<ContentSnapshot> = {}): ContentSnapshot => ({
  id: 'cnt_01jd5x3k7yf0v9r2m4q6s8t1wz',
  org_id: 'org_01jd5x3k7yf0v9r2m4q6s8t1wz',
  status: 'draft',
  version: 4,
  category_id: CATEGORY,
  tags: ['energy'],
  metadata: { source: 'wire', seo: { title: 'Solar', keywords: ['sun'] } },
  default_locale: 'en',
  publish_at: null,
  unpublish_at: null,
  published_at: null,
  created_by: null,
  updated_by: null,
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-02T00:00:00.000Z',
  deleted_at: null,
  translations: {
    en: { title: 'Solar power', summary: 'Short', body: 'Body', slug: 'solar-power' },
    ar: { title: 'الطاقة الشمسية', summary: null, body: 'نص', slug: 'الطاقة-الشمسية' },
  },
  ...over,
});

describe('mergePatch (RFC 7396)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('applies the RFC examples: %j + %j = %j', (target, patch, result) => {
    expect(mergePatch(target, patch)).toEqual(result);
  });

  it('modifies neither argument', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });

  it('keeps a __proto__ member as data', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}');
    const merged = mergePatch({}, patch) as Record<string, unknown>;
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});

describe('ContentPatch and patchContent (partial update)', () => {
  const patch = (body: unknown) => ContentPatch.parse(body);

  it('changes only the fields it names', () => {
    const result = patchContent(
      snapshot(),
      patch({ translations: { en: { title: 'Wind power' } } }),
    );
    expect(result).toEqual({
      ok: true,
      input: {
        translations: {
          en: { title: 'Wind power', summary: 'Short', body: 'Body', slug: 'solar-power' },
          ar: { title: 'الطاقة الشمسية', summary: null, body: 'نص', slug: 'الطاقة-الشمسية' },
        },
        default_locale: 'en',
        category_id: CATEGORY,
        tags: ['energy'],
        metadata: { source: 'wire', seo: { title: 'Solar', keywords: ['sun'] } },
        publish_at: null,
        unpublish_at: null,
      },
    });
  });

  it('removes a locale with null and adds a new one', () => {
    const result = patchContent(
      snapshot(),
      patch({ translations: { ar: null, FR: { title: 'Énergie solaire' } } }),
    );
    expect(result.ok && result.input.translations).toEqual({
      en: { title: 'Solar power', summary: 'Short', body: 'Body', slug: 'solar-power' },
      fr: { title: 'Énergie solaire', summary: null, body: '' },
    });
  });

  it('resets summary and body with null, and regenerates the slug from the new title', () => {
    const result = patchContent(
      snapshot(),
      patch({
        translations: { ar: { title: 'الإعلام الرقمي', summary: null, body: null, slug: null } },
      }),
    );
    expect(result.ok && result.input.translations.ar).toEqual({
      title: 'الإعلام الرقمي',
      summary: null,
      body: '',
      slug: 'الاعلام-الرقمي',
    });
  });

  it('merges metadata recursively, null deleting a key; null metadata empties it', () => {
    const merged = patchContent(
      snapshot(),
      patch({ metadata: { source: null, seo: { title: 'Sun', keywords: null }, lang: 'ar' } }),
    );
    expect(merged.ok && merged.input.metadata).toEqual({ seo: { title: 'Sun' }, lang: 'ar' });
    const emptied = patchContent(snapshot(), patch({ metadata: null }));
    expect(emptied.ok && emptied.input.metadata).toEqual({});
  });

  it('clears category, tags and schedule with null', () => {
    const result = patchContent(
      snapshot({ publish_at: '2030-01-01T00:00:00.000Z' }),
      patch({ category_id: null, tags: null, publish_at: null }),
    );
    expect(result.ok && result.input).toMatchObject({
      category_id: null,
      tags: [],
      publish_at: null,
    });
  });

  it('replaces tags whole, normalised', () => {
    const result = patchContent(snapshot(), patch({ tags: ['AI', 'ai', 'Solar'] }));
    expect(result.ok && result.input.tags).toEqual(['ai', 'solar']);
  });

  it('moves the default locale when its translation is removed and no new one is named', () => {
    const result = patchContent(snapshot(), patch({ translations: { en: null } }));
    expect(result.ok && result.input.default_locale).toBe('ar');
  });

  it('refuses removing the last translation', () => {
    const result = patchContent(snapshot(), patch({ translations: { en: null, ar: null } }));
    expect(result.ok).toBe(false);
    expect(
      !result.ok && fieldErrors(result.error, 'body').map((e) => `${e.path}: ${e.message}`),
    ).toEqual(['body.translations: must have at least one translation']);
  });

  it('refuses a new locale without a title', () => {
    const result = patchContent(snapshot(), patch({ translations: { fr: { summary: 'Résumé' } } }));
    expect(
      !result.ok && fieldErrors(result.error, 'body').map((e) => `${e.path}: ${e.message}`),
    ).toEqual(['body.translations.fr.title: is required']);
  });

  it('refuses a default_locale that has no translation', () => {
    const result = patchContent(snapshot(), patch({ default_locale: 'fr' }));
    expect(
      !result.ok && fieldErrors(result.error, 'body').map((e) => `${e.path}: ${e.message}`),
    ).toEqual(['body.default_locale: must be one of the translations (en, ar)']);
  });

  it('refuses metadata that the merge makes larger than 16 KiB', () => {
    const current = snapshot({ metadata: { a: 'x'.repeat(10_000) } });
    const result = patchContent(current, patch({ metadata: { b: 'y'.repeat(7_000) } }));
    expect(!result.ok && fieldErrors(result.error, 'body')[0]?.message).toMatch(
      /^must be at most 16 KiB \(16384 bytes\) as JSON; this is 170\d\d bytes$/,
    );
  });

  it('refuses an unpublish_at that the merge puts before publish_at', () => {
    const current = snapshot({ publish_at: '2030-01-02T00:00:00.000Z' });
    const result = patchContent(current, patch({ unpublish_at: '2030-01-01T00:00:00Z' }));
    expect(!result.ok && fieldErrors(result.error, 'body')[0]).toMatchObject({
      path: 'body.unpublish_at',
      message: 'must be later than publish_at',
    });
  });

  it.each([
    [{ translations: null }, 'body.translations: must not be null'],
    [{ translations: { en: { title: null } } }, 'body.translations.en.title: must not be null'],
    [{ translations: { en: { title: '' } } }, 'body.translations.en.title: must not be empty'],
    [
      { translations: { en: { slug: 'a b' } } },
      'body.translations.en.slug: must not contain whitespace or control characters',
    ],
    [
      { translations: { 'e!': null } },
      'body.translations.e!: must be a BCP 47 language tag such as en, ar or ar-EG (no extensions, at most 35 characters)',
    ],
    [{ default_locale: null }, 'body.default_locale: must not be null'],
    [{ metadata: [1] }, 'body.metadata: must be a JSON object or null'],
    [{ tags: [''] }, 'body.tags.0: must not be empty'],
    [
      { version: 3 },
      'body.version: unknown field; accepted: translations, default_locale, category_id, tags, metadata, publish_at, unpublish_at',
    ],
  ])('refuses the patch %j', (body, error) => {
    expect(errorsOf(ContentPatch, body)).toEqual([error]);
  });

  it('treats an empty patch as no change', () => {
    const current = snapshot();
    const result = patchContent(current, patch({}));
    expect(result.ok && result.input.translations).toEqual(current.translations);
    expect(applyContentPatch(current, patch({})).metadata).toEqual(current.metadata);
  });

  it('does not modify the current snapshot', () => {
    const current = snapshot();
    const before = structuredClone(current);
    patchContent(
      current,
      patch({ translations: { en: { title: 'x' }, ar: null }, metadata: { source: null } }),
    );
    expect(current).toEqual(before);
  });
});

describe('TransitionRequest', () => {
  it('accepts each action, and a schedule with both times', () => {
    expect(TransitionRequest.parse({ action: 'submit', comment: '  Ready  ' })).toEqual({
      action: 'submit',
      comment: 'Ready',
    });
    expect(
      TransitionRequest.parse({
        action: 'schedule',
        publish_at: '2030-01-01T00:00:00Z',
        unpublish_at: '2030-02-01T00:00:00Z',
      }),
    ).toEqual({
      action: 'schedule',
      publish_at: '2030-01-01T00:00:00.000Z',
      unpublish_at: '2030-02-01T00:00:00.000Z',
    });
    expect(
      TransitionRequest.parse({ action: 'publish', unpublish_at: null }).unpublish_at,
    ).toBeNull();
  });

  it.each([
    [{}, 'body.action: is required'],
    [
      { action: 'delete' },
      'body.action: must be one of submit, request_changes, approve, publish, schedule, unpublish, archive, restore',
    ],
    [{ action: 'schedule' }, 'body.publish_at: is required to schedule'],
    [
      { action: 'approve', publish_at: '2030-01-01T00:00:00Z' },
      'body.publish_at: is only accepted with action schedule',
    ],
    [
      { action: 'archive', unpublish_at: '2030-01-01T00:00:00Z' },
      'body.unpublish_at: is only accepted with action schedule or publish',
    ],
    [
      {
        action: 'schedule',
        publish_at: '2030-01-02T00:00:00Z',
        unpublish_at: '2030-01-01T00:00:00Z',
      },
      'body.unpublish_at: must be later than publish_at',
    ],
    [
      { action: 'submit', comment: 'c'.repeat(1001) },
      'body.comment: must be at most 1,000 characters',
    ],
    [
      { action: 'submit', note: 'x' },
      'body.note: unknown field; accepted: action, publish_at, unpublish_at, comment',
    ],
  ])('refuses %j', (body, error) => {
    expect(errorsOf(TransitionRequest, body)).toEqual([error]);
  });
});

describe('ContentSnapshotSchema and ContentResource', () => {
  it('accept a stored snapshot and its resource', () => {
    const s = snapshot();
    expect(ContentSnapshotSchema.parse(s)).toEqual(s);
    const resource = { ...s, scheduled: false, available_locales: ['ar', 'en'], locale: null };
    expect(ContentResource.parse(resource)).toEqual(resource);
  });

  it('refuse a snapshot with a non-UTC time or an unknown status', () => {
    expect(
      ContentSnapshotSchema.safeParse(snapshot({ created_at: '2025-01-01T00:00:00+02:00' }))
        .success,
    ).toBe(false);
    expect(ContentSnapshotSchema.safeParse({ ...snapshot(), status: 'live' }).success).toBe(false);
  });
});
