import { describe, expect, it } from 'vitest';
import { stem } from '../../../../shared/text/analyze.ts';
import {
  arabicVariants,
  isStopWordVariant,
  Lexicon,
  normalizeWord,
} from '../../../../shared/text/lexicon.ts';
import { languageLexicon } from '../../../../shared/text/lexicons/index.ts';

const knows = (lexicon: Lexicon, word: string) => lexicon.knows(normalizeWord(word));

describe('Lexicon', () => {
  it('holds stems, so one entry knows every inflection of a word', () => {
    const lexicon = Lexicon.fromWords(['Library', 'connect', 'المكتبة', 'مدينة', 'دراجة']);
    expect(lexicon.size).toBe(5);
    for (const word of ['libraries', "library's", 'connected', 'connections']) {
      expect(knows(lexicon, word), word).toBe(true);
    }
    for (const word of ['والمكتبات', 'المكتبات', 'بالمدينة', 'لمدينتنا', 'دراجتي', 'مدينتهم']) {
      expect(knows(lexicon, word), word).toBe(true);
    }
    for (const word of ['librery', 'conect', 'المكتبخ', 'مدسنة', '']) {
      expect(knows(lexicon, word), word).toBe(false);
    }
  });

  it('takes a generated list of stems as it is', () => {
    const lexicon = new Lexicon([stem('running'), stem('الكتاب')]);
    expect(knows(lexicon, 'runs')).toBe(true);
    expect(knows(lexicon, 'كتابهم')).toBe(true);
  });

  it('offers the Arabic word without the clitics light10 leaves on', () => {
    expect(arabicVariants('بكتابهم')).toEqual(expect.arrayContaining(['كتابهم', 'كتاب', 'بكتاب']));
    expect(arabicVariants('سيكتبون')).toContain('يكتبون');
    expect(arabicVariants(normalizeWord('دائما'))).toContain('دايم');
    // Never fewer than three letters: `بها` is not `ها`.
    expect(arabicVariants('بيت')).toEqual([]);
  });
});

describe('isStopWordVariant', () => {
  it('knows stop words, Arabic ones with their clitics too, and nothing else', () => {
    for (const word of [
      'كيف',
      'وكيف',
      'فكيف',
      'ولماذا',
      'فهل',
      'بهذا',
      'لهذه',
      'وعليها',
      'إلى',
      'how',
    ]) {
      expect(isStopWordVariant(normalizeWord(word)), word).toBe(true);
    }
    for (const word of ['وكيل', 'كتاب', 'library', 'whose']) {
      expect(isStopWordVariant(normalizeWord(word)), word).toBe(false);
    }
  });
});

describe('languageLexicon', () => {
  it("knows English from Debian's word lists: words, inflections and names", () => {
    const english = languageLexicon('en');
    expect(english.size).toBeGreaterThan(30_000);
    for (const word of [
      'architecture',
      'matrices',
      'intercept',
      'favourably',
      'Cairo',
      'Mohammed',
    ]) {
      expect(knows(english, word), word).toBe(true);
    }
    for (const word of ['compuyter', 'bioliographic', 'retreival']) {
      expect(knows(english, word), word).toBe(false);
    }
    expect(languageLexicon('en')).toBe(english);
  });

  it("knows Arabic from Debian's hunspell-ar: words with clitics, question words, names", () => {
    const arabic = languageLexicon('ar');
    expect(arabic.size).toBeGreaterThan(60_000);
    for (const word of ['السيارات', 'الكهربائية', 'أتعلم', 'كيفية', 'ماهي', 'محمد', 'بمدارسهم']) {
      expect(knows(arabic, word), word).toBe(true);
    }
    for (const word of ['البرمجخ', 'الحوصبة', 'الذكاظ', 'استسمار']) {
      expect(knows(arabic, word), word).toBe(false);
    }
  });
});
