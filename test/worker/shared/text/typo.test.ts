import { describe, expect, it } from 'vitest';
import { Lexicon } from '../../../../shared/text/lexicon.ts';
import { languageLexicon } from '../../../../shared/text/lexicons/index.ts';
import {
  CORRECTION_DOMINANCE,
  correctQuery,
  editDistance,
  MAX_INDEXED_EDITS,
  maxEdits,
  ONE_TYPO_MIN_LENGTH,
  TWO_TYPOS_MIN_LENGTH,
  Vocabulary,
} from '../../../../shared/text/typo.ts';

describe('maxEdits', () => {
  it('documents its thresholds', () => {
    expect(ONE_TYPO_MIN_LENGTH).toBe(4);
    expect(TWO_TYPOS_MIN_LENGTH).toBe(8);
  });

  it.each([
    ['', 0],
    ['a', 0],
    ['cat', 0],
    ['book', 1],
    ['reading', 1],
    ['database', 2],
    ['internationalisation', 2],
  ])('allows %j %i edits', (word, edits) => {
    expect(maxEdits(word)).toBe(edits);
  });

  it.each([
    ['كتب', 0],
    ['كتاب', 1],
    ['مكتبات', 1],
    ['المكتبات', 2],
  ])('counts the Arabic word %s in code points: %i edits', (word, edits) => {
    expect(maxEdits(word)).toBe(edits);
  });

  it('counts astral characters once, not as two UTF-16 units', () => {
    expect('𝒜𝒷𝒸'.length).toBe(6);
    expect(maxEdits('𝒜𝒷𝒸')).toBe(0);
    expect(maxEdits('😀😀😀😀')).toBe(1);
    expect(maxEdits('😀😀😀😀😀😀😀')).toBe(1);
    expect(maxEdits('😀😀😀😀😀😀😀😀')).toBe(2);
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['same', 'same', 0],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['book', 'back', 2],
    ['form', 'from', 1],
    ['abcd', 'acbd', 1],
    ['ab', 'ba', 1],
    // Optimal string alignment edits no substring twice: `ca` → `ac` → `abc` is not allowed.
    ['ca', 'abc', 3],
    ['كتاب', 'كاتب', 1],
    ['المكتبه', 'المكتبة', 1],
    ['مدرسة', 'مدرسه', 1],
  ])('measures %j → %j as %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('counts code points, not UTF-16 units', () => {
    expect(editDistance('𝒜', 'b')).toBe(1);
    expect(editDistance('😀a', 'a😀')).toBe(1);
    expect(editDistance('x😀y', 'xy')).toBe(1);
    expect(editDistance('😀😁', '😁😀')).toBe(1);
  });

  it('stops at the bound and returns max + 1', () => {
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
    expect(editDistance('kitten', 'sitting', 0)).toBe(1);
    expect(editDistance('abcdefgh', 'zyxwvuts', 1)).toBe(2);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
    expect(editDistance('same', 'same', 0)).toBe(0);
  });

  it('agrees with the unbounded distance whenever it is within the bound', () => {
    const random = seeded(7);
    const word = () =>
      Array.from(
        { length: 1 + Math.floor(random() * 8) },
        () => 'abc'[Math.floor(random() * 3)],
      ).join('');
    for (let i = 0; i < 500; i++) {
      const a = word();
      const b = word();
      const full = editDistance(a, b);
      for (let max = 0; max <= 3; max++) {
        expect(editDistance(a, b, max)).toBe(Math.min(full, max + 1));
      }
    }
  });
});

