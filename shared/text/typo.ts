import { type Lang, scriptLanguage, stem, tokenize } from './analyze.ts';
import { isStopWordVariant, type Lexicon, normalizeWord } from './lexicon.ts';

/**
 * Typo tolerance for search: a typo budget by word length, a bounded Damerau–Levenshtein
 * distance, a vocabulary that suggests the nearest known words (SymSpell's symmetric-delete
 * method), and query correction for "did you mean".
 *
 * Pure and deterministic; no Node APIs, so the Worker and the tools share it.
 */

/** Words of at least this many code points may have one typo (Meilisearch's default is 5). */
export const ONE_TYPO_MIN_LENGTH = 4;
/** Words of at least this many code points may have two typos (Meilisearch's default is 9). */
export const TWO_TYPOS_MIN_LENGTH = 8;
/** The most edits a {@link Vocabulary} can look for: its index holds deletes up to this. */
export const MAX_INDEXED_EDITS = 2;

/**
 * The typo budget of a word, by its length in code points (so `كتاب` is 4, not counted in
 * UTF-16 units): 0 for 1–3, 1 for 4–7 ({@link ONE_TYPO_MIN_LENGTH}), 2 from 8
 * ({@link TWO_TYPOS_MIN_LENGTH}). Short words get none because one edit turns them into other
 * real words (`cat` → `car`, `bat`, `cut`).
 */
export function maxEdits(word: string): number {
  const length = codePoints(word).length;
  if (length >= TWO_TYPOS_MIN_LENGTH) return 2;
  if (length >= ONE_TYPO_MIN_LENGTH) return 1;
  return 0;
}

const codePoints = (s: string): number[] => Array.from(s, (ch) => ch.codePointAt(0) as number);

/**
 * The optimal-string-alignment distance between `a` and `b` in code points: insertions,
 * deletions, substitutions and transpositions of adjacent characters each cost 1 (`form` →
 * `from` is 1), with no substring edited twice. Bounded: once the distance must exceed `max`
 * the computation stops and returns `max + 1`, so checking many candidates against a small
 * budget stays cheap. `max` defaults to unbounded.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  return boundedDistance(codePoints(a), codePoints(b), max);
}

function boundedDistance(a: readonly number[], b: readonly number[], max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length === 0 || b.length === 0) return Math.max(a.length, b.length);
  // Three rows of the dynamic-programming table: two back (for transpositions), previous, current.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] as number) + cost);
      }
      current[j] = d;
      if (d < rowMin) rowMin = d;
    }
    // Every later cell is at least the smallest of this row: a transposition reaches back two
    // rows, but costs at least what the cell of this row on its diagonal does. So it is final.
    if (rowMin > max) return max + 1;
    [before, previous, current] = [previous, current, before];
  }
  const distance = previous[b.length] as number;
  return distance > max ? max + 1 : distance;
}

/** A vocabulary word close to the one looked up. */
export type Suggestion = {
  /** The word, normalised: what search matches. */
  word: string;
  /** The word as the entries most often wrote it (`البرمجة`, `Café`), for display. */
  spelling: string;
  distance: number;
  frequency: number;
};

/** Options of {@link Vocabulary.suggest}. */
export type SuggestOptions = {
  /** Edit budget, 0 to {@link MAX_INDEXED_EDITS}; default {@link maxEdits} of the word. */
  maxEdits?: number;
  /** The most suggestions returned; default 10. */
  limit?: number;
};

/**
 * Only the first code points of a word are indexed (SymSpell's prefix length): it bounds the
 * deletes per word at 1 + 7 + 21 while still finding every word within the budget, because
 * two words within k edits have prefixes within k deletes of a common string on each side.
 * The full words are compared afterwards.
 */
const PREFIX_LENGTH = 7;
/** Each index entry is 32 bits: an 11-bit tag (more bits of the key's hash) and a word id. */
const ID_BITS = 21;
const ID_MASK = 2 ** ID_BITS - 1;
const TAG_BITS = 32 - ID_BITS;
/** Entries per hash bucket aimed at: fewer buckets save memory, more save scanning. */
const ENTRIES_PER_BUCKET = 4;
/** The most words a vocabulary holds (word ids have {@link ID_BITS} bits). */
export const MAX_VOCABULARY_SIZE = ID_MASK + 1;

/**
 * The delete index: a hash table in two typed arrays. A key's hash picks a bucket by its top
 * `bucketBits` bits; the bucket's entries are `entries[offsets[b]]` up to `offsets[b + 1]`, each
 * `tag << 21 | id`, the tag being the hash's next 11 bits, so 31 bits of hash tell keys apart.
 */
