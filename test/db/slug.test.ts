import { describe, expect, it } from 'vitest';
import { slugify } from '../../shared/text/slug.ts';

describe('slugify', () => {
  it('lower-cases English and joins words with single hyphens', () => {
    expect(slugify('Hello, World!')).toBe('hello-world');
    expect(slugify('  Five   questions -- about  AI  ')).toBe('five-questions-about-ai');
  });

  it('keeps Arabic letters and turns spaces into hyphens', () => {
    expect(slugify('الطاقة الشمسية في المدن العربية')).toBe('الطاقة-الشمسية-في-المدن-العربية');
  });

  it('strips Arabic diacritics (harakat, tanween, shadda, sukun, dagger alef)', () => {
    expect(slugify('كِتَابُ الطَّالِبِ')).toBe('كتاب-الطالب');
    expect(slugify('تخطيطًا مُسبَقًا')).toBe('تخطيطا-مسبقا');
    expect(slugify('هٰذا')).toBe('هذا');
  });

  it('removes tatweel', () => {
    expect(slugify('الـتـعـلـيـم')).toBe('التعليم');
    expect(slugify('الـتَّـعْلِيمُ عـن بُعـد')).toBe('التعليم-عن-بعد');
  });

  it('keeps hamza and madda letters as written', () => {
    expect(slugify('أخبار إقليمية آمنة، مؤتمر رئيس')).toBe('أخبار-إقليمية-آمنة-مؤتمر-رئيس');
  });

  it('drops Arabic and Latin punctuation', () => {
    expect(slugify('ماذا يقول الخبراء؟ «تقرير» جديد؛ أرقام، وحقائق!')).toBe(
      'ماذا-يقول-الخبراء-تقرير-جديد-أرقام-وحقائق',
    );
    expect(slugify('The numbers (and facts): 2026/27 — a review…')).toBe(
      'the-numbers-and-facts-2026-27-a-review',
    );
    expect(slugify("Children's literature: don’t miss it")).toBe(
      'childrens-literature-dont-miss-it',
    );
  });

  it('handles mixed Arabic and English titles', () => {
    expect(slugify('AI في المدارس: دليل Teachers')).toBe('ai-في-المدارس-دليل-teachers');
  });

  it('writes Arabic-Indic and Persian digits as ASCII digits', () => {
    expect(slugify('رؤية ٢٠٣٠')).toBe('رؤية-2030');
    expect(slugify('سال ۱۴۰۳')).toBe('سال-1403');
  });

  it('removes Latin accents and spells out letters that have none', () => {
    expect(slugify('Café Crème à Montréal')).toBe('cafe-creme-a-montreal');
    expect(slugify('Straße Ærø Łódź')).toBe('strasse-aero-lodz');
  });

  it('normalises presentation forms and drops invisible format characters', () => {
    expect(slugify('ﻻ ﺗﻌﻠﻴﻢ')).toBe('لا-تعليم');
    expect(slugify('می\u200cخواهم \u200fكتاب')).toBe('میخواهم-كتاب');
  });

  it('returns an empty string when nothing is left', () => {
    expect(slugify('')).toBe('');
    expect(slugify('   ')).toBe('');
    expect(slugify('!!! ؟؟ — …')).toBe('');
    expect(slugify('ـــ')).toBe('');
    expect(slugify('🎉🎉')).toBe('');
  });

  it('cuts long slugs at a word boundary within maxLength', () => {
    const title = 'A practical guide to the contemporary Arabic novel in fast-growing cities';
    const slug = slugify(title, { maxLength: 40 });
    expect(slug).toBe('a-practical-guide-to-the-contemporary');
    expect(Array.from(slugify('الطاقة '.repeat(30), { maxLength: 50 })).length).toBeLessThanOrEqual(
      50,
    );
    expect(slugify('x'.repeat(100), { maxLength: 10 })).toBe('xxxxxxxxxx');
  });

  it('is idempotent and never leaves leading, trailing or doubled hyphens', () => {
    for (const title of ['-- نظرة -- عامة --', 'Hello -- World', 'الطاقة: ما الذي يتغير؟']) {
      const slug = slugify(title);
      expect(slugify(slug)).toBe(slug);
      expect(slug).not.toMatch(/^-|-$|--/);
    }
  });
});
