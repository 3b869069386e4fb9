import { describe, expect, it } from 'vitest';
import {
  FALLBACK_SLUG,
  foldSlug,
  inSlugFamily,
  MAX_SLUG_LENGTH,
  slugFromTitle,
  slugProblem,
  uniqueSlug,
} from '../../../../shared/content/slug.ts';

describe('slugFromTitle', () => {
  it.each([
    ['Hello, World!', 'hello-world'],
    ['  Five   questions -- about  AI  ', 'five-questions-about-ai'],
    ['Café Crème à Montréal', 'cafe-creme-a-montreal'],
    ['Straße Ærø Łódź', 'strasse-aero-lodz'],
    ["Children's literature: don’t miss it", 'childrens-literature-dont-miss-it'],
    ['2026/27 budget — a review…', '2026-27-budget-a-review'],
  ])('writes the English title %j as %j', (title, slug) => {
    expect(slugFromTitle(title)).toBe(slug);
  });

  it.each([
    ['مرحبا بالعالم', 'مرحبا-بالعالم'],
    ['الطاقة الشمسية في المدن العربية', 'الطاقة-الشمسية-في-المدن-العربية'],
    [
      'ماذا يقول الخبراء؟ «تقرير» جديد؛ أرقام، وحقائق!',
      'ماذا-يقول-الخبراء-تقرير-جديد-ارقام-وحقائق',
    ],
    ['رؤية ٢٠٣٠', 'رؤية-2030'],
  ])('keeps the Arabic title %j in Arabic script: %j', (title, slug) => {
    expect(slugFromTitle(title)).toBe(slug);
  });

  it('removes Arabic diacritics (harakat, tanween, shadda, sukun, dagger alef)', () => {
    expect(slugFromTitle('كِتَابُ الطَّالِبِ')).toBe('كتاب-الطالب');
    expect(slugFromTitle('تخطيطًا مُسبَقًا')).toBe('تخطيطا-مسبقا');
    expect(slugFromTitle('هٰذا')).toBe('هذا');
    expect(slugFromTitle('مَرْحَبًا بِالْعَالَمِ')).toBe('مرحبا-بالعالم');
  });

  it('removes tatweel', () => {
    expect(slugFromTitle('الـتَّـعْلِيمُ عـن بُعـد')).toBe('التعليم-عن-بعد');
  });

  it('folds the alef forms into a bare alef, and keeps other hamza letters', () => {
    expect(slugFromTitle('أخبار إقليمية آمنة')).toBe('اخبار-اقليمية-امنة');
    expect(slugFromTitle('ٱلْحَمْد')).toBe('الحمد');
    expect(slugFromTitle('الإسلام')).toBe(slugFromTitle('الاسلام'));
    expect(slugFromTitle('مؤتمر رئيس سماء')).toBe('مؤتمر-رئيس-سماء');
  });

  it('handles mixed Arabic and English titles', () => {
    expect(slugFromTitle('AI في المدارس: دليل Teachers')).toBe('ai-في-المدارس-دليل-teachers');
    expect(slugFromTitle('Python للمبتدئين ٢٠٢٥')).toBe('python-للمبتدئين-2025');
  });

  it('cuts long titles at a word boundary within the cap (80 by default)', () => {
    const title = 'A practical guide to the contemporary Arabic novel in fast-growing cities';
    expect(slugFromTitle(title, { maxLength: 40 })).toBe('a-practical-guide-to-the-contemporary');
    const arabic = slugFromTitle('الطاقة الشمسية '.repeat(20));
    expect(Array.from(arabic).length).toBeLessThanOrEqual(80);
    expect(arabic).toMatch(/^(الطاقة-الشمسية-)*الطاقة(-الشمسية)?$/);
  });

  it('falls back when the title has no letters or digits', () => {
    expect(slugFromTitle('🎉🎉')).toBe(FALLBACK_SLUG);
    expect(slugFromTitle('؟؟ — …', { fallback: 'item' })).toBe('item');
  });

  it('always produces a valid slug', () => {
    for (const title of [
      '-- نظرة -- عامة --',
      'a/b?c#d%e',
      'x'.repeat(500),
      '\u0000tab\there',
      '🎉',
    ]) {
      expect(slugProblem(slugFromTitle(title))).toBeUndefined();
    }
  });
});

