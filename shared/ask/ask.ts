import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Answerer, AnswerFallbackReason, AnswerResult } from '../ai/answer.ts';
import { type Principal, principalId } from '../auth/permissions.ts';
import { documents } from '../db/schema/documents.ts';
import { seesPrivateDocuments, visibleDocuments } from '../documents/access.ts';
import { type FoundPassage, searchPassages } from '../documents/search.ts';
import { documentsGeneration } from '../documents/vectors.ts';
import { recordAiUsage, withinBudget } from '../enrichment/usage.ts';
import type { DegradedReason } from '../search/engine.ts';
import { queryVector } from '../search/vector-search.ts';
import type { Services } from '../services.ts';
import { analyze } from '../text/analyze.ts';
import {
  type AnswerScope,
  type CachedAnswer,
  cacheKeys,
  readCachedAnswer,
  writeCachedAnswer,
} from './cache.ts';

/** Passages an answer is drawn from by default, and at most. */
export const DEFAULT_TOP_K = 5;
export const MAX_TOP_K = 20;

/**
 * The relevance threshold: a passage may support an answer when it holds at least this share of
 * the question's terms (stems, stop words aside), or when its embedding is at least
 * {@link MIN_SIMILARITY} similar to the question's. Below both, it is not evidence, and when no
 * passage passes, the answer is "unknown" rather than a guess.
 */
export const MIN_TERM_COVERAGE = 0.5;

/**
 * The dense side of the threshold (cosine). Calibrated on the test documents with the local
 * embedder: passages that answer a question score 0.30–0.42 against it, those of unrelated
 * documents at most 0.16 (most below 0.08). Production models place unrelated text higher (bge-m3
 * about 0.3–0.45): recalibrate with the model; the term side holds whatever the model.
 */
export const MIN_SIMILARITY = 0.25;

export type AskInput = {
  question: string;
  documentIds?: string[] | undefined;
  categoryId?: string | undefined;
  locale?: string | undefined;
  topK?: number | undefined;
};

export type AskCitation = {
  /** The citation's number, from 1, in the order the answer gives them. */
  number: number;
  document_id: string;
  title: string;
  page_start: number | null;
  page_end: number | null;
  chunk_index: number;
  heading_path: string[];
  /** The words cited: a sentence of the passage (extractive) or the whole passage (model). */
  passage: string;
  /** Where `passage` is in the document's extracted text (UTF-16 offsets). */
  char_start: number;
  char_end: number;
};

/** What an answer is, as cached: the answer without how this request got it. */
export type StoredAnswer = {
  question: string;
  status: 'answered' | 'no_answer';
  answer: string | null;
  explanation: string | null;
  citations: AskCitation[];
  engine: 'model' | 'extractive';
  model: string;
  fallback_reason: AnswerFallbackReason | null;
  tokens: { input: number; output: number };
  estimated_cost_usd: number;
};

export type AskResult = StoredAnswer & {
  cached: 'none' | 'exact' | 'semantic';
  /** For a semantic hit: the question answered first, and how similar this one is. */
  cached_question: string | null;
  cached_similarity: number | null;
  degraded: boolean;
  degraded_reasons: DegradedReason[];
  timing: { cache_ms: number; retrieval_ms: number; answer_ms: number; total_ms: number };
};

export type AskHooks = {
  /**
   * Called once the passages are known, before the answer is written: on a miss, every passage
   * the answer may draw on (whole chunks), on a cache hit the answer's own citations.
   */
  onRetrieval?: (citations: AskCitation[]) => void | Promise<void>;
};

const NO_PASSAGES =
  'No passage of the documents you can see is relevant enough to the question ' +
  '(none holds half of its terms or is close to it in meaning), so nothing is answered ' +
  'rather than a guess.';
const MODEL_FOUND_NOTHING =
  'The passages found were read, but they do not answer the question; nothing is invented.';

/** Whether a passage is evidence for the question (see {@link MIN_TERM_COVERAGE}). */
export function relevant(terms: ReadonlySet<string>, passage: FoundPassage): boolean {
  if (passage.similarity !== null && passage.similarity >= MIN_SIMILARITY) return true;
  if (terms.size === 0) return false;
  const own = new Set(analyze(passage.text, passage.language === 'ar' ? 'ar' : undefined));
  let shared = 0;
  for (const t of terms) if (own.has(t)) shared++;
  return shared / terms.size >= MIN_TERM_COVERAGE;
}

