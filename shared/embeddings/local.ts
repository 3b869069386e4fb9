import type { EmbeddingProvider } from './interface.ts';

/**
 * A deterministic, dependency-free stand-in for a multilingual sentence-embedding model.
 *
 * Offline development and tests cannot reach Workers AI, so text is embedded here by signed
 * feature hashing: lightly stemmed word unigrams, adjacent content-word bigrams, and character
 * 3–5-grams inside word boundaries are hashed into a fixed number of dimensions with a ±1 sign
 * (so collisions cancel out on average rather than pile up), and the sum is L2-normalised.
 * Texts that share words, stems or word fragments therefore land close together; texts that
 * share nothing but function words land near orthogonal. It is not a semantic model: a
 * paraphrase with no shared stems scores like unrelated text.
 *
 * Pure TypeScript with no Node APIs, so the same code can run inside a Worker.
 */
export type LocalEmbeddingOptions = {
  /** Output dimensions. Default 384 (the size of the small production models). */
  dimensions?: number;
};

export const DEFAULT_LOCAL_DIMENSIONS = 384;

/** Bump when features or weights change: vectors from different versions are not comparable. */
const FEATURE_VERSION = 'v1';

// Relative weights of the feature families. Whole-word evidence dominates; n-grams carry
// morphology (plural, tense, Arabic affixes the stemmer misses); bigrams reward shared phrasing.
const UNIGRAM_WEIGHT = 1;
const STOPWORD_WEIGHT = 0.12;
const BIGRAM_WEIGHT = 0.45;
const NGRAM_WEIGHT = 0.75;
const MIN_NGRAM = 3;
const MAX_NGRAM = 5;

// Distinct seeds keep a word, a bigram and a character n-gram with the same text apart.
const SEED_UNIGRAM = 0x811c9dc5;
const SEED_BIGRAM = 0x2545f491;
const SEED_NGRAM = 0x9e3779b9;
const SEED_EMPTY = 0x3c6ef372;

/** Creates the local embedding provider. See the module comment for what it does. */
export function createLocalEmbeddingProvider(
  options: LocalEmbeddingOptions = {},
): EmbeddingProvider {
  const dimensions = options.dimensions ?? DEFAULT_LOCAL_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  return {
    model: `local-feature-hash-${FEATURE_VERSION}-${dimensions}`,
    dimensions,
    // Queries and documents are embedded alike: the features are symmetric.
    async embed(texts) {
      return texts.map((text) => embedText(text, dimensions));
    },
  };
}

/** Embeds one text synchronously; the provider wraps this. */
export function embedText(text: string, dimensions: number = DEFAULT_LOCAL_DIMENSIONS) {
  const out = new Float32Array(dimensions);
  const acc = new Float64Array(dimensions);
  const words = tokenize(text);
  let previousContent: string | undefined;
  let features = 0;
  for (const word of words) {
    const stop = isStopWord(word);
    const stem = stemWord(word);
    addFeature(acc, hashString(stem, SEED_UNIGRAM), stop ? STOPWORD_WEIGHT : UNIGRAM_WEIGHT);
    features++;
    if (stop) continue;
    if (previousContent !== undefined) {
      addFeature(acc, hashString(`${previousContent} ${stem}`, SEED_BIGRAM), BIGRAM_WEIGHT);
    }
    previousContent = stem;
    addCharNgrams(acc, word);
  }
  if (features === 0) addFeature(acc, SEED_EMPTY, 1);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += (acc[i] as number) ** 2;
  // Every text yields at least one feature, so the norm is only zero if hashed features cancel
  // exactly; fall back to the empty-text feature rather than return a zero vector.
  if (norm === 0) {
    addFeature(acc, SEED_EMPTY, 1);
    norm = 1;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) out[i] = (acc[i] as number) * inv;
  return out;
}

function addFeature(acc: Float64Array, hash: number, weight: number) {
  const mixed = fmix32(hash);
  const index = (mixed & 0x7fffffff) % acc.length;
  acc[index] = (acc[index] as number) + (mixed & 0x80000000 ? -weight : weight);
}

