import { describe, expect, it } from 'vitest';
import {
  ARABIC_STOP_WORDS,
  analyze,
  analyzeTokens,
  detectLanguage,
  ENGLISH_STOP_WORDS,
  isStopWord,
  normalize,
  scriptLanguage,
  stem,
  stemArabic,
  stemEnglish,
  tokenize,
} from '../../../../shared/text/analyze.ts';

/** Each token's term and the slice of the original text its offsets point at. */
const spans = (text: string) => tokenize(text).map((t) => [t.term, text.slice(t.start, t.end)]);

describe('normalize', () => {
  it.each([
    ['full-width forms', 'Ｆｕｌｌ ｗｉｄｔｈ', 'full width'],
    ['ligatures', 'ﬁne ﬂow', 'fine flow'],
    ['Arabic presentation forms', 'ﻻ ﺑﻴﺖ', 'لا بيت'],
    ['upper case, locale-independently', 'HELLO İstanbul', 'hello istanbul'],
    ['Greek final sigma', 'ΟΔΟΣ οδος', 'οδοσ οδοσ'],
    ['precomposed Latin accents', 'Café naïve Ångström', 'cafe naive angstrom'],
    ['decomposed Latin accents', 'Cafe\u0301 nai\u0308ve', 'cafe naive'],
    ['Latin letters without a base letter', 'Straße Ærø Łódź', 'strasse aero lodz'],
    ['format characters', 'zero\u200bwidth \u200fmark\u00ad', 'zerowidth mark'],
    ['runs of whitespace', '  one \n\t two\u00a0 three  ', 'one two three'],
  ])('folds %s', (_, input, output) => {
    expect(normalize(input)).toBe(output);
  });

  it('keeps punctuation and symbols', () => {
    expect(normalize('Hello, World! ¿Qué? 50% — ok')).toBe('hello, world! ¿que? 50% — ok');
  });

  it.each([
    ['fatha, damma, kasra', 'كَتَبَ كُتُب كِتَاب', 'كتب كتب كتاب'],
    ['tanween (fath, damm, kasr)', 'كتاباً كتابٌ كتابٍ', 'كتابا كتاب كتاب'],
    ['shadda and sukun', 'محمّد مَدْرَسَة', 'محمد مدرسه'],
    [
      'each mark from U+064B to U+0652',
      `ب${'\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652'}ت`,
      'بت',
    ],
    ['the superscript (dagger) alef', 'هٰذا الرَّحْمٰن', 'هذا الرحمن'],
    ['Quranic annotation marks', 'الكتابۖ فيهۚ هدىۗ', 'الكتاب فيه هدي'],
    ['Quranic honorifics', 'محمد\u0610', 'محمد'],
    ['tatweel', 'كتـــاب الـعـلـم', 'كتاب العلم'],
  ])('removes the Arabic %s', (_, input, output) => {
    expect(normalize(input)).toBe(output);
  });

  it.each([
    ['alef with hamza above', 'أحمد', 'احمد'],
    ['alef with hamza below', 'إسلام', 'اسلام'],
    ['alef with madda', 'آمن', 'امن'],
    ['alef wasla', 'ٱلله', 'الله'],
    ['decomposed alef + hamza above', 'ا\u0654حمد', 'احمد'],
    ['alef maqsura → yaa', 'مستشفى على', 'مستشفي علي'],
    ['taa marbuta → haa', 'مدرسة جميلة', 'مدرسه جميله'],
    ['waw with hamza → waw', 'مسؤول', 'مسوول'],
    ['decomposed waw + hamza → waw', 'مسو\u0654ول', 'مسوول'],
    ['yaa with hamza → yaa', 'رئيس', 'رييس'],
    ['Persian yeh and keheh', 'یک کتاب', 'يك كتاب'],
  ])('unifies the %s', (_, input, output) => {
    expect(normalize(input)).toBe(output);
  });

  it('keeps a lone hamza and the letters that only look alike', () => {
    expect(normalize('سماء شيء')).toBe('سماء شيء');
    expect(normalize('ي و ه ا')).toBe('ي و ه ا');
  });

  it('turns Arabic-Indic and Persian digits and separators into ASCII', () => {
    expect(normalize('٠١٢٣٤٥٦٧٨٩')).toBe('0123456789');
    expect(normalize('۰۱۲۳۴۵۶۷۸۹')).toBe('0123456789');
    expect(normalize('٣٫١٤ و ١٬٠٠٠')).toBe('3.14 و 1,000');
  });

  it('is idempotent', () => {
    for (const text of ['وَالكِتَـــابُ في المَكتَبةِ', 'Ｃａｆé ÀLA ﬁn', 'رؤية ٢٠٣٠ — vision']) {
      expect(normalize(normalize(text))).toBe(normalize(text));
    }
  });

  it('returns an empty string for whitespace and marks alone', () => {
    expect(normalize('')).toBe('');
    expect(normalize(' \n\t ')).toBe('');
    expect(normalize('\u064e\u0651 ـــ')).toBe('');
  });
});

