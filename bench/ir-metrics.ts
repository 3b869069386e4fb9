/**
 * Information-retrieval evaluation for the relevance benchmark: the ranking metrics (binary
 * relevance, as test collections such as CISI judge it) and the typo perturbation of queries.
 * Kept apart from the benchmark so that a unit test can check them on hand-computed cases.
 */

/** The ranking with repeats removed (first occurrence kept): a repeat must not count twice. */
function distinct<T>(ranking: readonly T[], depth: number): T[] {
  const seen = new Set<T>();
  const out: T[] = [];
  for (const id of ranking) {
    if (out.length === depth) break;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out;
}

function checkArguments(relevant: ReadonlySet<unknown>, depth: number): void {
  if (relevant.size === 0) throw new RangeError('a query needs at least one relevant document');
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`depth must be a positive integer, got ${depth}`);
  }
}

/**
 * NDCG at `depth` (default 10) of `ranking` (best first) against the `relevant` documents:
 * DCG with the standard log2 discount (gain 1 at rank i adds 1 / log2(i + 1)), divided by the
 * DCG of the ideal ranking (every relevant document first, at most `depth` of them). In [0, 1].
 * Throws a RangeError when nothing is relevant (the metric is undefined then).
 */
export function ndcgAt<T>(ranking: readonly T[], relevant: ReadonlySet<T>, depth = 10): number {
  checkArguments(relevant, depth);
  let dcg = 0;
  distinct(ranking, depth).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(relevant.size, depth); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

/**
 * Average precision at `depth` (default 100): the precision at the rank of each relevant
 * document found in the top `depth`, summed and divided by the number of relevant documents
 * (so a relevant document not retrieved counts as precision 0). Its mean over queries is
 * MAP@depth. Throws a RangeError when nothing is relevant.
 */
export function averagePrecisionAt<T>(
  ranking: readonly T[],
  relevant: ReadonlySet<T>,
  depth = 100,
): number {
  checkArguments(relevant, depth);
  let found = 0;
  let sum = 0;
  distinct(ranking, depth).forEach((id, i) => {
    if (!relevant.has(id)) return;
    found++;
    sum += found / (i + 1);
  });
  return sum / relevant.size;
}

/**
 * Recall at `depth` (default 100): the share of the relevant documents found in the top
 * `depth`. Throws a RangeError when nothing is relevant.
 */
export function recallAt<T>(ranking: readonly T[], relevant: ReadonlySet<T>, depth = 100): number {
  checkArguments(relevant, depth);
  return distinct(ranking, depth).filter((id) => relevant.has(id)).length / relevant.size;
}

/** The arithmetic mean; NaN for no values. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** The letters typos are made of, and what counts as a word. */
export type Alphabet = { letters: string; word: RegExp };

/** Latin letters a–z; words are runs of A–Z. */
export const LATIN: Alphabet = { letters: 'abcdefghijklmnopqrstuvwxyz', word: /[A-Za-z]+/g };

/** The 28 letters of the Arabic alphabet with hamza, alef and taa marbuta forms; Arabic words. */
export const ARABIC: Alphabet = {
  letters: 'ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي',
  word: /[\u0621-\u064a]+/g,
};

/** The edits {@link misspell} makes, each equally likely. */
export const TYPO_EDITS = ['insert', 'delete', 'substitute', 'transpose'] as const;
export type TypoEdit = (typeof TYPO_EDITS)[number];

/** A random integer in [0, n). */
const below = (random: () => number, n: number) => Math.floor(random() * n);

function randomLetter(random: () => number, letters: string, not?: string): string {
  const pool = not === undefined ? letters : letters.replace(not.toLowerCase(), '');
  return pool[below(random, pool.length)]!;
}

/**
 * `word` with one `edit` at a random place, so that the result always differs from `word`:
 * insert a letter (of `alphabet`, a–z by default) anywhere, delete one letter, substitute one
 * letter with another, or transpose two adjacent letters that differ (a word whose letters are
 * all the same, where no transposition changes anything, gets a substitution instead). `word`
 * must have at least two letters.
 */
export function misspell(
  word: string,
  edit: TypoEdit,
  random: () => number,
  alphabet: Alphabet = LATIN,
): string {
  if (word.length < 2) throw new RangeError(`cannot misspell "${word}": too short`);
  switch (edit) {
    case 'insert': {
      const at = below(random, word.length + 1);
      return word.slice(0, at) + randomLetter(random, alphabet.letters) + word.slice(at);
    }
    case 'delete': {
      const at = below(random, word.length);
      return word.slice(0, at) + word.slice(at + 1);
    }
    case 'substitute': {
      const at = below(random, word.length);
      return (
        word.slice(0, at) + randomLetter(random, alphabet.letters, word[at]) + word.slice(at + 1)
      );
    }
    case 'transpose': {
      const places: number[] = [];
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i]!.toLowerCase() !== word[i + 1]!.toLowerCase()) places.push(i);
      }
      if (places.length === 0) return misspell(word, 'substitute', random, alphabet);
      const at = places[below(random, places.length)]!;
      return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
    }
  }
}

/** A query with typos, and which words were changed into what. */
export type Typos = { text: string; changes: { from: string; to: string }[] };

/**
 * `text` with `rate` (default 0.3) of its words misspelt by one random edit each (see
 * {@link misspell}; the edit kind is drawn uniformly). Words are runs of the alphabet's letters
 * (A–Z by default); only those of two letters or more are eligible. The number changed is `rate` × the eligible words,
 * rounded, and at least one when there is any; which ones is drawn without repeats. Everything
 * else (punctuation, spacing) is kept. The same `random` sequence gives the same typos.
 */
export function addTypos(
  text: string,
  random: () => number,
  rate = 0.3,
  alphabet: Alphabet = LATIN,
): Typos {
  const words = [...text.matchAll(alphabet.word)].filter((m) => m[0].length >= 2);
  if (words.length === 0) return { text, changes: [] };
  const count = Math.min(words.length, Math.max(1, Math.round(rate * words.length)));
  // A partial Fisher–Yates shuffle picks `count` distinct words.
  const order = words.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + below(random, order.length - i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const chosen = order.slice(0, count).sort((a, b) => a - b);
  const changes: Typos['changes'] = [];
  let out = '';
  let last = 0;
  for (const index of chosen) {
    const match = words[index]!;
    const edit = TYPO_EDITS[below(random, TYPO_EDITS.length)]!;
    const to = misspell(match[0], edit, random, alphabet);
    changes.push({ from: match[0], to });
    out += text.slice(last, match.index) + to;
    last = match.index + match[0].length;
  }
  return { text: out + text.slice(last), changes };
}