describe('Vocabulary', () => {
  const vocabulary = new Vocabulary([
    ['card', 9],
    ['care', 9],
    ['cart', 5],
    ['carp', 1],
    ['laptop', 50],
    ['laptops', 1000],
    ['database', 30],
    ['information', 80],
    ['البرمجة', 40],
    ['الكتاب', 30],
    ['المكتبة', 12],
  ]);

  it('returns a word it holds first, at distance 0', () => {
    expect(vocabulary.suggest('laptop')[0]).toEqual({
      word: 'laptop',
      spelling: 'laptop',
      distance: 0,
      frequency: 50,
    });
    expect(vocabulary.suggest('المكتبة')[0]).toMatchObject({ word: 'المكتبه', distance: 0 });
  });

  it('orders by distance, then frequency, then alphabetically', () => {
    expect(vocabulary.suggest('carx').map((s) => [s.word, s.distance, s.frequency])).toEqual([
      ['card', 1, 9],
      ['care', 1, 9],
      ['cart', 1, 5],
      ['carp', 1, 1],
    ]);
    // `laptops` is far more frequent, but one edit further.
    expect(vocabulary.suggest('laptp', { maxEdits: 2 }).map((s) => s.word)).toEqual([
      'laptop',
      'laptops',
    ]);
  });

  it('suggests a word exactly at the edit budget and none one edit beyond', () => {
    // 7 letters: one edit allowed.
    expect(vocabulary.suggest('databse').map((s) => s.word)).toEqual(['database']);
    // 6 letters, two edits from `database`: beyond the budget of one.
    expect(vocabulary.suggest('dtabse')).toEqual([]);
    // 9 letters: two edits allowed; `infrmaton` is two away, `infrmatn` three.
    expect(vocabulary.suggest('infrmaton').map((s) => [s.word, s.distance])).toEqual([
      ['information', 2],
    ]);
    expect(vocabulary.suggest('infrmatn')).toEqual([]);
    expect(vocabulary.suggest('infrmatn', { maxEdits: 2 })).toEqual([]);
  });

  it('finds words with edits inside the indexed prefix', () => {
    expect(vocabulary.suggest('ifnormation')[0]).toMatchObject({
      word: 'information',
      distance: 1,
    });
    expect(vocabulary.suggest('xxinformation')[0]).toMatchObject({
      word: 'information',
      distance: 2,
    });
    expect(vocabulary.suggest('nformatio')[0]).toMatchObject({ word: 'information', distance: 2 });
    expect(vocabulary.suggest('adatabase')[0]).toMatchObject({ word: 'database', distance: 1 });
  });

  it('suggests Arabic words, normalising the query', () => {
    expect(vocabulary.suggest('الكتتاب').map((s) => [s.word, s.distance])).toEqual([['الكتاب', 1]]);
    expect(vocabulary.suggest('البَرمَجا').map((s) => [s.word, s.spelling, s.distance])).toEqual([
      ['البرمجه', 'البرمجة', 1],
    ]);
  });

  it('honours an explicit budget and a limit', () => {
    expect(vocabulary.suggest('carx', { maxEdits: 0 })).toEqual([]);
    // Three letters get no edits by default; one allowed here finds `cart` (not `card`: two).
    expect(vocabulary.suggest('cat')).toEqual([]);
    expect(vocabulary.suggest('cat', { maxEdits: 1 }).map((s) => s.word)).toEqual(['cart']);
    expect(vocabulary.suggest('carx', { limit: 2 }).map((s) => s.word)).toEqual(['card', 'care']);
  });

  it('rejects a budget it has no index for, and a negative limit', () => {
    expect(() => vocabulary.suggest('laptop', { maxEdits: MAX_INDEXED_EDITS + 1 })).toThrow(
      RangeError,
    );
    expect(() => vocabulary.suggest('laptop', { maxEdits: -1 })).toThrow(RangeError);
    expect(() => vocabulary.suggest('laptop', { maxEdits: 1.5 })).toThrow(RangeError);
    expect(() => vocabulary.suggest('laptop', { limit: -1 })).toThrow(RangeError);
    expect(vocabulary.suggest('laptop', { limit: 0 })).toEqual([]);
  });

  it('answers nothing for an empty word', () => {
    expect(vocabulary.suggest('')).toEqual([]);
    expect(vocabulary.suggest(' -- ')).toEqual([]);
  });

  it('merges entries that normalise alike and keeps the most frequent spelling', () => {
    const merged = new Vocabulary([
      ['Café', 2],
      ['cafe', 3],
      ['CAFÉ', 1],
      ['مدرسة', 5],
      ['مدرسه', 1],
      ['', 4],
      [' ', 4],
    ]);
    expect(merged.size).toBe(2);
    expect(merged.has('CAFE')).toBe(true);
    expect(merged.frequency('café')).toBe(6);
    expect(merged.suggest('cafe')[0]?.spelling).toBe('cafe');
    expect(merged.frequency('مدرسه')).toBe(6);
    expect(merged.suggest('مدرسة')[0]?.spelling).toBe('مدرسة');
  });

  it('reports absent words', () => {
    expect(vocabulary.has('laptp')).toBe(false);
    expect(vocabulary.frequency('laptp')).toBe(0);
    expect(vocabulary.has('')).toBe(false);
  });

  it('rejects a negative or non-finite frequency', () => {
    expect(() => new Vocabulary([['word', -1]])).toThrow(RangeError);
    expect(() => new Vocabulary([['word', Number.NaN]])).toThrow(RangeError);
    expect(() => new Vocabulary([['word', Number.POSITIVE_INFINITY]])).toThrow(RangeError);
  });

  it('answers like a full scan over a generated 100,000-word vocabulary', () => {
    const random = seeded(2024);
    const latin = 'etaoinshrdlcumwfgypbvkjxqz';
    const arabic = 'ابتثجحخدذرزسشصضطظعغفقكلمنهوي';
    const entries = new Map<string, number>();
    while (entries.size < 100_000) {
      const alphabet = random() < 0.7 ? latin : arabic;
      const length = 3 + Math.floor(random() * 9);
      let word = '';
      // Skewed letter choice, so words share prefixes and have near neighbours, as real ones do.
      for (let i = 0; i < length; i++)
        word += alphabet[Math.floor(random() ** 2 * alphabet.length)];
      entries.set(word, 1 + Math.floor(random() * 100));
    }
    const big = new Vocabulary(entries);
    expect(big.size).toBe(100_000);

    const words = [...entries.keys()];
    for (let q = 0; q < 40; q++) {
      const source = words[Math.floor(random() * words.length)] as string;
      const query = q % 4 === 0 ? source : mutate(source, 1 + (q % 2), random);
      const budget = maxEdits(query);
      const expected = words
        .filter((word) => Math.abs(word.length - query.length) <= budget)
        .map((word) => ({ word, distance: editDistance(query, word, budget) }))
        .filter((s) => s.distance <= budget)
        .map((s) => ({ ...s, frequency: entries.get(s.word) as number }))
        .sort(
          (a, b) =>
            a.distance - b.distance || b.frequency - a.frequency || (a.word < b.word ? -1 : 1),
        );
      const got = big.suggest(query, { limit: 1_000 });
      expect(got.map((s) => [s.word, s.distance, s.frequency])).toEqual(
        expected.map((s) => [s.word, s.distance, s.frequency]),
      );
      if (q % 4 === 0) expect(got[0]).toMatchObject({ word: source, distance: 0 });
    }
  });
});