describe('tokenize', () => {
  it('returns the words in order with their positions', () => {
    expect(tokenize('The quick, brown fox!')).toEqual([
      { term: 'the', start: 0, end: 3, position: 0 },
      { term: 'quick', start: 4, end: 9, position: 1 },
      { term: 'brown', start: 11, end: 16, position: 2 },
      { term: 'fox', start: 17, end: 20, position: 3 },
    ]);
  });

  it('points into the original Arabic text although normalisation removed its marks', () => {
    const text = 'قرأتُ كِتَـــابًا في المَكتَبةِ.';
    expect(spans(text)).toEqual([
      ['قرات', 'قرأتُ'],
      ['كتابا', 'كِتَـــابًا'],
      ['في', 'في'],
      ['المكتبه', 'المَكتَبةِ'],
    ]);
  });

  it('points into the original text past decomposed accents and astral characters', () => {
    const text = '😀 Cafe\u0301 𝒜bc noir';
    expect(spans(text)).toEqual([
      ['cafe', 'Cafe\u0301'],
      ['abc', '𝒜bc'],
      ['noir', 'noir'],
    ]);
    expect(tokenize(text)[0]).toMatchObject({ start: 3, end: 8 });
  });

  it('maps a character that NFKC expands onto the original character', () => {
    expect(spans('ﻻ ﬁsh')).toEqual([
      ['لا', 'ﻻ'],
      ['fish', 'ﬁsh'],
    ]);
  });

  it('leaves a trailing tatweel or format character outside the span', () => {
    expect(spans('كتابـ\u200f نص')).toEqual([
      ['كتاب', 'كتاب'],
      ['نص', 'نص'],
    ]);
  });

  it('drops internal apostrophes and possessive endings, but spans the whole word', () => {
    expect(spans("Don't miss the user’s O'Neill 'quoted'")).toEqual([
      ['dont', "Don't"],
      ['miss', 'miss'],
      ['the', 'the'],
      ['user', 'user’s'],
      ['oneill', "O'Neill"],
      ['quoted', 'quoted'],
    ]);
  });

  it('splits hyphenated words and all other punctuation', () => {
    expect(tokenize('e-mail state-of-the-art a/b (c) x_y').map((t) => t.term)).toEqual([
      'e',
      'mail',
      'state',
      'of',
      'the',
      'art',
      'a',
      'b',
      'c',
      'x',
      'y',
    ]);
  });

  it('splits Arabic punctuation', () => {
    expect(tokenize('ماذا؟ نعم، «تقرير» جديد؛ انتهى').map((t) => t.term)).toEqual([
      'ماذا',
      'نعم',
      'تقرير',
      'جديد',
      'انتهي',
    ]);
  });

  it('keeps decimal and grouped numbers whole, dropping thousands separators', () => {
    expect(spans('pi 3.14, 1,000 pages, ١٬٢٠٠ صفحة, ٣٫٥ and 1,2,3 covid-19')).toEqual([
      ['pi', 'pi'],
      ['3.14', '3.14'],
      ['1000', '1,000'],
      ['pages', 'pages'],
      ['1200', '١٬٢٠٠'],
      ['صفحه', 'صفحة'],
      ['3.5', '٣٫٥'],
      ['and', 'and'],
      ['1,2,3', '1,2,3'],
      ['covid', 'covid'],
      ['19', '19'],
    ]);
  });

  it('makes each Han and kana character a token of its own', () => {
    expect(spans('日本語テキスト abc')).toEqual([
      ['日', '日'],
      ['本', '本'],
      ['語', '語'],
      ['テ', 'テ'],
      ['キ', 'キ'],
      ['ス', 'ス'],
      ['ト', 'ト'],
      ['abc', 'abc'],
    ]);
  });

  it('returns no tokens for text without letters or digits', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' -- !? … ، ؟ ')).toEqual([]);
  });
});