/**
 * Who is asking, as far as visibility goes: `all` for those who see every document; for the
 * others `organization` while the organisation has no private document ready (everyone sees the
 * same), else their own id (a private document's passages must never reach another member, even
 * through a cached answer).
 */
async function visibilityScope(services: Services, principal: Principal): Promise<string> {
  if (seesPrivateDocuments(principal)) return 'all';
  const [row] = await services.guard('postgres', () =>
    services.db
      .select({ one: sql<number>`1` })
      .from(documents)
      .where(
        and(
          eq(documents.orgId, principal.orgId),
          eq(documents.visibility, 'private'),
          eq(documents.status, 'ready'),
        ),
      )
      .limit(1),
  );
  return row ? `own:${principalId(principal)}` : 'organization';
}

/**
 * Whether every document a cached answer cites still exists, is ready and is visible to the
 * principal: Postgres decides, even for a cached answer (a document made private or deleted
 * without the generation moving must not be served from the cache).
 */
async function stillVisible(
  services: Services,
  principal: Principal,
  answer: StoredAnswer,
): Promise<boolean> {
  const ids = [...new Set(answer.citations.map((c) => c.document_id))];
  if (ids.length === 0) return true;
  const visible = visibleDocuments(principal);
  const rows = await services.guard('postgres', () =>
    services.db
      .select({ id: documents.id })
      .from(documents)
      .where(
        and(
          eq(documents.orgId, principal.orgId),
          eq(documents.status, 'ready'),
          inArray(documents.id, ids),
          ...(visible ? [visible] : []),
        ),
      ),
  );
  return rows.length === ids.length;
}

function citationsOf(passages: readonly FoundPassage[], result: AnswerResult): AskCitation[] {
  return result.citations.map((c, i) => {
    const p = passages[c.passage]!;
    return {
      number: i + 1,
      document_id: p.documentId,
      title: p.title,
      page_start: p.pageStart,
      page_end: p.pageEnd,
      chunk_index: p.chunkIndex,
      heading_path: p.headingPath,
      passage: p.text.slice(c.start, c.end),
      char_start: p.charStart + c.start,
      char_end: p.charStart + c.end,
    };
  });
}

/**
 * Answers a question from the documents the principal may see:
 *
 * 1. the scope (filters, passages, visibility: {@link visibilityScope}) and the organisation's
 *    documents generation key the cache; an exact hit, else a semantic one (the question's
 *    embedding against the scope's answered questions), is served when every document it cites
 *    is still visible (`cached: 'exact' | 'semantic'`);
 * 2. else the passages: hybrid retrieval (`searchPassages`: Postgres full-text, sparse and dense,
 *    fused, every hit checked against Postgres), limited to the documents, category and locale
 *    given, of which the `topK` best that pass the relevance threshold ({@link relevant}) are
 *    kept; none: `no_answer` with an explanation;
 * 3. the answerer writes the answer from them (a model, or the extractive engine), with the
 *    budget asked first (`withinBudget`);
 * 4. the answer is cached (unless retrieval was degraded) and its usage recorded (kind `ask`,
 *    with the cache outcome).
 *
 * Throws when retrieval cannot run (Postgres down): the caller answers 503.
 */
