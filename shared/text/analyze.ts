/**
 * Text analysis shared by search indexing and querying, for bilingual Arabic/English content:
 * normalisation, tokenisation with offsets into the original text, language detection by
 * script, stop words, and stemming (Larkey's light10 for Arabic, Porter2 for English). Indexing
 * and querying must both go through {@link analyze} (or {@link analyzeTokens}) so that a word
 * typed in a query becomes the same term as the word in a document.
 *
 * Pure and deterministic; no Node APIs, so the Worker and the tools share it.
 */

/** The languages with stop words and a stemmer here. */
export type Lang = 'ar' | 'en';

// --- Normalisation ---------------------------------------------------------------------------

/**
 * Combining marks removed from every letter: the generic combining diacritics (Latin, Greek and
 * Cyrillic accents, so `café` → `cafe`) and the Arabic ones: Quranic honorifics (U+0610–U+061A),
 * harakat, tanween, shadda, sukun and the hamza/madda marks (U+064B–U+065F), the dagger alef
 * (U+0670) and the Quranic annotation marks (U+06D6–U+06ED, except the small letters U+06E5 and
 * U+06E6). Marks of other scripts (Devanagari vowel signs, Hebrew points…) carry the word and stay.
 */
const STRIPPED_MARKS = new RegExp(
  [
    '[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f', // generic
    '\\u0610-\\u061a\\u064b-\\u065f\\u0670', // Arabic honorifics, harakat, hamza marks, dagger alef
    '\\u06d6-\\u06dc\\u06df-\\u06e4\\u06e7\\u06e8\\u06ea-\\u06ed', // Quranic annotation
    '\\u08d3-\\u08e1\\u08e3-\\u08ff]', // Arabic Extended-A marks
  ].join(''),
  'g',
);
const FORMAT_CHAR = /^\p{Cf}$/u; // zero-width joiners, bidi marks, soft hyphen
const MARK_AT = /\p{M}/uy;
/** Apostrophe look-alikes, folded to `'` before NFKC (which turns `´` into a space and a mark). */
const APOSTROPHES = new Set(["'", '\u2018', '\u2019', '\u02bc', '\u02bb', '`', '\u00b4']);

/**
 * Letters folded after case-folding and mark removal: Latin letters that are not a base letter
 * plus an accent; Greek final sigma; and the Arabic rules: alef forms → `ا`, `ى` → `ي`, `ة` → `ه`,
 * `ؤ` → `و`, `ئ` → `ي` (most already lose their hamza or madda with the marks; listed so the
 * rule does not depend on it), Persian `ی` and `ک` → Arabic `ي` and `ك`, tatweel removed, and
 * Arabic-Indic and Persian digits and separators → ASCII.
 */
const LETTER_FOLDS: ReadonlyMap<string, string> = new Map([
  ['ß', 'ss'],
  ['æ', 'ae'],
  ['œ', 'oe'],
  ['ø', 'o'],
  ['ł', 'l'],
  ['đ', 'd'],
  ['ð', 'd'],
  ['þ', 'th'],
  ['ı', 'i'],
  ['ς', 'σ'],
  ['\u0622', '\u0627'], // آ
  ['\u0623', '\u0627'], // أ
  ['\u0625', '\u0627'], // إ
  ['\u0671', '\u0627'], // ٱ
  ['\u0672', '\u0627'], // ٲ
  ['\u0673', '\u0627'], // ٳ
  ['\u0649', '\u064a'], // ى → ي
  ['\u0629', '\u0647'], // ة → ه
  ['\u0624', '\u0648'], // ؤ → و
  ['\u0626', '\u064a'], // ئ → ي
  ['\u06cc', '\u064a'], // ی → ي
  ['\u06a9', '\u0643'], // ک → ك
  ['\u0640', ''], // tatweel
  ['\u066b', '.'], // Arabic decimal separator
  ['\u066c', ','], // Arabic thousands separator
  ...Array.from({ length: 10 }, (_, d): [string, string] => [
    String.fromCharCode(0x660 + d),
    `${d}`,
  ]),
  ...Array.from({ length: 10 }, (_, d): [string, string] => [
    String.fromCharCode(0x6f0 + d),
    `${d}`,
  ]),
]);

