import { detectLanguage, type Lang } from '../../text/analyze.ts';
import { type ExtractedActionItem, extractActionItems } from './actions.ts';
import { classifyDocument, type DocumentType, suggestCategory } from './classify.ts';
import { referenceDay } from './dates.ts';
import { extractKeyphrases } from './keyphrases.ts';
import { type ExtractedRisk, extractRisks } from './risks.ts';
import { type ExtractiveSummary, summarise } from './summary.ts';
import { splitSentences } from './text.ts';

export type { ExtractedActionItem } from './actions.ts';
export { DOCUMENT_TYPES, type DocumentType } from './classify.ts';
export type { ExtractedRisk, Severity } from './risks.ts';
export type { Span } from './text.ts';

/** The version of the engine's rules, recorded with its results (as a prompt version is). */
export const EXTRACTIVE_VERSION = 'extractive-v1';
/** The model name results of the engine carry. */
export const EXTRACTIVE_MODEL = 'sift/extractive';

export type ExtractOptions = {
  /** The document's language when known; detected from its letters otherwise. */
  locale?: Lang;
  /** Category names to choose from (a name may carry a description after `:`). */
  categories?: readonly string[];
  /** What relative dates are counted from (`by Friday`); default today (UTC). */
  referenceDate?: Date | string;
  /** Tags returned at most. Default 8. */
  maxTags?: number;
};

export type Extraction = {
  language: Lang;
  summaries: Record<'short' | 'medium' | 'detailed', ExtractiveSummary>;
  action_items: ExtractedActionItem[];
  risks: ExtractedRisk[];
  tags: string[];
  category: string | null;
  document_type: DocumentType;
};

/**
 * Sift's extractive engine: summaries, action items, risks, tags, category and document type of
 * an Arabic or English text, by algorithms rather than a model (TextRank, bilingual cue patterns,
 * date resolution, RAKE; see each module). Pure and deterministic: the same text and options give
 * the same result. Every span is in the input's UTF-16 units. It answers offline (the local
 * cloud serves it as a Workers AI model) and in production when the model cannot.
 */
export function extract(text: string, options: ExtractOptions = {}): Extraction {
  const language = options.locale ?? detectLanguage(text) ?? 'en';
  const sentences = splitSentences(text, language);
  const reference = referenceDay(options.referenceDate);
  return {
    language,
    summaries: summarise(sentences),
    action_items: extractActionItems(sentences, reference),
    risks: extractRisks(sentences),
    tags: extractKeyphrases(text, language, options.maxTags ?? 8).map((k) => k.phrase),
    category: suggestCategory(text, options.categories ?? [], language)?.name ?? null,
    document_type: classifyDocument(text),
  };
}
