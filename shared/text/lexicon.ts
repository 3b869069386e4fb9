import {
  ARABIC_STOP_WORDS,
  isStopWord,
  type Lang,
  scriptLanguage,
  stem,
  tokenize,
} from './analyze.ts';

/**
 * What a language knows, for typo correction: a word is only corrected when neither the
 * organisation's corpus nor its language knows it (`typo.ts`). A lexicon holds the stems
 * (`analyze.ts`: Porter2 for English, light10 for Arabic) of a word list, so one entry covers a
 * word's inflected forms (`libraries`, `library's` → `librari`; `والمكتبات` → `مكتب`) and the
 * list stays compact.
 *
 * Pure and deterministic; no Node APIs, so the Worker and the tools share it.
 */
export class Lexicon {
  /** The number of distinct stems. */
  readonly size: number;
  readonly #stems: ReadonlySet<string>;

  /** A lexicon of `words`, each normalised and stemmed as a query word would be. */
  static fromWords(words: Iterable<string>): Lexicon {
    const stems = new Set<string>();
    for (const word of words) {
      const term = normalizeWord(word);
      if (term !== '') stems.add(stem(term));
    }
    return new Lexicon(stems);
  }

  /** A lexicon of stems as {@link fromWords} computes them (a generated list, already stemmed). */
  constructor(stems: Iterable<string>) {
    this.#stems = stems instanceof Set ? stems : new Set(stems);
    this.size = this.#stems.size;
  }

  /**
   * Whether the language knows `term` (a normalised word, as the tokeniser writes it): its stem,
   * or for Arabic the stem of the word without a clitic light10 leaves on (`بكتاب`, `لمدينتنا`,
   * `سيكتبون`, `كتبهم`, `دائما`: the prepositions ب ل ك, the future س, pronoun suffixes and the
   * accusative alef), with a final ت read as the taa marbuta it stands for before a suffix, is
   * one of the lexicon's.
   */
  knows(term: string): boolean {
    if (term === '') return false;
    if (scriptLanguage(term) !== 'ar') return this.#stems.has(stem(term));
    return [term, ...arabicVariants(term)].some((variant) => {
      const stemmed = stem(variant);
      if (this.#stems.has(stemmed)) return true;
      // Before a suffix, taa marbuta is written ت: `دراجتي` stems to `دراجت`, for `دراجه`.
      return (
        stemmed.endsWith('ت') &&
        stemmed.length > MIN_ARABIC_LETTERS &&
        this.#stems.has(stem(`${stemmed.slice(0, -1)}ه`))
      );
    });
  }
}

/** Arabic proclitics light10 keeps: the prepositions ب ل ك, فـ, and the future سـ. */
const ARABIC_PROCLITICS = 'ب ل ك ف س فب فل وب ول وك وس فس'.split(' ');
/**
 * Endings light10 keeps (it strips ها ه ي and the plural endings): pronoun suffixes, verb
 * endings, and the alef of the indefinite accusative (`تطبيقا`, `دائما`).
 */
const ARABIC_ENCLITICS = 'هم هن هما كم كن نا ني تم تن وا ك ت ا'.split(' ');
/** Letters a word keeps after a clitic is taken off: Arabic roots have three. */
const MIN_ARABIC_LETTERS = 3;

/**
 * A normalised Arabic word without one proclitic, one enclitic, or both: the forms whose stems
 * {@link Lexicon.knows} also tries.
 */
export function arabicVariants(term: string): string[] {
  const heads = [
    term,
    ...ARABIC_PROCLITICS.filter(
      (p) => term.startsWith(p) && term.length - p.length >= MIN_ARABIC_LETTERS,
    ).map((p) => term.slice(p.length)),
  ];
  const out: string[] = [];
  for (const head of heads) {
    if (head !== term) out.push(head);
    for (const suffix of ARABIC_ENCLITICS) {
      if (head.endsWith(suffix) && head.length - suffix.length >= MIN_ARABIC_LETTERS) {
        out.push(head.slice(0, -suffix.length));
      }
    }
  }
  return out;
}

/**
 * Whether `term` (a normalised word) is a stop word of its script's language or, in Arabic, a
 * stop word with clitics attached (`وكيف`, `فهل`, `ولماذا`, `بهذا`, `لهذه`, `وعليها`): such
 * words are never corrected, since every corpus is full of words one edit away from them.
 */
export function isStopWordVariant(term: string, lang?: Lang): boolean {
  const language = lang ?? scriptLanguage(term);
  if (isStopWord(term, language)) return true;
  if (language !== 'ar') return false;
  for (const p of ['و', 'ف', 'ب', 'ل', 'ك', 'وب', 'ول', 'فب', 'فل', 'وك', 'ا']) {
    if (term.startsWith(p) && ARABIC_STOP_WORDS.has(term.slice(p.length))) return true;
  }
  return false;
}

/** A word as the tokeniser would write it: normalised, apostrophes dropped, no spaces. */
export function normalizeWord(word: string): string {
  return tokenize(word)
    .map((token) => token.term)
    .join('');
}