describe('detectLanguage', () => {
  it.each([
    ['How to learn programming', 'en'],
    ['كيف أتعلم البرمجة', 'ar'],
    ['كَتَبَ الوَلَدُ', 'ar'],
    ['كيف أستخدم Docker', 'ar'],
    ['how to say مرحبا', 'en'],
    ['تحميل iPhone 15', 'en'],
    ['ab اب', 'ar'],
  ] as const)('detects %j as %s', (text, lang) => {
    expect(detectLanguage(text)).toBe(lang);
  });

  it.each([[''], ['   '], ['2024 — 15%'], ['١٢٣'], ['Привет мир'], ['ـــ']])(
    'returns undefined for %j, which has no Arabic or Latin letters',
    (text) => {
      expect(detectLanguage(text)).toBeUndefined();
    },
  );

  it('gives a single word the language of its script', () => {
    expect(scriptLanguage('كتاب')).toBe('ar');
    expect(scriptLanguage('book')).toBe('en');
    expect(scriptLanguage('2024')).toBeUndefined();
    expect(scriptLanguage('книга')).toBeUndefined();
  });
});

describe('stop words', () => {
  it.each(['the', 'and', 'of', 'what', 'dont', 'isnt', 'its'])('treats %j as English', (word) => {
    expect(isStopWord(word, 'en')).toBe(true);
    expect(isStopWord(word)).toBe(true);
  });

  it.each(['search', 'book', 'cant', 'wont', 'well', 'id', 'shell'])(
    'does not treat %j as an English stop word',
    (word) => {
      expect(isStopWord(word, 'en')).toBe(false);
    },
  );

  it.each(['في', 'من', 'إلى', 'على', 'هذه', 'التي', 'هؤلاء', 'أنتم', 'لكنّ', 'وفي', 'أيضاً'])(
    'treats %j as Arabic once normalised',
    (word) => {
      const term = normalize(word);
      expect(isStopWord(term, 'ar')).toBe(true);
      expect(isStopWord(term)).toBe(true);
    },
  );

  it.each(['كتاب', 'مدرسة', 'البرمجة'])('does not treat %j as an Arabic stop word', (word) => {
    expect(isStopWord(normalize(word), 'ar')).toBe(false);
  });

  it('checks the list of the language asked for', () => {
    expect(isStopWord('the', 'ar')).toBe(false);
    expect(isStopWord('في', 'en')).toBe(false);
    expect(isStopWord('2024')).toBe(false);
  });

  it('stores both lists in normalised form', () => {
    for (const word of [...ARABIC_STOP_WORDS, ...ENGLISH_STOP_WORDS]) {
      expect(tokenize(word).map((t) => t.term)).toEqual([word]);
    }
    expect(ARABIC_STOP_WORDS.has('الي')).toBe(true);
    expect(ARABIC_STOP_WORDS.has('إلى')).toBe(false);
  });
});