/** Folded form of each ASCII character: lower case, everything else as is. */
const ASCII_FOLDS = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c).toLowerCase());

/** Folded clusters seen so far; text repeats few distinct clusters, so this stays small. */
const clusterCache = new Map<string, string>();
const CLUSTER_CACHE_LIMIT = 10_000;

/** Where each UTF-16 unit of folded text came from in the original: `[starts[i], ends[i])`. */
type OffsetMap = { starts: number[]; ends: number[] };

function foldCluster(cluster: string): string {
  const cached = clusterCache.get(cluster);
  if (cached !== undefined) return cached;
  let folded = '';
  if (APOSTROPHES.has(cluster)) folded = "'";
  else {
    const s = cluster
      .normalize('NFKC')
      .toLowerCase()
      .normalize('NFD')
      .replace(STRIPPED_MARKS, '')
      .normalize('NFC');
    for (const ch of s) {
      if (APOSTROPHES.has(ch)) folded += "'";
      else if (!FORMAT_CHAR.test(ch)) folded += LETTER_FOLDS.get(ch) ?? ch;
    }
  }
  if (clusterCache.size >= CLUSTER_CACHE_LIMIT) clusterCache.clear();
  clusterCache.set(cluster, folded);
  return folded;
}

/**
 * Folds `text` one cluster (a character and the combining marks after it) at a time, so every
 * folded character can be traced back to the original cluster it came from (recorded in `map`
 * when given). NFKC over the whole string would also compose across clusters, which matters
 * only for Hangul conjoining jamo, not used in modern text.
 */
function fold(text: string, map?: OffsetMap): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const start = i;
    const code = text.codePointAt(i) as number;
    i += code > 0xffff ? 2 : 1;
    while (i < text.length && text.charCodeAt(i) >= 0x300) {
      MARK_AT.lastIndex = i;
      if (!MARK_AT.test(text)) break;
      i = MARK_AT.lastIndex;
    }
    const piece =
      i - start === 1 && code < 0x80
        ? (ASCII_FOLDS[code] as string)
        : foldCluster(text.slice(start, i));
    if (map) {
      for (let k = 0; k < piece.length; k++) {
        map.starts.push(start);
        map.ends.push(i);
      }
    }
    out += piece;
  }
  return out;
}

/**
 * Normalises text for matching: Unicode NFKC (full-width forms, ligatures, Arabic presentation
 * forms), locale-independent lower case (final sigma folded too), combining accents removed
 * (`café` → `cafe`, `ß` → `ss`), format characters (zero-width joiners, bidi marks) removed,
 * apostrophe look-alikes → `'`, and for Arabic: diacritics (harakat, tanween, shadda, sukun,
 * dagger alef, Quranic marks) and tatweel removed, `أ إ آ ٱ` → `ا`, `ى` → `ي`, `ة` → `ه`,
 * `ؤ` → `و`, `ئ` → `ي`, Arabic-Indic and Persian digits → ASCII digits. Runs of whitespace
 * become one space and the ends are trimmed; punctuation is kept.
 */
export function normalize(text: string): string {
  return fold(text).replace(/\s+/gu, ' ').trim();
}

// --- Tokenisation ----------------------------------------------------------------------------

/** One word of a text. */
export type Token = {
  /** The normalised word: apostrophes and a trailing `'s` dropped (`don't` → `dont`). */
  term: string;
  /** Where the word is in the original text, in UTF-16 units: `text.slice(start, end)`. */
  start: number;
  end: number;
  /** The word's index among the text's words, counting from 0. */
  position: number;
};

/**
 * A word: a grouped number (`3.14`, `1,000`), or letters, marks and digits with internal
 * apostrophes (`don't`). Hyphens and all other punctuation separate words, as in Lucene's standard
 * tokeniser (`e-mail` → `e`, `mail`), so a query spelt with spaces finds hyphenated text.
 */
