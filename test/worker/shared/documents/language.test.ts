import { describe, expect, it } from 'vitest';
import { detectDocumentLanguage } from '../../../../shared/documents/language.ts';

describe('detectDocumentLanguage', () => {
  it.each([
    ['The survey covered eleven sites along the bay and ran for fourteen weeks.', 'en', 'Latn'],
    ['شمل المسح إحدى عشرة نقطة على امتداد الخليج واستمر أربعة عشر أسبوعا.', 'ar', 'Arab'],
    ['این گزارش درباره کیفیت آب در خلیج است و نتیجه‌گیری می‌کند که چه باید کرد.', 'fa', 'Arab'],
    ['Обследование охватило одиннадцать точек вдоль залива.', 'und', 'Cyrl'],
    ['Η έρευνα κάλυψε έντεκα σημεία κατά μήκος του κόλπου.', 'el', 'Grek'],
    ['調査は湾に沿って十一か所で行われた。', 'ja', 'Jpan'],
    ["L'enquête a couvert onze sites le long de la baie pendant quatorze semaines.", 'und', 'Latn'],
  ])('finds the language of %s', (text, code, script) => {
    const language = detectDocumentLanguage(text);
    expect([language.code, language.script]).toEqual([code, script]);
    expect(language.confidence).toBeGreaterThan(0);
  });

  it('calls mostly Arabic text with English terms Arabic', () => {
    const language = detectDocumentLanguage(
      'قاس الباحثون الأكسجين المذاب (dissolved oxygen) في كل نقطة من نقاط الخليج.',
    );
    expect(language.code).toBe('ar');
    expect(language.confidence).toBeLessThan(1);
  });

  it('gives und with no confidence for text without letters', () => {
    expect(detectDocumentLanguage('12 345 — 67.8 %')).toEqual({
      code: 'und',
      script: 'Zyyy',
      confidence: 0,
    });
  });
});
