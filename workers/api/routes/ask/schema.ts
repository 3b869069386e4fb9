import { z } from '@hono/zod-openapi';
import { DEFAULT_TOP_K, MAX_TOP_K } from '../../../../shared/ask/ask.ts';
import { CategoryId, Locale } from '../../../../shared/content/schema.ts';
import { isId } from '../../../../shared/ids.ts';
import { tokenize } from '../../../../shared/text/analyze.ts';

/** The longest question, in characters. */
export const MAX_QUESTION_CHARS = 1_000;
/** Documents a question may be limited to at most. */
export const MAX_ASK_DOCUMENTS = 50;

const DocumentId = z
  .string({ error: 'must be a document id (doc_…)' })
  .refine((id) => isId('document', id), 'must be a document id (doc_…)');

export const AskBody = z
  .strictObject({
    question: z
      .string({ error: 'must be a string' })
      .trim()
      .min(1, { error: 'must not be empty', abort: true })
      .max(MAX_QUESTION_CHARS, {
        error: `must be at most ${MAX_QUESTION_CHARS} characters`,
        abort: true,
      })
      .refine((q) => tokenize(q).length > 0, 'must contain a word (letters or digits)')
      .openapi({
        description: `The question, in any language: 1 to ${MAX_QUESTION_CHARS} characters with at least one word.`,
        example: 'How long is the warranty on the solar panels?',
      }),
    document_ids: z
      .array(DocumentId)
      .min(1, 'must name at least one document')
      .max(MAX_ASK_DOCUMENTS, `must name at most ${MAX_ASK_DOCUMENTS} documents`)
      .transform((ids) => [...new Set(ids)])
      .optional()
      .openapi({ description: 'Only these documents.' }),
    category_id: CategoryId.optional().openapi({ description: 'Only documents of this category.' }),
    locale: Locale.optional().openapi({
      description: "Only documents in this locale's language.",
      example: 'en',
    }),
    top_k: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_TOP_K, `must be at most ${MAX_TOP_K}`)
      .default(DEFAULT_TOP_K)
      .openapi({ description: 'Passages the answer is drawn from, at most.' }),
  })
  .openapi('AskRequest');

export const AskCitationSchema = z
  .object({
    number: z.number().int(),
    document_id: z.string(),
    title: z.string(),
    page_start: z.number().int().nullable(),
    page_end: z.number().int().nullable(),
    chunk_index: z.number().int(),
    heading_path: z.array(z.string()),
    passage: z.string().openapi({
      description: 'The words cited: a sentence (extractive engine) or the whole passage (model).',
    }),
    char_start: z.number().int(),
    char_end: z.number().int().openapi({
      description: "Where `passage` is in the document's extracted text (UTF-16 offsets).",
    }),
  })
  .openapi('AskCitation');

export const AskResponseSchema = z
  .object({
    question: z.string(),
    status: z.enum(['answered', 'no_answer']).openapi({
      description:
        '`no_answer`: no passage the caller may see is relevant enough, or the model found no ' +
        'answer in them; `answer` is null and `explanation` says why. Never a guess.',
    }),
    answer: z.string().nullable(),
    explanation: z.string().nullable(),
    citations: z.array(AskCitationSchema),
    engine: z.enum(['model', 'extractive']),
    model: z.string(),
    fallback_reason: z
      .enum(['provider_error', 'invalid_output', 'circuit_open', 'over_budget'])
      .nullable(),
    tokens: z.object({ input: z.number().int(), output: z.number().int() }),
    estimated_cost_usd: z.number(),
    cached: z.enum(['none', 'exact', 'semantic']),
    cached_question: z.string().nullable().openapi({
      description: 'For a semantic cache hit: the question whose answer this is.',
    }),
    cached_similarity: z.number().nullable(),
    degraded: z.boolean(),
    degraded_reasons: z.array(z.string()),
    timing: z.object({
      cache_ms: z.number(),
      retrieval_ms: z.number(),
      answer_ms: z.number(),
      total_ms: z.number(),
    }),
  })
  .openapi('AskResponse');