describe('slugProblem', () => {
  it('accepts slugs in any script up to 200 characters', () => {
    for (const slug of [
      'hello',
      'مرحبا-بالعالم',
      '你好',
      'a'.repeat(MAX_SLUG_LENGTH),
      'ب'.repeat(200),
    ]) {
      expect(slugProblem(slug)).toBeUndefined();
    }
  });

  it.each([
    ['', 'must not be empty'],
    ['a'.repeat(201), 'must be at most 200 characters'],
    ['a b', 'must not contain whitespace or control characters'],
    ['a\u00a0b', 'must not contain whitespace or control characters'],
    ['a\u0007b', 'must not contain whitespace or control characters'],
    ['a/b', 'must not contain / ? # or %'],
    ['-a', "must not start or end with '-'"],
    ['a-', "must not start or end with '-'"],
  ])('refuses %j: %s', (slug, problem) => {
    expect(slugProblem(slug)).toBe(problem);
  });
});

describe('uniqueSlug', () => {
  it('returns the base when it is free', () => {
    expect(uniqueSlug('hello-world', new Set())).toBe('hello-world');
  });

  it('adds -2, -3, … until a slug is free', () => {
    const taken = new Set(['hello-world', 'hello-world-2', 'hello-world-3']);
    expect(uniqueSlug('hello-world', taken)).toBe('hello-world-4');
    expect(uniqueSlug('مرحبا-بالعالم', new Set(['مرحبا-بالعالم']))).toBe('مرحبا-بالعالم-2');
  });

  it('fills the first gap, and has no limit on attempts', () => {
    const taken = new Set(['x', ...Array.from({ length: 999 }, (_, i) => `x-${i + 2}`)]);
    expect(uniqueSlug('x', taken)).toBe('x-1001');
    taken.delete('x-17');
    expect(uniqueSlug('x', taken)).toBe('x-17');
  });

  it('compares case-insensitively (the taken set is folded)', () => {
    expect(uniqueSlug('Solar', new Set(['solar']))).toBe('Solar-2');
  });

  it('is deterministic', () => {
    const taken = new Set(['a', 'a-2']);
    const runs = [1, 2, 3].map(() => uniqueSlug('a', taken));
    expect(new Set(runs)).toEqual(new Set(['a-3']));
  });

  it('cuts the base to keep the suffixed slug within the maximum', () => {
    const base = `${'a'.repeat(197)}-bc`;
    const slug = uniqueSlug(base, new Set([base]));
    expect(slug).toBe(`${'a'.repeat(197)}-2`);
    expect(slugProblem(slug)).toBeUndefined();
    expect(uniqueSlug('abc-de', new Set(['abc-de']), { maxLength: 6 })).toBe('abc-2');
  });

  it('uses the fallback slug for an empty base', () => {
    expect(uniqueSlug('', new Set())).toBe(FALLBACK_SLUG);
  });
});

describe('inSlugFamily', () => {
  it.each([
    ['solar', true],
    ['solar-2', true],
    ['SOLAR-17', true],
    ['solar-energy', false],
    ['solar-2-b', false],
    ['solar-', false],
    ['solarx', false],
    ['sola', false],
  ])('%s is in the family of solar: %s', (slug, member) => {
    expect(inSlugFamily(slug, 'solar')).toBe(member);
  });

  it('holds every slug uniqueSlug can hand out for a base', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const slug = uniqueSlug('مرحبا', taken);
      expect(inSlugFamily(slug, 'مرحبا')).toBe(true);
      taken.add(foldSlug(slug));
    }
  });
});