describe('stemArabic (light10)', () => {
  it.each([
    ['والكتاب', 'كتاب'],
    ['بالمكتبة', 'مكتب'],
    ['المعلمون', 'معلم'],
    ['الكاتبات', 'كاتب'],
    ['كِتَـــاب', 'كتاب'],
    ['للطلاب', 'طلاب'],
    ['فالعلم', 'علم'],
    ['كالبحر', 'بحر'],
    ['وكتب', 'كتب'],
    ['كتابها', 'كتاب'],
    ['المعلمين', 'معلم'],
    ['كتابان', 'كتاب'],
    ['عربية', 'عرب'],
    ['مدرستي', 'مدرست'],
    ['الطالبة', 'طالب'],
    ['الكتاب', 'كتاب'],
  ])('stems %s to %s', (word, expected) => {
    expect(stem(normalize(word), 'ar')).toBe(expected);
  });

  it('keeps و when fewer than three letters would remain', () => {
    expect(stemArabic('ولد')).toBe('ولد');
    expect(stemArabic('وزن')).toBe('وزن');
  });

  it('keeps an article or suffix when fewer than two letters would remain', () => {
    expect(stemArabic('الم')).toBe('الم');
    expect(stemArabic('مها')).toBe('مها');
    expect(stemArabic('بنات')).toBe('بن');
    expect(stemArabic('به')).toBe('به');
  });

  it('removes one article only, and the suffixes once each in order', () => {
    expect(stemArabic('الالم')).toBe('الم');
    expect(stemArabic('معلميها')).toBe('معلم');
  });
});

// Words and stems from Snowball's published English test vocabulary (snowball-data
// english/voc.txt and output.txt, 2006–2023: the Porter2 of Snowball 2.x).
const PORTER2: ReadonlyArray<readonly [string, string]> = [
  ['consign', 'consign'],
  ['consigned', 'consign'],
  ['consigning', 'consign'],
  ['consignment', 'consign'],
  ['consist', 'consist'],
  ['consisted', 'consist'],
  ['consistency', 'consist'],
  ['consistent', 'consist'],
  ['consistently', 'consist'],
  ['consisting', 'consist'],
  ['consolation', 'consol'],
  ['consolations', 'consol'],
  ['consolatory', 'consolatori'],
  ['console', 'consol'],
  ['consoled', 'consol'],
  ['consolidate', 'consolid'],
  ['consolidated', 'consolid'],
  ['consolingly', 'consol'],
  ['conspicuously', 'conspicu'],
  ['conspiracy', 'conspiraci'],
  ['conspirator', 'conspir'],
  ['conspired', 'conspir'],
  ['constable', 'constabl'],
  ['constancy', 'constanc'],
  ['knackeries', 'knackeri'],
  ['kneaded', 'knead'],
  ['kneeling', 'kneel'],
  ['knightly', 'knight'],
  ['knitting', 'knit'],
  ['knives', 'knive'],
  ['knocker', 'knocker'],
  ['running', 'run'],
  ['generously', 'generous'],
  ['conditional', 'condit'],
  ['rational', 'ration'],
  ['operator', 'oper'],
  ['hopefulness', 'hope'],
  ['callousness', 'callous'],
  ['electrical', 'electr'],
  ['hopeful', 'hope'],
  ['goodness', 'good'],
  ['revival', 'reviv'],
  ['allowance', 'allow'],
  ['inference', 'infer'],
  ['adjustment', 'adjust'],
  ['dependent', 'depend'],
  ['adoption', 'adopt'],
  ['communism', 'communism'],
  ['effective', 'effect'],
  ['rate', 'rate'],
  ['cease', 'ceas'],
  ['roll', 'roll'],
  ['caresses', 'caress'],
  ['ponies', 'poni'],
  ['ties', 'tie'],
  ['caress', 'caress'],
  ['cats', 'cat'],
  ['feed', 'feed'],
  ['agreed', 'agre'],
  ['plastered', 'plaster'],
  ['bled', 'bled'],
  ['sing', 'sing'],
  ['troubled', 'troubl'],
  ['sized', 'size'],
  ['hopping', 'hop'],
  ['tanned', 'tan'],
  ['falling', 'fall'],
  ['hissing', 'hiss'],
  ['failing', 'fail'],
  ['filing', 'file'],
  ['happy', 'happi'],
  ['sky', 'sky'],
  ['skies', 'sky'],
  ['dying', 'die'],
  ['generate', 'generat'],
  ['generation', 'generat'],
  ['news', 'news'],
  ['earring', 'earring'],
  ['proceeded', 'proceed'],
  ['succeeding', 'succeed'],
  ['innings', 'inning'],
  ['hoped', 'hope'],
  ['cried', 'cri'],
  ['cries', 'cri'],
  ['gas', 'gas'],
  ['gaps', 'gap'],
  ['agreement', 'agreement'],
  ['communication', 'communic'],
  ['universal', 'univers'],
  ['university', 'univers'],
  ['organization', 'organ'],
  ['a', 'a'],
  ["'s", "'s"],
  ["a''", "a'"],
];