type DeleteIndex = { bucketBits: number; offsets: Uint32Array; entries: Uint32Array };

/**
 * Words and their frequencies, indexed for fast nearest-word lookups (SymSpell): every word's
 * prefix ({@link PREFIX_LENGTH} code points) with up to two characters deleted is hashed, and
 * a lookup hashes the deletes of the query's prefix the same way; words sharing a hash are
 * candidates, checked with {@link editDistance}. A hash collision only adds a candidate, so it
 * costs time, never a wrong answer.
 *
 * The index is a hash table of 4-byte entries, one per distinct delete (at most 29 per word)
 * plus a bucket table: 100,000 words of nine letters on average hold about 15 MB of typed
 * arrays and 5 MB of strings, peaking near 30 MB more while being built.
 *
 * Words are normalised as the tokeniser writes them (`Café` → `cafe`, `الكِتَاب` → `الكتاب`);
 * entries that normalise to the same word add up their frequencies, and the spelling of the
 * most frequent of them (the first on a tie) is kept for display; empty words are dropped.
 */
export class Vocabulary {
  /** The number of distinct words. */
  readonly size: number;
  readonly #words: string[];
  readonly #spellings: string[];
  readonly #frequencies: Float64Array;
  readonly #index: DeleteIndex;
  /** The stems of the words (`analyze.ts`), for {@link hasStem}. */
  readonly #stems: ReadonlySet<string>;

  /**
   * Builds the vocabulary from `[word, frequency]` pairs, as counted from indexed text.
   * Throws a RangeError for a negative or non-finite frequency or more than
   * {@link MAX_VOCABULARY_SIZE} words.
   */
  constructor(entries: Iterable<readonly [word: string, frequency: number]>) {
    type Merged = { frequency: number; spelling: string; spellingFrequency: number };
    const merged = new Map<string, Merged>();
    for (const [word, frequency] of entries) {
      if (!Number.isFinite(frequency) || frequency < 0) {
        throw new RangeError(`frequency of ${JSON.stringify(word)} must be ≥ 0, got ${frequency}`);
      }
      const term = normalizeWord(word);
      if (term === '') continue;
      // Share the string when the word is written normalised, as most are.
      const spelling = word === term ? term : word.trim();
      const seen = merged.get(term);
      if (!seen) merged.set(term, { frequency, spelling, spellingFrequency: frequency });
      else {
        seen.frequency += frequency;
        if (frequency > seen.spellingFrequency) {
          seen.spelling = spelling;
          seen.spellingFrequency = frequency;
        }
      }
    }
    if (merged.size > MAX_VOCABULARY_SIZE) {
      throw new RangeError(`a vocabulary holds at most ${MAX_VOCABULARY_SIZE} words`);
    }
    this.size = merged.size;
    this.#words = [...merged.keys()];
    this.#spellings = Array.from(merged.values(), (m) => m.spelling);
    this.#frequencies = Float64Array.from(merged.values(), (m) => m.frequency);
    this.#index = buildIndex(this.#words);
    this.#stems = new Set(this.#words.map((w) => stem(w)));
  }

  /** Whether `word` (normalised first) is in the vocabulary. */
  has(word: string): boolean {
    return this.#find(normalizeWord(word)) !== undefined;
  }

  /**
   * Whether a word of the vocabulary has the stem of `word` (normalised first): an inflected form
   * of a corpus word (`libraries` when the corpus says `library`), which search finds by its
   * stem anyway.
   */
  hasStem(word: string): boolean {
    const term = normalizeWord(word);
    return term !== '' && this.#stems.has(stem(term));
  }