describe('correctQuery', () => {
  const vocabulary = new Vocabulary([
    ['best', 60],
    ['laptop', 50],
    ['laptops', 20],
    ['lapton', 1],
    ['search', 40],
    ['engine', 30],
    ['form', 25],
    ['cat', 10],
    ['2024', 9],
    ['mp3', 9],
    ['تعلم', 25],
    ['البرمجة', 40],
    ['الكتاب', 30],
  ]);

  it('leaves a query of known words unchanged', () => {
    expect(correctQuery('Best Laptop 2024!', vocabulary)).toEqual({
      corrected: 'Best Laptop 2024!',
      changed: false,
      corrections: [],
    });
    expect(correctQuery('تعلم البرمجة', vocabulary).changed).toBe(false);
  });

  it('corrects English typos in place, keeping the rest of the query as typed', () => {
    expect(correctQuery('Best  laptp for the serch, now!', vocabulary)).toEqual({
      corrected: 'Best  laptop for the search, now!',
      changed: true,
      corrections: [
        { from: 'laptp', to: 'laptop', distance: 1 },
        { from: 'serch', to: 'search', distance: 1 },
      ],
    });
  });

  it('corrects Arabic typos and writes the suggestion as the corpus spells it', () => {
    expect(correctQuery('تعلم البرمجا', vocabulary)).toEqual({
      corrected: 'تعلم البرمجة',
      changed: true,
      corrections: [{ from: 'البرمجا', to: 'البرمجه', distance: 1 }],
    });
    expect(correctQuery('الكِتَـــب', vocabulary)).toEqual({
      corrected: 'الكتاب',
      changed: true,
      corrections: [{ from: 'الكتب', to: 'الكتاب', distance: 1 }],
    });
  });

  it('keeps a word the vocabulary holds, however rare', () => {
    expect(correctQuery('lapton', vocabulary).changed).toBe(false);
  });

  it('does not correct stop words, numbers or words shorter than four letters', () => {
    // `from` is one transposition from `form`, `cta` from `cat`, `2025` from `2024`.
    expect(correctQuery('from cta 2025 mp4', vocabulary)).toEqual({
      corrected: 'from cta 2025 mp4',
      changed: false,
      corrections: [],
    });
  });

  it('leaves a word with no suggestion within its budget alone', () => {
    expect(correctQuery('laptp zzzzzz', vocabulary)).toEqual({
      corrected: 'laptop zzzzzz',
      changed: true,
      corrections: [{ from: 'laptp', to: 'laptop', distance: 1 }],
    });
    expect(correctQuery('lptp', vocabulary).changed).toBe(false);
  });

  it('returns an empty query unchanged', () => {
    expect(correctQuery('', vocabulary)).toEqual({
      corrected: '',
      changed: false,
      corrections: [],
    });
  });
});

