import type { Services } from '../services.ts';
import { detectLanguage, type Lang, normalize, tokenize } from '../text/analyze.ts';
import { languageLexicon } from '../text/lexicons/index.ts';
import { classifyQuery, type QueryClass } from '../text/query-class.ts';
import { type Correction, correctQuery, type Vocabulary } from '../text/typo.ts';
import { expandQuery, loadSynonyms } from './synonyms.ts';
import { loadVocabulary } from './vocabulary.ts';

/** A search query as Sift understood it, and the texts its retrievers search with. */
export type UnderstoodQuery = {
  /** As typed, trimmed. */
  text: string;
  normalized: string;
  /** The locale's language, else the query's by script; undefined for neither. */
  language: Lang | undefined;
  classification: QueryClass;
  /**
   * The query with its typos corrected from the organisation's vocabulary (only words neither
   * the corpus nor the language knows: `correctQuery`); null: none found.
   */
  didYouMean: string | null;
  corrections: Correction[];
  /** Terms and phrases the organisation's synonyms add. */
  synonyms: string[];
  /**
   * What the index is asked with: the query, then each correction and synonym as further
   * terms, so a typo still finds the word and a synonym its partners (BM25 and the embedding
   * treat extra terms as alternatives, not requirements).
   */
  retrievalText: string;
  /**
   * The same for Postgres's `websearch_to_tsquery`, which requires every unquoted term: the
   * query as typed, OR each corrected query and quoted synonym.
   */
  fallbackText: string;
};

const quoted = (phrase: string) => `"${phrase.replaceAll('"', ' ')}"`;

/**
 * Understands `text` for a search in `locale` (or any): normalisation, language, the query's
 * class, typo corrections (words unknown to the organisation's vocabulary and to the language's
 * lexicon, within the edit budget of their length) and synonym expansion (the organisation's
 * sets for the locale, or the detected language). Neither correction nor synonyms are
 * essential: when their sources are unreachable the query goes as typed (logged).
 */
export async function understand(
  services: Pick<Services, 'db' | 'kv' | 'redis' | 'guard' | 'logger' | 'waitUntil'>,
  orgId: string,
  text: string,
  locale: string | undefined,
  options: { vocabulary?: Vocabulary | undefined } = {},
): Promise<UnderstoodQuery> {
  const trimmed = text.trim();
  const normalized = normalize(trimmed);
  const declared = locale?.split('-', 1)[0]?.toLowerCase();
  const language = declared === 'ar' || declared === 'en' ? declared : detectLanguage(trimmed);
  const synonymLocale = locale ?? language;
  const [vocabulary, synonymSet] = await Promise.all([
    'vocabulary' in options ? options.vocabulary : loadVocabulary(services, orgId),
    synonymLocale
      ? loadSynonyms(services, orgId, synonymLocale).catch((error: unknown) => {
          services.logger.warn('search synonyms unavailable', { orgId, error });
          return undefined;
        })
      : undefined,
  ]);
  const correction = vocabulary
    ? correctQuery(trimmed, vocabulary, { lexicon: languageLexicon })
    : undefined;
  const corrections = correction?.corrections ?? [];
  const words = tokenize(trimmed).map((t) => t.term);
  const expansion = synonymSet ? expandQuery(words, synonymSet) : undefined;
  // Synonyms of the corrected words too: `runnig shoes` → `running shoes` → `sneakers`.
  const correctedExpansion =
    synonymSet && correction?.changed
      ? expandQuery(
          tokenize(correction.corrected).map((t) => t.term),
          synonymSet,
        )
      : undefined;
  const synonyms = [
    ...new Set([...(expansion?.orTerms ?? []), ...(correctedExpansion?.orTerms ?? [])]),
  ];
  const extra = [...corrections.map((c) => c.to), ...synonyms];
  return {
    text: trimmed,
    normalized,
    language,
    classification: classifyQuery(trimmed, language),
    didYouMean: correction?.changed ? correction.corrected : null,
    corrections,
    synonyms,
    retrievalText: [trimmed, ...extra].join(' '),
    fallbackText: [
      trimmed,
      ...(correction?.changed ? [correction.corrected] : []),
      ...synonyms.map(quoted),
    ].join(' or '),
  };
}