/**
 * Character n-grams of `<word>`, hashed incrementally from each start position so no substrings
 * are allocated. Each word's n-grams share one budget (weight / sqrt(count)), so long words do
 * not drown short ones.
 */
function addCharNgrams(acc: Float64Array, word: string) {
  const chars = Array.from(`<${word}>`);
  const length = chars.length;
  let count = 0;
  for (let n = MIN_NGRAM; n <= MAX_NGRAM; n++) count += Math.max(0, length - n + 1);
  if (count === 0) return;
  const weight = NGRAM_WEIGHT / Math.sqrt(count);
  for (let start = 0; start + MIN_NGRAM <= length; start++) {
    let h = SEED_NGRAM;
    for (let n = 0; n < MAX_NGRAM && start + n < length; n++) {
      h = fnvStep(h, (chars[start + n] as string).codePointAt(0) as number);
      if (n + 1 >= MIN_NGRAM) addFeature(acc, h ^ (n + 1), weight);
    }
  }
}

function fnvStep(h: number, codePoint: number) {
  let x = h ^ (codePoint & 0xffff);
  x = Math.imul(x, 0x01000193);
  if (codePoint > 0xffff) x = Math.imul(x ^ (codePoint >>> 16), 0x01000193);
  return x >>> 0;
}

/** FNV-1a over code points, seeded. */
export function hashString(text: string, seed = SEED_UNIGRAM): number {
  let h = seed >>> 0;
  for (const ch of text) h = fnvStep(h, ch.codePointAt(0) as number);
  return h;
}

/** MurmurHash3's finaliser: FNV alone leaves low bits poorly mixed for short inputs. */
export function fmix32(input: number): number {
  let h = input >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Text normalisation and tokenisation, shared with the local Upstash Vector's BM25 encoder.
// ---------------------------------------------------------------------------------------------

const ALEF_VARIANTS = /[\u0622\u0623\u0625\u0671\u0672\u0673]/g; // آ أ إ ٱ ٲ ٳ → ا
// Harakat, superscript alef, Quranic annotation marks and tatweel carry no lexical meaning in
// ordinary text and are written inconsistently, so they are dropped.
const ARABIC_MARKS =
  /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]/g;
const LATIN_MARKS = /[\u0300-\u036f]/g;
// Han and kana are written without spaces; they are indexed as overlapping character bigrams.
// Script_Extensions, so the prolonged sound mark (ー) and iteration marks count as kana/Han.
const CJK = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]/u;
const WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}]+)*/gu;

/**
 * Unicode-normalises and case-folds text: NFKC (full-width forms, ligatures, Arabic presentation
 * forms), lower case, Latin diacritics and Arabic harakat/tatweel removed, alef forms unified,
 * alef maqsura → ya, ta marbuta → ha, Persian kaf/ya → Arabic, Eastern digits → ASCII.
 */
export function normalizeText(text: string): string {
  let s = text.normalize('NFKC').toLowerCase();
  // Tanween fatha is written on a seat alef ("صباحاً"); without the mark the alef is noise.
  s = s.replace(/\u064b\u0627|\u0627\u064b/g, '');
  s = s.normalize('NFD').replace(LATIN_MARKS, '').replace(ARABIC_MARKS, '').normalize('NFC');
  s = s
    .replace(ALEF_VARIANTS, '\u0627')
    .replace(/\u0649/g, '\u064a') // ى → ي
    .replace(/\u0629/g, '\u0647') // ة → ه
    .replace(/\u06a9/g, '\u0643') // ک → ك
    .replace(/[\u06cc\u06d2]/g, '\u064a') // ی ے → ي
    .replace(/[\u0660-\u0669]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0x0660 + 48))
    .replace(/[\u06f0-\u06f9]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0x06f0 + 48));
  return s;
}