const WORD = /\p{N}+(?:[.,]\p{N}+)+|[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*/gu;
/** Han and kana are written without spaces, so each of their characters is its own token. */
const CJK_PIECE =
  /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]|[^\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]+/gu;
const HAS_CJK = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const THOUSANDS = /^\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

function termOf(word: string): string {
  if (THOUSANDS.test(word)) return word.replaceAll(',', '');
  return word.replace(/'s$/, '').replaceAll("'", '');
}

/**
 * Splits `text` into its words, in order, each normalised as {@link normalize} does and located
 * in the ORIGINAL text (so a snippet can highlight `كِتَـــاب` even though its term is `كتاب`).
 * A word's span covers its diacritics and any apostrophe suffix; a tatweel or mark after the
 * last letter is outside it.
 */
export function tokenize(text: string): Token[] {
  const map: OffsetMap = { starts: [], ends: [] };
  const folded = fold(text, map);
  const tokens: Token[] = [];
  const push = (word: string, index: number) => {
    const term = termOf(word);
    if (term === '') return;
    const start = map.starts[index] as number;
    const end = map.ends[index + word.length - 1] as number;
    tokens.push({ term, start, end, position: tokens.length });
  };
  for (const match of folded.matchAll(WORD)) {
    if (!HAS_CJK.test(match[0])) {
      push(match[0], match.index);
      continue;
    }
    for (const piece of match[0].matchAll(CJK_PIECE)) push(piece[0], match.index + piece.index);
  }
  return tokens;
}

// --- Language --------------------------------------------------------------------------------

const ARABIC_LETTER = /(?=\p{L})\p{sc=Arabic}/gu;
const LATIN_LETTER = /(?=\p{L})\p{sc=Latin}/gu;
const HAS_ARABIC_LETTER = /(?=\p{L})\p{sc=Arabic}/u;
const HAS_LATIN_LETTER = /(?=\p{L})\p{sc=Latin}/u;

/**
 * The language of `text` by the share of its letters in each script: `ar` when Arabic-script
 * letters are at least as many as Latin ones, `en` when Latin letters are more, `undefined` when
 * there is neither (digits, punctuation, other scripts). Ties go to Arabic because Arabic writes
 * fewer letters per word (no short vowels), so a tie in letters means more Arabic words.
 */
export function detectLanguage(text: string): Lang | undefined {
  const arabic = text.match(ARABIC_LETTER)?.length ?? 0;
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  if (arabic === 0 && latin === 0) return undefined;
  return arabic >= latin ? 'ar' : 'en';
}

/** The language a single word's script implies: Arabic script → `ar`, Latin → `en`. */
export function scriptLanguage(word: string): Lang | undefined {
  if (HAS_ARABIC_LETTER.test(word)) return 'ar';
  if (HAS_LATIN_LETTER.test(word)) return 'en';
  return undefined;
}

// --- Stop words ------------------------------------------------------------------------------

/**
 * English stop words: the Snowball English list, plus contractions as the tokeniser writes them
 * (apostrophe dropped). Contractions that are also words (`can't` → `cant`, `won't` → `wont`,
 * `we'll` → `well`, `I'd` → `id`, `she'll` → `shell`) are left out.
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  [
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself',
    'she her hers herself it its itself they them their theirs themselves what which who whom',
    'this that these those am is are was were be been being have has had having do does did',
    'doing would should could ought a an the and but if or because as until while of at by for',
    'with about against between into through during before after above below to from up down',
    'in out on off over under again further then once here there when where why how all any',
    'both each few more most other some such no nor not only own same so than too very can will',
    'just also s t',
    'im youre hes shes theyre ive youve weve theyve youd hed theyd youll theyll isnt arent wasnt',
    'werent hasnt havent hadnt doesnt dont didnt wouldnt shouldnt couldnt mustnt neednt shant',
    'lets thats whos whats heres theres whens wheres whys hows',
  ]
    .join(' ')
    .split(' '),
);

/**
 * Arabic stop words, written in ordinary spelling and normalised when the module loads, so
 * `إلى` is stored as `الي` and `هؤلاء` as `هولاء`: prepositions, conjunctions, pronouns,
 * demonstratives, relative pronouns, particles, question words, forms of كان, and the most common
 * of these with a prefixed و. Note that normalisation merges `على` with the name `علي`.
 */
export const ARABIC_STOP_WORDS: ReadonlySet<string> = new Set(
  [
    'في من إلى على عن مع حتى منذ لدى لدي عند بين خلال حول دون نحو ضد سوى غير قبل بعد فوق تحت',
    'أمام خلف ضمن عبر لأن كي لكي و ف ب ل ك ثم أو أم بل لكن لكنّ إذ إذا إذن إن أن كأن لعل ليت',
    'هو هي هم هن هما أنا نحن أنت أنتِ أنتم أنتن أنتما إياه إياها إياهم',
    'هذا هذه هذان هاتان هؤلاء ذلك تلك أولئك هنا هناك هنالك',
    'الذي التي الذين اللذان اللتان اللذين اللتين اللاتي اللواتي',
    'ما ماذا لماذا متى أين كيف هل كم أي أية',
    'لا لم لن ليس ليست قد لقد سوف يا إلا ألا أما إما كل بعض جميع كلا كلتا أيضا أيضاً فقط جدا',
    'كان كانت كانوا يكون تكون يكن أصبح أصبحت صار ظل',
    'به بها بهم له لها لهم لنا لي منه منها منهم فيه فيها فيهم عليه عليها عليهم عنه عنها إليه',
    'إليها معه معها',
    'وفي ومن وإلى وعلى وعن ومع وهو وهي وهم وهذا وهذه وذلك ولا ولم ولن وما وقد وكان وكانت وأن وإن',
    'وكل وبعد وقبل وبين وعند وأو ثم فإن فقد',
  ]
    .join(' ')
    .split(' ')
    .map((word) => fold(word)),
);

/**
 * Whether a normalised word (a {@link Token} term) is a stop word of `lang`. Without `lang`, the
 * word's script decides which list applies (Arabic script → Arabic, Latin → English).
 */
export function isStopWord(term: string, lang?: Lang): boolean {
  const language = lang ?? scriptLanguage(term);
  if (language === 'ar') return ARABIC_STOP_WORDS.has(term);
  if (language === 'en') return ENGLISH_STOP_WORDS.has(term);
  return false;
}

// --- Stemming --------------------------------------------------------------------------------

/** Stems of recent words: text repeats its words, and the script decides the stemmer. */
const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 10_000;

/**
 * The stem of a normalised word (a {@link Token} term) in `lang`: Larkey's light10 for Arabic,
 * Porter2 (Snowball English) for English. A stemmer only touches words of its own script, so
 * `stem('running', 'ar')` is `running`. Without `lang`, the word's script chooses the stemmer;
 * words in neither script (numbers, other scripts) are returned unchanged.
 */
export function stem(term: string, lang?: Lang): string {
  const script = scriptLanguage(term);
  if (script === undefined || (lang !== undefined && lang !== script)) return term;
  const cached = stemCache.get(term);
  if (cached !== undefined) return cached;
  const stemmed = script === 'ar' ? stemArabic(term) : stemEnglish(term);
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
  stemCache.set(term, stemmed);
  return stemmed;
}

// Arabic: Larkey, Ballesteros & Connell, "Light Stemming for Arabic Information Retrieval"
// (2007), light10. Prefixes and suffixes are written normalised (ة → ه); the ة forms are kept
// too so un-normalised words are handled the same way.
const ARABIC_WAW = '\u0648';
const ARABIC_ARTICLES = ['وال', 'بال', 'كال', 'فال', 'لل', 'ال'];
const ARABIC_SUFFIXES = ['ها', 'ان', 'ات', 'ون', 'ين', 'يه', 'ية', 'ه', 'ة', 'ي'];
/** Letters left after removing و: stricter than for articles, as many roots start with و. */
const MIN_AFTER_WAW = 3;
const MIN_AFTER_AFFIX = 2;

/**
 * Larkey's light10 on a normalised Arabic word: remove a leading و ("and") when at least three
 * letters remain; then one definite article (`ال وال بال كال فال لل`) when at least two remain;
 * then, once each in this order, the suffixes `ها ان ات ون ين يه ية ه ة ي` when at least two
 * letters remain (`والكتاب` → `كتاب`, `المعلمون` → `معلم`, `الكاتبات` → `كاتب`).
 */
export function stemArabic(word: string): string {
  let w = word;
  if (w.startsWith(ARABIC_WAW) && w.length - 1 >= MIN_AFTER_WAW) w = w.slice(1);
  const article = ARABIC_ARTICLES.find((a) => w.startsWith(a) && w.length - a.length >= 2);
  if (article) w = w.slice(article.length);
  for (const suffix of ARABIC_SUFFIXES) {
    if (w.endsWith(suffix) && w.length - suffix.length >= MIN_AFTER_AFFIX) {
      w = w.slice(0, -suffix.length);
    }
  }
  return w;
}

// English: Porter2, the Snowball English stemmer as published from 2006 (with the 'arsen'
// region exception of late 2006) until Snowball 3.0 in 2025; the version in NLTK, the Python
// `snowballstemmer` 2.x, Lucene's EnglishStemmer and PostgreSQL's `english` configuration.
// https://snowballstem.org/algorithms/english/stemmer.html
const VOWELS = 'aeiouy';
const VOWELS_WXY = 'aeiouywxY';
const VALID_LI = 'cdeghkmnrt';
const DOUBLES = ['bb', 'dd', 'ff', 'gg', 'mm', 'nn', 'pp', 'rr', 'tt'];
const REGION_PREFIXES = ['gener', 'commun', 'arsen'];

const isVowel = (c: string | undefined) => c !== undefined && c !== '' && VOWELS.includes(c);

/** Whole words the algorithm would get wrong, with their stems. */
const ENGLISH_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  ['skis', 'ski'],
  ['skies', 'sky'],
  ['dying', 'die'],
  ['lying', 'lie'],
  ['tying', 'tie'],
  ['idly', 'idl'],
  ['gently', 'gentl'],
  ['ugly', 'ugli'],
  ['early', 'earli'],
  ['only', 'onli'],
  ['singly', 'singl'],
  ['sky', 'sky'],
  ['news', 'news'],
  ['howe', 'howe'],
  ['atlas', 'atlas'],
  ['cosmos', 'cosmos'],
  ['bias', 'bias'],
  ['andes', 'andes'],
]);
/** Words left alone after step 1a. */
const ENGLISH_INVARIANTS = new Set([
  'inning',
  'outing',
  'canning',
  'herring',
  'earring',
  'proceed',
  'exceed',
  'succeed',
]);