  /** How often `word` (normalised first) occurs; 0 when it is not in the vocabulary. */
  frequency(word: string): number {
    const id = this.#find(normalizeWord(word));
    return id === undefined ? 0 : (this.#frequencies[id] as number);
  }

  /**
   * The vocabulary words within the edit budget of `word` (normalised first), nearest first,
   * then most frequent, then in code-unit order so results are deterministic. A word in the
   * vocabulary comes first, at distance 0. At most `limit` (default 10) are returned. Throws a
   * RangeError for a budget outside 0–{@link MAX_INDEXED_EDITS} or a negative `limit`.
   */
  suggest(word: string, options: SuggestOptions = {}): Suggestion[] {
    const query = normalizeWord(word);
    const budget = options.maxEdits ?? maxEdits(query);
    if (!Number.isInteger(budget) || budget < 0 || budget > MAX_INDEXED_EDITS) {
      throw new RangeError(`maxEdits must be an integer from 0 to ${MAX_INDEXED_EDITS}`);
    }
    const limit = options.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError('limit must be an integer of at least 0');
    }
    if (query === '') return [];
    const target = codePoints(query);
    const seen = new Set<number>();
    const found: Suggestion[] = [];
    for (const hash of deleteHashes(target.slice(0, PREFIX_LENGTH), budget)) {
      this.#forEachId(hash, (id) => {
        if (seen.has(id)) return;
        seen.add(id);
        const candidate = this.#words[id] as string;
        const distance = boundedDistance(target, codePoints(candidate), budget);
        if (distance > budget) return;
        found.push({
          word: candidate,
          spelling: this.#spellings[id] as string,
          distance,
          frequency: this.#frequencies[id] as number,
        });
      });
    }
    found.sort(compareSuggestions);
    return found.slice(0, limit);
  }

  #find(word: string): number | undefined {
    if (word === '') return undefined;
    const prefix = codePoints(word).slice(0, PREFIX_LENGTH);
    let result: number | undefined;
    this.#forEachId(hashSkipping(prefix, -1, -1), (id) => {
      if (this.#words[id] === word) result = id;
    });
    return result;
  }

  /** Calls `visit` with each word id filed under `hash` (and, rarely, a colliding key). */
  #forEachId(hash: number, visit: (id: number) => void) {
    const { bucketBits, offsets, entries } = this.#index;
    const bucket = hash >>> (32 - bucketBits);
    const tag = (hash >>> (32 - bucketBits - TAG_BITS)) & (2 ** TAG_BITS - 1);
    const end = offsets[bucket + 1] as number;
    for (let i = offsets[bucket] as number; i < end; i++) {
      const entry = entries[i] as number;
      if (entry >>> ID_BITS === tag) visit(entry & ID_MASK);
    }
  }
}

function compareSuggestions(a: Suggestion, b: Suggestion): number {
  if (a.distance !== b.distance) return a.distance - b.distance;
  if (a.frequency !== b.frequency) return b.frequency - a.frequency;
  return a.word < b.word ? -1 : a.word > b.word ? 1 : 0;
}

function buildIndex(words: readonly string[]): DeleteIndex {
  let capacity = 0;
  for (const word of words) capacity += deleteCount(Math.min(word.length, PREFIX_LENGTH));
  // The hashes of word `id` are hashes[firsts[id]] up to firsts[id + 1].
  const hashes = new Uint32Array(capacity);
  const firsts = new Uint32Array(words.length + 1);
  let size = 0;
  for (let id = 0; id < words.length; id++) {
    const prefix = codePoints(words[id] as string).slice(0, PREFIX_LENGTH);
    for (const hash of deleteHashes(prefix, MAX_INDEXED_EDITS)) hashes[size++] = hash;
    firsts[id + 1] = size;
  }
  // Between 2^4 and 2^21 buckets: the tag then still fits beside the id in 32 bits.
  const wanted = Math.ceil(Math.log2(Math.max(size / ENTRIES_PER_BUCKET, 1)));
  const bucketBits = Math.min(Math.max(wanted, 4), 32 - TAG_BITS);
  const shift = 32 - bucketBits;
  const tagShift = shift - TAG_BITS;
  // Counting sort by bucket: count, prefix sums, then place each entry.
  const offsets = new Uint32Array(2 ** bucketBits + 1);
  for (let i = 0; i < size; i++) {
    const slot = ((hashes[i] as number) >>> shift) + 1;
    offsets[slot] = (offsets[slot] as number) + 1;
  }
  for (let b = 1; b < offsets.length; b++)
    offsets[b] = (offsets[b] as number) + (offsets[b - 1] as number);
  const next = offsets.slice(0, -1);
  const entries = new Uint32Array(size);
  for (let id = 0; id < words.length; id++) {
    for (let i = firsts[id] as number; i < (firsts[id + 1] as number); i++) {
      const hash = hashes[i] as number;
      const tag = (hash >>> tagShift) & (2 ** TAG_BITS - 1);
      const bucket = hash >>> shift;
      const at = next[bucket] as number;
      next[bucket] = at + 1;
      entries[at] = ((tag << ID_BITS) | id) >>> 0;
    }
  }
  return { bucketBits, offsets, entries };
}

/** The most distinct deletes (of up to two characters, the word itself included) of n units. */
const deleteCount = (n: number) => 1 + n + (n * (n - 1)) / 2;

/**
 * The hashes of `word` and of every string made by deleting up to `depth` (at most 2) of its
 * code points, without duplicates. Two different deletes of one word sharing a hash lose
 * nothing: looking either up finds the word.
 */