/** Normalised word tokens; runs of Han/kana become overlapping character bigrams. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const match of normalizeText(text).matchAll(WORD)) {
    const word = match[0].replace(/['’]s$/, '').replace(/['’]/g, '');
    if (!CJK.test(word)) {
      if (word) out.push(word);
      continue;
    }
    splitCjk(word, out);
  }
  return out;
}

function splitCjk(word: string, out: string[]) {
  let run: string[] = [];
  let other = '';
  const flush = () => {
    if (run.length === 1) out.push(run[0] as string);
    for (let i = 0; i + 1 < run.length; i++) out.push(`${run[i]}${run[i + 1]}`);
    run = [];
    if (other) out.push(other);
    other = '';
  };
  for (const ch of word) {
    if (CJK.test(ch)) {
      if (other) {
        out.push(other);
        other = '';
      }
      run.push(ch);
    } else {
      if (run.length) flush();
      other += ch;
    }
  }
  flush();
}

const STOP_WORDS = new Set(
  [
    // English
    'a an the and or but if then else of to in on at by for with from into onto about as is am',
    'are was were be been being do does did doing have has had having it its this that these',
    'those there here i me my we our us you your he him his she her they them their what which',
    'who whom whose when where why how not no nor so than too very can could will would shall',
    'should may might must just also only own same such both each few more most other some any',
    'all over under again further once up down out off s t don now',
    // Arabic (normalised spelling: alef unified, ta marbuta → ha, alef maqsura → ya)
    'في من الي علي عن مع هذا هذه ذلك تلك التي الذي الذين هو هي هم هن انا نحن انت انتم كان كانت',
    'يكون ان او ثم قد لا ما لم لن كل بعض غير بين عند حتي اذا لكن و ف ب ل ك يا',
  ]
    .join(' ')
    .split(' '),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

const ARABIC_LETTERS = /^[\u0621-\u064a]+$/;

/** Light stemming: English suffixes (Porter-like, conservative) or Arabic affixes (Larkey-like). */
export function stemWord(word: string): string {
  if (ARABIC_LETTERS.test(word)) return stemArabic(word);
  if (/^[a-z]+$/.test(word)) return stemEnglish(word);
  return word;
}

const ARABIC_PREFIXES = ['وال', 'بال', 'كال', 'فال', 'لل', 'ال'];
const ARABIC_SUFFIXES = [
  'هما',
  'كما',
  'ها',
  'ان',
  'ات',
  'ون',
  'ين',
  'يه',
  'كم',
  'هم',
  'نا',
  'ه',
  'ي',
];

function stemArabic(word: string): string {
  let w = word;
  if (w.length > 3 && w.startsWith('و')) w = w.slice(1);
  for (const prefix of ARABIC_PREFIXES) {
    if (w.startsWith(prefix) && w.length - prefix.length >= 2) {
      w = w.slice(prefix.length);
      break;
    }
  }
  for (const suffix of ARABIC_SUFFIXES) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 2) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  return w;
}

const VOWEL = /[aeiouy]/;

function stemEnglish(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  // Plurals and third person.
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:[sxz]|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  // Tenses and adverbs, only when a syllable is left.
  if (w.endsWith('ing') && w.length >= 6 && VOWEL.test(w.slice(0, -3)))
    w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length >= 5 && VOWEL.test(w.slice(0, -2)))
    w = undouble(w.slice(0, -2));
  else if (w.endsWith('ly') && w.length >= 6) w = w.slice(0, -2);
  // Derivational suffixes that commonly separate paraphrases ("creation" / "create").
  for (const [suffix, replacement] of DERIVATIONS) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = w.slice(0, -suffix.length) + replacement;
      break;
    }
  }
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  if (w.endsWith('y') && w.length > 3 && !VOWEL.test(w.charAt(w.length - 2))) {
    w = `${w.slice(0, -1)}i`;
  }
  return w;
}

const DERIVATIONS: ReadonlyArray<readonly [string, string]> = [
  ['ational', 'ate'],
  ['ization', 'ize'],
  ['ation', 'ate'],
  ['ition', 'ite'],
  ['iveness', 'ive'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['ness', ''],
  ['ment', ''],
  ['ity', ''],
];

function undouble(w: string): string {
  const last = w.charAt(w.length - 1);
  if (w.length >= 3 && last === w.charAt(w.length - 2) && !/[aeioulsz]/.test(last)) {
    return w.slice(0, -1);
  }
  return w;
}
