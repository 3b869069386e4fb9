import { describe, expect, it } from 'vitest';
import { organizationSlug } from '../../../../shared/auth/accounts.ts';
import { slugify, transliterateArabic } from '../../../../shared/text/slug.ts';

describe('transliterateArabic', () => {
  it.each([
    ['النور', 'alnur'],
    ['مدرسة', 'mdrsa'],
    ['وزارة', 'wzara'],
    ['سعيد', 'said'],
    ['علي', 'ali'],
    ['شركة-الخليج', 'shrka-alkhlij'],
    ['ذهب-ثابت', 'dhhb-thabt'],
    ['مؤسسة', 'mussa'],
    ['پارس', 'pars'],
  ])('writes %s as %s', (arabic, latin) => {
    expect(transliterateArabic(arabic)).toBe(latin);
  });

  it('leaves Latin letters, digits and hyphens alone', () => {
    expect(transliterateArabic('ai-في-2030')).toBe('ai-fi-2030');
  });

  it('writes every Arabic letter of a slug in ASCII', () => {
    const slug = slugify('أبجد هوز حطي كلمن سعفص قرشت ثخذ ضظغ ءآإئؤةى');
    expect(transliterateArabic(slug)).toMatch(/^[a-z-]+$/);
  });
});

describe('organizationSlug', () => {
  it('transliterates an Arabic name instead of giving up on it', () => {
    expect(organizationSlug('شركة النور للتعليم')).toBe('shrka-alnur-lltalim');
    expect(organizationSlug('مكتبة الملك فهد ٢٠٢٤')).toBe('mktba-almlk-fhd-2024');
  });

  it('keeps Latin names as before, and mixes both', () => {
    expect(organizationSlug('Café Crème Engines')).toBe('cafe-creme-engines');
    expect(organizationSlug('Sift العربية')).toBe('sift-alarbia');
  });

  it('is a valid organisation slug, cut at a word boundary within 48 characters', () => {
    const slug = organizationSlug('جمعية '.repeat(20));
    expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(slug.length).toBeLessThanOrEqual(48);
  });

  it('falls back to org when nothing can be written in ASCII', () => {
    expect(organizationSlug('東京')).toBe('org');
    expect(organizationSlug('🎉')).toBe('org');
  });
});