function deleteHashes(word: readonly number[], depth: number): Set<number> {
  const hashes = new Set<number>([hashSkipping(word, -1, -1)]);
  for (let i = 0; depth >= 1 && i < word.length; i++) {
    hashes.add(hashSkipping(word, i, -1));
    for (let j = i + 1; depth >= 2 && j < word.length; j++) hashes.add(hashSkipping(word, i, j));
  }
  return hashes;
}

/**
 * FNV-1a over the code points of `word` except those at `skipA` and `skipB`, with
 * MurmurHash3's finaliser (FNV alone mixes the low bits of short inputs poorly), unsigned.
 */
function hashSkipping(word: readonly number[], skipA: number, skipB: number): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < word.length; k++) {
    if (k !== skipA && k !== skipB) h = Math.imul(h ^ (word[k] as number), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One word of a query replaced by a vocabulary word. */
export type Correction = { from: string; to: string; distance: number };

/** The result of {@link correctQuery}. */
export type QueryCorrection = {
  /** The query with each corrected word replaced in place; the query itself when unchanged. */
  corrected: string;
  changed: boolean;
  corrections: Correction[];
};

/** Options of {@link correctQuery}. */
export type CorrectOptions = {
  /** The lexicon of a language (by the word's script): a word it knows is never corrected. */
  lexicon?: (lang: Lang) => Lexicon | undefined;
};

/**
 * How many times more documents a correction must appear in than the nearest candidate with
 * another stem: below that, the typo has two readings and the query is left as typed.
 */
export const CORRECTION_DOMINANCE = 2;

/** Candidates weighed per word: the best and its rivals at the same distance. */
const CANDIDATES = 8;

/**
 * Corrects the typos of a search query word by word, for "did you mean", on evidence only. A
 * word is kept as typed when
 *
 * - it contains a digit or is shorter than {@link ONE_TYPO_MIN_LENGTH};
 * - it is a stop word, or in Arabic a stop word with clitics (`وكيف`, `فهل`);
 * - the corpus knows it: the vocabulary holds it, or a word with its stem (an inflected form
 *   of a corpus word, which search finds by its stem);
 * - its language knows it (`options.lexicon`): a correct word the corpus merely lacks (a name,
 *   a question word, another inflection) is not a typo, and "correcting" it searches for a
 *   stray word instead;
 *
 * otherwise it becomes the best suggestion within its {@link maxEdits} budget (nearest, then
 * most frequent) that is not a stop word, provided it appears in {@link CORRECTION_DOMINANCE}
 * times as many documents as any candidate as near with another stem. In `corrected`, each
 * corrected word is replaced in place by the suggestion's display spelling, so the rest of the
 * query, punctuation and spacing included, reads as typed; `corrections` name the normalised
 * words.
 */
export function correctQuery(
  text: string,
  vocabulary: Vocabulary,
  options: CorrectOptions = {},
): QueryCorrection {
  const corrections: Correction[] = [];
  let corrected = '';
  let last = 0;
  for (const token of tokenize(text)) {
    const { term } = token;
    if (/\p{N}/u.test(term) || maxEdits(term) === 0) continue;
    if (isStopWordVariant(term)) continue;
    if (vocabulary.has(term) || vocabulary.hasStem(term)) continue;
    const language = scriptLanguage(term);
    if (language && options.lexicon?.(language)?.knows(term)) continue;
    const best = dominant(vocabulary.suggest(term, { limit: CANDIDATES }));
    if (!best) continue;
    corrections.push({ from: term, to: best.word, distance: best.distance });
    corrected += text.slice(last, token.start) + best.spelling;
    last = token.end;
  }
  if (corrections.length === 0) return { corrected: text, changed: false, corrections };
  return { corrected: corrected + text.slice(last), changed: true, corrections };
}

/**
 * The suggestion a correction may use: the first (nearest, most frequent) that is not a stop
 * word (one would add nothing to the search and misread the query), when it is
 * {@link CORRECTION_DOMINANCE} times as frequent as any other at its distance with another stem.
 */
function dominant(suggestions: Suggestion[]): Suggestion | undefined {
  const candidates = suggestions.filter((s) => !isStopWordVariant(s.word));
  const best = candidates[0];
  if (!best) return undefined;
  const rival = candidates.find(
    (s) => s !== best && s.distance === best.distance && stem(s.word) !== stem(best.word),
  );
  if (rival && best.frequency < CORRECTION_DOMINANCE * rival.frequency) return undefined;
  return best;
}