describe('stemEnglish (Porter2)', () => {
  it('has a table of at least 60 published pairs', () => {
    expect(PORTER2.length).toBeGreaterThanOrEqual(60);
  });

  it.each(PORTER2)('stems %s to %s', (word, expected) => {
    expect(stemEnglish(word)).toBe(expected);
  });

  it('applies only to Latin words', () => {
    expect(stem('running', 'en')).toBe('run');
    expect(stem('running')).toBe('run');
    expect(stem('running', 'ar')).toBe('running');
    expect(stem('والكتاب', 'en')).toBe('والكتاب');
    expect(stem('2024')).toBe('2024');
  });
});

describe('analyze', () => {
  it('normalises, drops stop words and stems English', () => {
    expect(analyze('The runners were running generously, as they had hoped!')).toEqual([
      'runner',
      'run',
      'generous',
      'hope',
    ]);
  });

  it('normalises, drops stop words and stems Arabic written with marks and tatweel', () => {
    expect(analyze('ذهبتُ إلى المَكتَبةِ لقراءة كِتَـــابٍ عن المعلمين')).toEqual([
      'ذهبت',
      'مكتب',
      'لقراء',
      'كتاب',
      'معلم',
    ]);
  });

  it('analyses each word by its script in mixed text', () => {
    expect(analyze('تحميل the iPhone apps من المتجر')).toEqual(['تحميل', 'iphon', 'app', 'متجر']);
  });

  it('gives the same terms whatever language the text is declared in', () => {
    const text = 'The new phones في المكتبات';
    expect(analyze(text, 'ar')).toEqual(analyze(text));
    expect(analyze(text, 'en')).toEqual(analyze(text));
  });

  it('keeps stop words on request, flagged, with positions that count them', () => {
    const kept = analyzeTokens('the art of war', { keepStopWords: true });
    expect(kept.map((t) => [t.stem, t.stop, t.position])).toEqual([
      ['the', true, 0],
      ['art', false, 1],
      ['of', true, 2],
      ['war', false, 3],
    ]);
    const dropped = analyzeTokens('the art of war');
    expect(dropped.map((t) => [t.stem, t.position])).toEqual([
      ['art', 1],
      ['war', 3],
    ]);
  });

  it('labels words by script, and others with the declared language', () => {
    const tokens = analyzeTokens('كتاب book 2024', { lang: 'ar' });
    expect(tokens.map((t) => [t.term, t.lang])).toEqual([
      ['كتاب', 'ar'],
      ['book', 'en'],
      ['2024', 'ar'],
    ]);
    expect(analyzeTokens('2024')[0]?.lang).toBeUndefined();
  });

  it('keeps offsets into the original text', () => {
    const text = 'Les CAFÉS de كِتَـــابُنا';
    const tokens = analyzeTokens(text);
    expect(tokens.map((t) => [t.stem, text.slice(t.start, t.end)])).toEqual([
      ['les', 'Les'],
      ['cafe', 'CAFÉS'],
      ['de', 'de'],
      ['كتابنا', 'كِتَـــابُنا'],
    ]);
  });

  it('returns nothing for stop words alone or empty text', () => {
    expect(analyze('the and of')).toEqual([]);
    expect(analyze('في من إلى')).toEqual([]);
    expect(analyze('')).toEqual([]);
  });
});