export async function askDocuments(
  services: Services,
  principal: Principal,
  input: AskInput,
  answerer: (budget: (estimate: { usd: number }) => Promise<boolean>) => Answerer,
  hooks: AskHooks = {},
): Promise<AskResult> {
  const started = performance.now();
  const orgId = principal.orgId;
  const topK = input.topK ?? DEFAULT_TOP_K;
  const [generation, visibility] = await Promise.all([
    documentsGeneration(services, orgId).catch((error: unknown) => {
      services.logger.warn('documents generation unreadable; answering uncached', { error });
      return null;
    }),
    visibilityScope(services, principal),
  ]);
  const scope: AnswerScope = {
    visibility,
    documentIds: input.documentIds ?? [],
    categoryId: input.categoryId ?? null,
    locale: input.locale ?? null,
    topK,
  };
  const keys = generation === null ? null : await cacheKeys(orgId, generation, scope);
  // The question's embedding serves the semantic cache and the dense side alike (remembered).
  const vector = await queryVector(services, input.question).catch((error: unknown) => {
    services.logger.warn('question embedding failed; no semantic cache', { error });
    return null;
  });
  let cached: CachedAnswer<StoredAnswer> | undefined;
  if (keys) {
    cached = await readCachedAnswer<StoredAnswer>(services, keys, input.question, vector);
    if (cached && !(await stillVisible(services, principal, cached.value))) cached = undefined;
  }
  const cacheMs = performance.now() - started;
  if (cached) {
    await hooks.onRetrieval?.(cached.value.citations);
    const result: AskResult = {
      ...cached.value,
      question: input.question,
      // What this request spent: nothing (the first answer's cost was counted when it was made).
      tokens: { input: 0, output: 0 },
      estimated_cost_usd: 0,
      cached: cached.kind,
      cached_question: cached.kind === 'semantic' ? cached.question : null,
      cached_similarity: cached.kind === 'semantic' ? round(cached.similarity) : null,
      degraded: false,
      degraded_reasons: [],
      timing: timing(started, cacheMs, 0, 0),
    };
    services.waitUntil(
      recordAiUsage(services, {
        orgId,
        kind: 'ask',
        model: cached.value.model,
        engine: cached.value.engine,
        tokens: { input: 0, output: 0 },
        costUsd: 0,
        cache: cached.kind,
      }),
    );
    return result;
  }

  const retrievalStarted = performance.now();
  const found = await searchPassages(services, {
    orgId,
    principal,
    text: input.question,
    mode: 'hybrid',
    ...(input.locale ? { locale: input.locale } : {}),
    ...(input.categoryId ? { categories: [input.categoryId] } : {}),
    ...(input.documentIds?.length ? { documentIds: input.documentIds } : {}),
    candidates: Math.max(50, topK * 4),
  });
  const terms = new Set(analyze(input.question));
  const passages = found.passages.filter((p) => relevant(terms, p)).slice(0, topK);
  const retrievalMs = performance.now() - retrievalStarted;

  await hooks.onRetrieval?.(
    passages.map((p, i) => ({
      number: i + 1,
      document_id: p.documentId,
      title: p.title,
      page_start: p.pageStart,
      page_end: p.pageEnd,
      chunk_index: p.chunkIndex,
      heading_path: p.headingPath,
      passage: p.text,
      char_start: p.charStart,
      char_end: p.charEnd,
    })),
  );
  const answerStarted = performance.now();
  let stored: StoredAnswer;
  if (passages.length === 0) {
    stored = {
      question: input.question,
      status: 'no_answer',
      answer: null,
      explanation: NO_PASSAGES,
      citations: [],
      engine: 'extractive',
      model: 'none',
      fallback_reason: null,
      tokens: { input: 0, output: 0 },
      estimated_cost_usd: 0,
    };
  } else {
    const result = await answerer(({ usd }) => withinBudget(services, orgId, usd)).answer(
      input.question,
      passages.map((p) => ({
        title: p.title,
        text: p.text,
        language: p.language,
        pageStart: p.pageStart,
        pageEnd: p.pageEnd,
      })),
    );
    const citations = citationsOf(passages, result);
    stored = {
      question: input.question,
      status: result.status,
      answer: result.answer,
      explanation: result.status === 'no_answer' ? MODEL_FOUND_NOTHING : null,
      citations,
      engine: result.engine,
      model: result.model,
      fallback_reason: result.fallback_reason,
      tokens: result.tokens,
      estimated_cost_usd: result.estimated_cost_usd,
    };
    services.waitUntil(
      recordAiUsage(services, {
        orgId,
        kind: 'ask',
        model: result.model,
        engine: result.engine,
        tokens: result.tokens,
        costUsd: result.estimated_cost_usd,
        cache: 'miss',
      }),
    );
  }
  const answerMs = performance.now() - answerStarted;
  if (keys && found.degraded.length === 0) {
    services.waitUntil(writeCachedAnswer(services, keys, input.question, vector, stored));
  }
  return {
    ...stored,
    cached: 'none',
    cached_question: null,
    cached_similarity: null,
    degraded: found.degraded.length > 0,
    degraded_reasons: found.degraded,
    timing: timing(started, cacheMs, retrievalMs, answerMs),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function timing(started: number, cacheMs: number, retrievalMs: number, answerMs: number) {
  return {
    cache_ms: round(cacheMs),
    retrieval_ms: round(retrievalMs),
    answer_ms: round(answerMs),
    total_ms: round(performance.now() - started),
  };
}