/** A deterministic pseudo-random number generator (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `word` with `edits` random insertions, deletions, substitutions or transpositions. */
function mutate(word: string, edits: number, random: () => number): string {
  const chars = Array.from(word);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * chars.length);
    const letter = chars[Math.floor(random() * chars.length)] as string;
    const kind = Math.floor(random() * 4);
    if (kind === 0) chars.splice(at, 0, letter);
    else if (kind === 1 && chars.length > 1) chars.splice(at, 1);
    else if (kind === 2) chars[at] = letter;
    else if (at + 1 < chars.length)
      [chars[at], chars[at + 1]] = [chars[at + 1] as string, chars[at] as string];
  }
  return chars.join('');
}

describe('correctQuery, on evidence only', () => {
  const withLexicons = { lexicon: languageLexicon };
  // A corpus about cars and policy, as the sample organisation's: these words are near many
  // correct words it lacks.
  const vocabulary = new Vocabulary([
    ['السياسات', 95],
    ['التعلم', 34],
    ['تعمل', 38],
    ['المكتبات', 12],
    ['البرمجة', 40],
    ['الحوسبة', 20],
    ['public', 50],
    ['fast', 30],
    ['lighthouse', 12],
    ['retrieval', 20],
    ['library', 25],
    ['citations', 51],
  ]);
  const unchanged = (query: string) =>
    expect(correctQuery(query, vocabulary, withLexicons), query).toMatchObject({
      changed: false,
      corrections: [],
    });

  it('keeps correct Arabic words the corpus lacks: inflections, names, question words', () => {
    // Each is one or two edits from a corpus word, and was "corrected" to it before.
    expect(correctQuery('السيارات', vocabulary).corrections).toEqual([
      { from: 'السيارات', to: 'السياسات', distance: 1 },
    ]);
    for (const query of [
      'السيارات الكهربائية', // cars, not policies
      'كيف أتعلم البرمجة', // an inflected verb, not التعلم
      'كيفية تعلم اللغة', // to learn, not تعمل
      'مكتبتنا', // our library
      'بمدارسهم', // in their schools
      'محمد صلاح', // a name
      'عمان', // Oman
      'ماهي الحوسبة', // a question word written as one
    ]) {
      unchanged(query);
    }
  });

  it('keeps correct English words the corpus lacks: inflections, names, other words', () => {
    expect(correctQuery('republic', vocabulary).corrections).toEqual([
      { from: 'republic', to: 'public', distance: 2 },
    ]);
    for (const query of ['republic of Benin', 'Mohammed in Cairo', 'what is faster', 'stations']) {
      unchanged(query);
    }
  });

  it('keeps an inflected form of a corpus word: search finds it by its stem', () => {
    // No lexicon needed: `libraries` and `library` share the stem `librari`.
    expect(
      correctQuery(
        'libraries',
        new Vocabulary([
          ['library', 9],
          ['libretto', 50],
        ]),
      ),
    ).toEqual({
      corrected: 'libraries',
      changed: false,
      corrections: [],
    });
    expect(correctQuery('مكتبات', vocabulary).changed).toBe(false);
  });

  it('never corrects a stop word or an Arabic stop word with clitics, nor into a stop word', () => {
    const near = new Vocabulary([
      ['وكيل', 40], // one edit from وكيف ("and how")
      ['فهد', 40], // one from فهل
      ['ولماذ', 9],
      ['the', 900],
      ['then', 300],
    ]);
    for (const query of ['وكيف', 'فهل تعمل', 'ولماذا', 'بهذه', 'thex', 'whats']) {
      expect(correctQuery(query, near, withLexicons).corrections, query).toEqual([]);
    }
  });

  it('still corrects real typos, in English and Arabic', () => {
    expect(correctQuery('lighthuose retreival', vocabulary, withLexicons).corrections).toEqual([
      { from: 'lighthuose', to: 'lighthouse', distance: 1 },
      { from: 'retreival', to: 'retrieval', distance: 1 },
    ]);
    expect(correctQuery('البرمجخ والحوصبة', vocabulary, withLexicons)).toEqual({
      corrected: 'البرمجة الحوسبة',
      changed: true,
      corrections: [
        { from: 'البرمجخ', to: 'البرمجه', distance: 1 },
        { from: 'والحوصبه', to: 'الحوسبه', distance: 2 },
      ],
    });
  });

  it('leaves a typo with two readings of comparable frequency alone', () => {
    const cards = (cart: number) =>
      new Vocabulary([
        ['cart', cart],
        ['card', 10],
        ['cards', 4],
      ]);
    expect(correctQuery('carx', cards(CORRECTION_DOMINANCE * 10 - 1)).changed).toBe(false);
    expect(correctQuery('carx', cards(CORRECTION_DOMINANCE * 10)).corrections).toEqual([
      { from: 'carx', to: 'cart', distance: 1 },
    ]);
    // Two readings with one stem are one reading: `tests` or `test`, search finds both.
    const tests = new Vocabulary([
      ['test', 10],
      ['tests', 9],
    ]);
    expect(correctQuery('tesst', tests).corrections).toEqual([
      { from: 'tesst', to: 'test', distance: 1 },
    ]);
  });

  it('asks the lexicon of the word’s own script', () => {
    const asked: string[] = [];
    const lexicon = (lang: 'en' | 'ar') => {
      asked.push(lang);
      return new Lexicon(lang === 'en' ? ['lighthuos'] : []);
    };
    expect(correctQuery('lighthuose البرمجخ', vocabulary, { lexicon }).corrections).toEqual([
      { from: 'البرمجخ', to: 'البرمجه', distance: 1 },
    ]);
    expect(asked).toEqual(['en', 'ar']);
  });
});
