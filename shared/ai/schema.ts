import { z } from 'zod';
import { DOCUMENT_TYPES } from './extractive/classify.ts';

/** What an enrichment can be asked to produce; each task fills its own field(s) of the result. */
export const ENRICHMENT_TASKS = [
  'summaries',
  'action_items',
  'risks',
  'tags',
  'category',
  'document_type',
] as const;
export type EnrichmentTask = (typeof ENRICHMENT_TASKS)[number];

export const SpanSchema = z.object({
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
});

const SummarySchema = z.object({
  text: z.string(),
  /** The input passages the summary is made of (extractive) or was located at; may be empty. */
  spans: z.array(SpanSchema),
});

export const ActionItemSchema = z.object({
  text: z.string().min(1),
  owner: z.string().nullable(),
  /** `YYYY-MM-DD`. */
  due_date: z.iso.date().nullable(),
  /** Where it is stated in the input; null when a model's text could not be found there. */
  span: SpanSchema.nullable(),
});

export const SeveritySchema = z.enum(['high', 'medium', 'low']);

export const RiskSchema = z.object({
  text: z.string().min(1),
  severity: SeveritySchema,
  /** The passage of the input the risk comes from. */
  passage: z.string(),
  span: SpanSchema.nullable(),
});

export const DocumentTypeSchema = z.enum(DOCUMENT_TYPES);

/**
 * One document's enrichment. Fields of tasks that were not asked for are null. `engine` says
 * whether a model wrote it or the extractive engine did (offline, or as the fallback);
 * `fallback_reason` why the engine answered when a model was configured.
 */
export const EnrichmentSchema = z.object({
  summaries: z
    .object({ short: SummarySchema, medium: SummarySchema, detailed: SummarySchema })
    .nullable(),
  action_items: z.array(ActionItemSchema).nullable(),
  risks: z.array(RiskSchema).nullable(),
  tags: z.array(z.string().min(1)).nullable(),
  category: z.string().nullable(),
  document_type: DocumentTypeSchema.nullable(),
  language: z.enum(['ar', 'en']),
  model: z.string(),
  prompt_version: z.string(),
  tokens: z.object({
    input: z.number().int().nonnegative(),
    output: z.number().int().nonnegative(),
  }),
  estimated_cost_usd: z.number().nonnegative(),
  engine: z.enum(['model', 'extractive']),
  fallback_reason: z
    .enum(['provider_error', 'invalid_output', 'circuit_open', 'over_budget'])
    .nullable(),
  /**
   * Present and true when `enrichText` answered from the AI result cache: `tokens` and
   * `estimated_cost_usd` are those of the call that made it; this one cost nothing.
   */
  cached: z.boolean().optional(),
});
export type Enrichment = z.infer<typeof EnrichmentSchema>;

/**
 * What the instruction model is asked to answer (its `response_format` JSON schema is made from
 * this) and what its answer is validated against. It carries no offsets: models do not count
 * characters reliably, so the provider finds the quoted passages in the input itself.
 */
export const ModelOutputSchema = z.object({
  summaries: z.object({ short: z.string(), medium: z.string(), detailed: z.string() }),
  action_items: z.array(
    z.object({
      text: z.string().min(1),
      owner: z.string().nullable(),
      due_date: z.iso.date().nullable(),
    }),
  ),
  risks: z.array(
    z.object({ text: z.string().min(1), severity: SeveritySchema, passage: z.string() }),
  ),
  tags: z.array(z.string().min(1)).max(12),
  category: z.string().nullable(),
  document_type: DocumentTypeSchema,
});
export type ModelOutput = z.infer<typeof ModelOutputSchema>;
