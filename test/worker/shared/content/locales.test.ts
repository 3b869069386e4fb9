import { describe, expect, it } from 'vitest';
import {
  canonicalLocale,
  chooseDefaultLocale,
  parentLocales,
  parseAcceptLanguage,
  resolveLocale,
} from '../../../../shared/content/locales.ts';

describe('canonicalLocale', () => {
  it.each([
    ['en', 'en'],
    ['EN', 'en'],
    ['en-us', 'en-US'],
    ['AR-eg', 'ar-EG'],
    ['zh-hant-tw', 'zh-Hant-TW'],
    ['sr-latn', 'sr-Latn'],
    ['es-419', 'es-419'],
    ['iw', 'he'],
  ])('%s → %s', (tag, canonical) => {
    expect(canonicalLocale(tag)).toBe(canonical);
  });

  it.each(['', 'e', 'en_US', 'english', 'en--us', 'x-private', 'en-u-ca-gregory', 'a'.repeat(36)])(
    'refuses %j',
    (tag) => {
      expect(canonicalLocale(tag)).toBeUndefined();
    },
  );
});

describe('parentLocales', () => {
  it('truncates subtags, most specific first', () => {
    expect(parentLocales('zh-Hant-TW')).toEqual(['zh-Hant', 'zh']);
    expect(parentLocales('ar-EG')).toEqual(['ar']);
    expect(parentLocales('en')).toEqual([]);
  });
});

describe('resolveLocale', () => {
  const item = { available: ['en', 'ar', 'fr-CA'], defaultLocale: 'ar', orgDefaultLocale: 'en' };

  it('serves the exact locale', () => {
    expect(resolveLocale({ ...item, requested: ['en'] })).toEqual({
      locale: 'en',
      tried: ['en'],
      fallback: false,
    });
  });

  it('matches case-insensitively and canonicalises the request', () => {
    expect(resolveLocale({ ...item, requested: ['FR-ca'] })).toMatchObject({
      locale: 'fr-CA',
      fallback: false,
    });
  });

  it('falls back from ar-EG to ar', () => {
    expect(resolveLocale({ ...item, requested: ['ar-EG'] })).toEqual({
      locale: 'ar',
      tried: ['ar-EG', 'ar'],
      fallback: true,
    });
  });

  it('walks every parent of a long tag', () => {
    expect(
      resolveLocale({ requested: ['zh-Hant-TW'], available: ['zh', 'en'], defaultLocale: 'en' }),
    ).toEqual({ locale: 'zh', tried: ['zh-Hant-TW', 'zh-Hant', 'zh'], fallback: true });
  });

  it('prefers another variant of the same language to a different language', () => {
    expect(resolveLocale({ ...item, requested: ['fr'] })).toEqual({
      locale: 'fr-CA',
      tried: ['fr', 'fr-CA'],
      fallback: true,
    });
  });

  it("falls back to the item's default locale", () => {
    expect(resolveLocale({ ...item, requested: ['de-AT'] })).toEqual({
      locale: 'ar',
      tried: ['de-AT', 'de', 'ar'],
      fallback: true,
    });
  });

  it("falls back to the organisation's default when the item's is missing", () => {
    expect(
      resolveLocale({
        requested: ['de'],
        available: ['en', 'fr'],
        defaultLocale: 'ar',
        orgDefaultLocale: 'en',
      }),
    ).toEqual({ locale: 'en', tried: ['de', 'ar', 'en'], fallback: true });
  });

  it('falls back to any available locale, the first in code-point order', () => {
    expect(
      resolveLocale({ requested: ['de'], available: ['tr', 'fr'], defaultLocale: null }),
    ).toEqual({ locale: 'fr', tried: ['de', 'fr'], fallback: true });
  });

  it('tries preferences in order before any default', () => {
    expect(resolveLocale({ ...item, requested: ['de', 'en-GB', 'ar'] })).toEqual({
      locale: 'en',
      tried: ['de', 'en-GB', 'en'],
      fallback: true,
    });
  });

  it('does not call a lower preference a fallback', () => {
    expect(resolveLocale({ ...item, requested: ['de', 'ar'] })).toMatchObject({
      locale: 'ar',
      fallback: false,
    });
  });

  it('starts at the default locale when nothing is requested', () => {
    expect(resolveLocale({ ...item, requested: [] })).toEqual({
      locale: 'ar',
      tried: ['ar'],
      fallback: false,
    });
  });

  it('returns null when the item has no translation at all', () => {
    expect(resolveLocale({ requested: ['en'], available: [], defaultLocale: 'en' })).toEqual({
      locale: null,
      tried: ['en'],
      fallback: true,
    });
  });

  it('never tries a locale twice', () => {
    const { tried } = resolveLocale({
      requested: ['ar-EG', 'ar', 'AR'],
      available: ['en'],
      defaultLocale: 'ar',
      orgDefaultLocale: 'en',
    });
    expect(tried).toEqual(['ar-EG', 'ar', 'en']);
  });
});

describe('chooseDefaultLocale', () => {
  it('takes the first preferred locale that has a translation, else the first translation', () => {
    expect(chooseDefaultLocale(['en', 'ar'], ['fr', 'ar'])).toBe('ar');
    expect(chooseDefaultLocale(['en', 'ar'], [null, undefined])).toBe('en');
    expect(chooseDefaultLocale(['fr'])).toBe('fr');
    expect(chooseDefaultLocale([])).toBeUndefined();
  });
});

describe('parseAcceptLanguage', () => {
  it('orders by q-value, ties in header order', () => {
    expect(parseAcceptLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5')).toEqual([
      'fr-CH',
      'fr',
      'en',
      'de',
    ]);
    expect(parseAcceptLanguage('en;q=0.5, ar, ar-EG;q=0.9, fr')).toEqual([
      'ar',
      'fr',
      'ar-EG',
      'en',
    ]);
  });

  it('canonicalises and de-duplicates, keeping the best weight', () => {
    expect(parseAcceptLanguage('en-us;q=0.4, AR-eg, EN-US;q=0.9')).toEqual(['ar-EG', 'en-US']);
  });

  it('drops q=0, the wildcard, malformed entries and ranges Sift cannot store', () => {
    expect(
      parseAcceptLanguage('ar;q=0, *, en_US, ;q=1, en;q=2, de;q=abc, fr;q=0.500, x-klingon, it'),
    ).toEqual(['it', 'fr']);
  });

  it('cuts off extensions', () => {
    expect(parseAcceptLanguage('en-US-u-ca-gregory;q=0.8, ar-x-private')).toEqual(['ar', 'en-US']);
  });

  it('accepts whitespace around parameters and upper-case Q', () => {
    expect(parseAcceptLanguage(' ar ; Q = 0.3 ,en ; q=0.6')).toEqual(['en', 'ar']);
  });

  it('returns nothing for a missing or empty header', () => {
    expect(parseAcceptLanguage(undefined)).toEqual([]);
    expect(parseAcceptLanguage(null)).toEqual([]);
    expect(parseAcceptLanguage('')).toEqual([]);
    expect(parseAcceptLanguage('*')).toEqual([]);
  });

  it('reads at most 20 entries of a long header', () => {
    const header = Array.from(
      { length: 100 },
      (_, i) =>
        `q${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`,
    ).join(',');
    expect(parseAcceptLanguage(header)).toHaveLength(20);
  });
});