/** Suffix → replacement, longest first, so the first match is the longest (Snowball `among`). */
type Rule = readonly [suffix: string, replacement: string];
const byLength = (rules: Rule[]) => rules.sort((a, b) => b[0].length - a[0].length);
const STEP_2: Rule[] = byLength([
  ['tional', 'tion'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['abli', 'able'],
  ['entli', 'ent'],
  ['izer', 'ize'],
  ['ization', 'ize'],
  ['ational', 'ate'],
  ['ation', 'ate'],
  ['ator', 'ate'],
  ['alism', 'al'],
  ['aliti', 'al'],
  ['alli', 'al'],
  ['fulness', 'ful'],
  ['ousli', 'ous'],
  ['ousness', 'ous'],
  ['iveness', 'ive'],
  ['iviti', 'ive'],
  ['biliti', 'ble'],
  ['bli', 'ble'],
  ['ogi', 'og'],
  ['fulli', 'ful'],
  ['lessli', 'less'],
  ['li', ''],
]);
const STEP_3: Rule[] = byLength([
  ['tional', 'tion'],
  ['ational', 'ate'],
  ['alize', 'al'],
  ['icate', 'ic'],
  ['iciti', 'ic'],
  ['ical', 'ic'],
  ['ful', ''],
  ['ness', ''],
  ['ative', ''],
]);
const STEP_4 = [
  'al',
  'ance',
  'ence',
  'er',
  'ic',
  'able',
  'ible',
  'ant',
  'ement',
  'ment',
  'ent',
  'ism',
  'ate',
  'iti',
  'ous',
  'ive',
  'ize',
  'ion',
].sort((a, b) => b.length - a.length);

/**
 * Porter2 (Snowball English) on a lower-case word. Words of one or two letters are returned as
 * they are; `Y` marks a consonant y while stemming and is lower-cased at the end.
 */
export function stemEnglish(word: string): string {
  const exception = ENGLISH_EXCEPTIONS.get(word);
  if (exception !== undefined) return exception;
  if (word.length < 3) return word;
  let w = markConsonantY(word.startsWith("'") ? word.slice(1) : word);
  const p1 = regionStart(w);
  const p2 = nextRegion(w, p1);
  w = step1a(w);
  if (!ENGLISH_INVARIANTS.has(w)) {
    w = step1b(w, p1);
    w = step1c(w);
    w = step2(w, p1);
    w = step3(w, p1, p2);
    w = step4(w, p2);
    w = step5(w, p1, p2);
  }
  return w.replaceAll('Y', 'y');
}

/** An initial y, and a y after a vowel, act as consonants: mark them `Y`. */
function markConsonantY(word: string): string {
  let marked = '';
  for (let i = 0; i < word.length; i++) {
    const c = word.charAt(i);
    marked += c === 'y' && (i === 0 || isVowel(marked.charAt(i - 1))) ? 'Y' : c;
  }
  return marked;
}

/** R1's start: after the first non-vowel that follows a vowel (or after a listed prefix). */
function regionStart(w: string): number {
  const prefix = REGION_PREFIXES.find((p) => w.startsWith(p));
  return prefix ? prefix.length : nextRegion(w, 0);
}

function nextRegion(w: string, from: number): number {
  for (let i = from + 1; i < w.length; i++) {
    if (!isVowel(w.charAt(i)) && isVowel(w.charAt(i - 1))) return i + 1;
  }
  return w.length;
}

/**
 * Whether a short syllable ends at `end`: non-vowel, vowel, then a non-vowel other than w, x
 * or Y (`hop`); or, at the start of the word, vowel then non-vowel (`at`).
 */
function shortSyllableEndsAt(w: string, end: number): boolean {
  if (end < 2 || isVowel(w.charAt(end - 1)) || !isVowel(w.charAt(end - 2))) return false;
  if (end === 2) return true;
  return !isVowel(w.charAt(end - 3)) && !VOWELS_WXY.includes(w.charAt(end - 1));
}

const hasVowel = (s: string) => [...s].some(isVowel);

function step1a(word: string): string {
  let w = word;
  if (w.endsWith("'s'")) w = w.slice(0, -3);
  else if (w.endsWith("'s")) w = w.slice(0, -2);
  else if (w.endsWith("'")) w = w.slice(0, -1);
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ied') || w.endsWith('ies')) return w.slice(0, -3) + (w.length > 4 ? 'i' : 'ie');
  if (w.endsWith('us') || w.endsWith('ss')) return w;
  if (w.endsWith('s') && hasVowel(w.slice(0, -2))) return w.slice(0, -1);
  return w;
}

function step1b(w: string, p1: number): string {
  const ee = ['eedly', 'eed'].find((s) => w.endsWith(s));
  if (ee) return w.length - ee.length >= p1 ? `${w.slice(0, -ee.length)}ee` : w;
  const suffix = ['ingly', 'edly', 'ing', 'ed'].find((s) => w.endsWith(s));
  if (!suffix) return w;
  const rest = w.slice(0, -suffix.length);
  if (!hasVowel(rest)) return w;
  if (rest.endsWith('at') || rest.endsWith('bl') || rest.endsWith('iz')) return `${rest}e`;
  if (DOUBLES.some((d) => rest.endsWith(d))) return rest.slice(0, -1);
  if (rest.length === p1 && shortSyllableEndsAt(rest, rest.length)) return `${rest}e`;
  return rest;
}

function step1c(w: string): string {
  const last = w.charAt(w.length - 1);
  if ((last === 'y' || last === 'Y') && w.length > 2 && !isVowel(w.charAt(w.length - 2))) {
    return `${w.slice(0, -1)}i`;
  }
  return w;
}

function step2(w: string, p1: number): string {
  const rule = STEP_2.find(([suffix]) => w.endsWith(suffix));
  if (!rule) return w;
  const [suffix, replacement] = rule;
  const rest = w.slice(0, -suffix.length);
  if (rest.length < p1) return w;
  if (suffix === 'ogi' && !rest.endsWith('l')) return w;
  if (suffix === 'li' && !VALID_LI.includes(rest.charAt(rest.length - 1) || '-')) return w;
  return rest + replacement;
}

function step3(w: string, p1: number, p2: number): string {
  const rule = STEP_3.find(([suffix]) => w.endsWith(suffix));
  if (!rule) return w;
  const [suffix, replacement] = rule;
  const rest = w.slice(0, -suffix.length);
  if (rest.length < p1 || (suffix === 'ative' && rest.length < p2)) return w;
  return rest + replacement;
}

function step4(w: string, p2: number): string {
  const suffix = STEP_4.find((s) => w.endsWith(s));
  if (!suffix) return w;
  const rest = w.slice(0, -suffix.length);
  if (rest.length < p2) return w;
  if (suffix === 'ion' && !rest.endsWith('s') && !rest.endsWith('t')) return w;
  return rest;
}

function step5(w: string, p1: number, p2: number): string {
  const rest = w.slice(0, -1);
  if (w.endsWith('e')) {
    const deletable =
      rest.length >= p2 || (rest.length >= p1 && !shortSyllableEndsAt(w, rest.length));
    return deletable ? rest : w;
  }
  if (w.endsWith('l') && rest.length >= p2 && rest.endsWith('l')) return rest;
  return w;
}

// --- Analysis --------------------------------------------------------------------------------

/** A word after analysis: its {@link Token} plus stem, language and whether it is a stop word. */
export type AnalyzedToken = Token & {
  /** The stem: what the index stores and a query looks up. */
  stem: string;
  /** The word's language by script, else the `lang` passed in; undefined for neither. */
  lang: Lang | undefined;
  stop: boolean;
};

/** Options of {@link analyzeTokens}. */
export type AnalyzeOptions = {
  /** The text's declared language; labels words whose script implies none (numbers…). */
  lang?: Lang;
  /** Keep stop words (flagged `stop`), for phrase matching and snippets. Default false. */
  keepStopWords?: boolean;
};

/**
 * Analyses `text` word by word: normalise, tokenise, drop stop words (unless `keepStopWords`),
 * stem. Each word is analysed in the language of its script (Arabic script → Arabic stop words
 * and stemmer, Latin → English), whatever `lang` says, so a document indexed with a declared
 * language and a query analysed without one give the same terms for the same words (an English
 * product name in an Arabic article is still stemmed as English). Positions count every word,
 * stop words included, so phrase and proximity matching see the gaps.
 */
export function analyzeTokens(text: string, options: AnalyzeOptions = {}): AnalyzedToken[] {
  const out: AnalyzedToken[] = [];
  for (const token of tokenize(text)) {
    const lang = scriptLanguage(token.term) ?? options.lang;
    const stop = isStopWord(token.term, lang);
    if (stop && !options.keepStopWords) continue;
    out.push({ ...token, stem: stem(token.term), lang, stop });
  }
  return out;
}

/**
 * The search terms of `text`: the stems of its words other than stop words, in order (with
 * repeats). See {@link analyzeTokens} for the rules and for offsets and positions.
 */
export function analyze(text: string, lang?: Lang): string[] {
  return analyzeTokens(text, { lang }).map((token) => token.stem);
}
