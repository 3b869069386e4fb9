import { z } from 'zod';
import { postWorkersAi, WORKERS_AI_API_URL, workersAiRunUrl } from '../embeddings/workers-ai.ts';
import type { Logger } from '../logger.ts';
import { type Breaker, breaker } from '../resilience/circuit-breaker.ts';
import { isWorkersAiFault } from '../resilience/faults.ts';
import { detectLanguage, type Lang } from '../text/analyze.ts';
import { iso, referenceDay } from './extractive/dates.ts';
import {
  EXTRACTIVE_MODEL,
  EXTRACTIVE_VERSION,
  type Extraction,
  extract,
} from './extractive/index.ts';
import { modelJson } from './model-json.ts';
import { runModels } from './model-loop.ts';
import {
  DEFAULT_AI_FALLBACK_MODEL,
  DEFAULT_AI_MODEL,
  estimateCost,
  estimateTokens,
  type WorkersAiInstructionModel,
} from './models.ts';
import { buildMessages, PROMPT_VERSION } from './prompt.ts';
import {
  ENRICHMENT_TASKS,
  type Enrichment,
  EnrichmentSchema,
  type EnrichmentTask,
  type ModelOutput,
  ModelOutputSchema,
} from './schema.ts';

export type EnrichOptions = {
  /** What to produce; default every task. Fields of the others are null. */
  tasks?: readonly EnrichmentTask[];
  /** The document's language when known; detected otherwise. */
  locale?: Lang;
  /** Category names to choose from; without them `category` is null. */
  categories?: readonly string[];
  /** What relative due dates are resolved against (`by Friday`); default today (UTC). */
  referenceDate?: Date | string;
  /**
   * This call's budget, asked instead of the provider's `budget` option (a provider is built
   * once per invocation, without an organisation; `enrichText` passes the organisation's).
   * The extractive provider costs nothing and ignores it.
   */
  budget?: BudgetCheck;
};

/** Asked before a model call with its estimated cost; `false` refuses it (`over_budget`). */
export type BudgetCheck = (estimate: { model: string; usd: number }) => boolean | Promise<boolean>;

/**
 * Enriches one document: summaries, action items, risks, tags, category and type, recording the
 * model, prompt version, tokens and estimated cost. Implementations never throw for a document
 * they cannot process with a model: they answer with the extractive engine and say so
 * (`engine: 'extractive'`, `fallback_reason`).
 */
export type AiProvider = {
  /** The model asked first (`sift/extractive` for the engine alone). */
  readonly model: string;
  enrich(text: string, options?: EnrichOptions): Promise<Enrichment>;
};

/** The model answered, but not with JSON that fits {@link ModelOutputSchema}. */
export class AiOutputError extends Error {
  override readonly name = 'AiOutputError';
}

type FallbackReason = NonNullable<Enrichment['fallback_reason']>;

/** The extractive engine alone, as a provider: offline use, tests, and the bench. */
export function createExtractiveProvider(): AiProvider {
  return {
    model: EXTRACTIVE_MODEL,
    enrich: async (text, options = {}) => extractiveEnrichment(text, options, null),
  };
}

/** The engine's result in the provider's shape; tokens are estimates and the cost is nothing. */
export function extractiveEnrichment(
  text: string,
  options: EnrichOptions,
  reason: FallbackReason | null,
): Enrichment {
  const tasks = new Set(options.tasks ?? ENRICHMENT_TASKS);
  const found: Extraction = extract(text, {
    locale: options.locale,
    categories: options.categories,
    referenceDate: options.referenceDate,
  });
  const result: Enrichment = {
    summaries: tasks.has('summaries') ? found.summaries : null,
    action_items: tasks.has('action_items')
      ? found.action_items.map((a) => ({
          text: a.text,
          owner: a.owner,
          due_date: a.due_date,
          span: a.span,
        }))
      : null,
    risks: tasks.has('risks')
      ? found.risks.map((r) => ({
          text: r.text,
          severity: r.severity,
          passage: r.passage,
          span: r.span,
        }))
      : null,
    tags: tasks.has('tags') ? found.tags : null,
    category: tasks.has('category') ? found.category : null,
    document_type: tasks.has('document_type') ? found.document_type : null,
    language: found.language,
    model: EXTRACTIVE_MODEL,
    prompt_version: EXTRACTIVE_VERSION,
    tokens: { input: 0, output: 0 },
    estimated_cost_usd: 0,
    engine: 'extractive',
    fallback_reason: reason,
  };
  result.tokens = {
    input: estimateTokens(text),
    output: estimateTokens(JSON.stringify({ ...result, tokens: undefined })),
  };
  return result;
}

/**
 * A model's validated answer in the provider's shape. Quoted passages (action items' text,
 * risks' passages) are looked up in the input to give their spans (null when the model did not
 * quote exactly); abstractive summaries have none. A category that is not one of those given is
 * dropped, and fields of tasks not asked for are null.
 */
export function modelEnrichment(
  text: string,
  output: ModelOutput,
  options: EnrichOptions,
  meta: Pick<Enrichment, 'model' | 'tokens' | 'estimated_cost_usd'>,
): Enrichment {
  const tasks = new Set(options.tasks ?? ENRICHMENT_TASKS);
  const summary = (s: string) => ({ text: s, spans: [] });
  const categories = options.categories ?? [];
  const category =
    output.category === null
      ? null
      : (categories.find((c) => c.toLowerCase() === output.category?.trim().toLowerCase()) ?? null);
  return EnrichmentSchema.parse({
    summaries: tasks.has('summaries')
      ? {
          short: summary(output.summaries.short),
          medium: summary(output.summaries.medium),
          detailed: summary(output.summaries.detailed),
        }
      : null,
    action_items: tasks.has('action_items')
      ? output.action_items.map((a) => ({ ...a, span: locate(text, a.text) }))
      : null,
    risks: tasks.has('risks')
      ? output.risks.map((r) => ({ ...r, span: locate(text, r.passage) }))
      : null,
    tags: tasks.has('tags') ? output.tags : null,
    category: tasks.has('category') ? category : null,
    document_type: tasks.has('document_type') ? output.document_type : null,
    language: options.locale ?? detectLanguage(text) ?? 'en',
    prompt_version: PROMPT_VERSION,
    engine: 'model',
    fallback_reason: null,
    ...meta,
  });
}

/** Where `quote` is in `text`: exactly, else without its final punctuation; null if nowhere. */
function locate(text: string, quote: string): { start: number; end: number } | null {
  for (const candidate of [quote.trim(), quote.trim().replace(/[.!?؟۔]+$/u, '')]) {
    if (candidate === '') continue;
    const at = text.indexOf(candidate);
    if (at >= 0) return { start: at, end: at + candidate.length };
  }
  return null;
}

export type WorkersAiProviderOptions = {
  accountId: string;
  apiToken: string;
  /** Default {@link WORKERS_AI_API_URL} (`…/client/v4`). */
  apiUrl?: string;
  /** Default {@link DEFAULT_AI_MODEL}. */
  model?: WorkersAiInstructionModel;
  /** Asked when the first model fails; null for none. Default {@link DEFAULT_AI_FALLBACK_MODEL}. */
  fallbackModel?: WorkersAiInstructionModel | null;
  /** Per request. Default 30 s (a long document takes a large model many seconds). */
  timeoutMs?: number;
  /** Retries of a 429 or 5xx answer or a network failure, per model. Default 2. */
  retries?: number;
  /** Output tokens at most (`max_tokens`). Default 2,048. */
  maxOutputTokens?: number;
  /**
   * Asked before each call with its estimated cost; `false` answers with the extractive engine
   * instead (`fallback_reason: 'over_budget'`). Default: always allowed.
   */
  budget?: BudgetCheck;
  /** The breaker calls go through. Default the isolate's `llm` breaker (instruction models). */
  breaker?: Pick<Breaker, 'run'>;
  logger?: Pick<Logger, 'warn'>;
  fetch?: typeof fetch;
};

/**
 * Characters of a document sent at most: about 12,000 tokens of English, within the default
 * models' context with room for the instructions and the answer. The rest is not sent (a
 * document pipeline that needs all of a long document enriches it in parts).
 */
export const MAX_DOCUMENT_CHARS = 48_000;

let responseSchema: unknown;
/** The JSON schema the model must follow, made once from {@link ModelOutputSchema}. */
function jsonSchema(): unknown {
  responseSchema ??= z.toJSONSchema(ModelOutputSchema, { target: 'draft-7' });
  return responseSchema;
}

/**
 * Enrichment by a Workers AI instruction model through its REST API
 * (`POST {apiUrl}/accounts/{account}/ai/run/{model}` with `messages`, `response_format:
 * {type: 'json_schema', json_schema}`, answered `{result: {response, usage}, success}`), as the
 * embeddings are fetched: the local cloud serves the same API offline with the extractive
 * engine. The answer is validated with zod. A 429, a 5xx or a network failure is retried
 * (`retries`, with back-off); a model that still fails, or answers something invalid, passes to
 * `fallbackModel`; when both fail, when the `llm` circuit is open, or when `budget` refuses, the
 * extractive engine answers (`engine: 'extractive'` and the reason). Tokens come from the API's
 * `usage` when it gives them, else are estimated; the cost from the price table (`./models.ts`).
 */
export function createWorkersAiProvider(options: WorkersAiProviderOptions): AiProvider {
  const model = options.model ?? DEFAULT_AI_MODEL;
  const fallback =
    options.fallbackModel === undefined ? DEFAULT_AI_FALLBACK_MODEL : options.fallbackModel;
  const models = fallback === null || fallback === model ? [model] : [model, fallback];
  const base = workersAiRunUrl(options.apiUrl, options.accountId);
  const send = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const retries = options.retries ?? 2;
  const maxTokens = options.maxOutputTokens ?? 2048;
  const guard = options.breaker ?? breaker('llm');
  // A model's invalid answer says nothing about Workers AI's health: it does not trip the circuit.
  const isFailure = (error: unknown) =>
    !(error instanceof AiOutputError) && isWorkersAiFault(error);

  async function call(name: WorkersAiInstructionModel, body: string) {
    const response = await postWorkersAi(send, base + name, options.apiToken, body, {
      timeoutMs,
      retries,
    });
    return answerOf(name, response);
  }

  return {
    model: `workers-ai:${model}`,
    async enrich(text, enrichOptions = {}) {
      const tasks = enrichOptions.tasks ?? ENRICHMENT_TASKS;
      const document = text.length > MAX_DOCUMENT_CHARS ? text.slice(0, MAX_DOCUMENT_CHARS) : text;
      const messages = buildMessages({
        text: document,
        tasks,
        locale: enrichOptions.locale,
        categories: enrichOptions.categories ?? [],
        referenceDate: iso(referenceDay(enrichOptions.referenceDate)),
      });
      const body = JSON.stringify({
        messages,
        response_format: { type: 'json_schema', json_schema: jsonSchema() },
        max_tokens: maxTokens,
        temperature: 0,
      });
      const inputEstimate = estimateTokens(messages.map((m) => m.content).join('\n'));
      const outcome = await runModels(models, (name) => call(name, body), {
        tokens: { input: inputEstimate, output: maxTokens },
        budget: enrichOptions.budget ?? options.budget,
        breaker: guard,
        isFailure,
        // A ZodError is modelEnrichment's own check refusing what the model answered.
        isInvalidOutput: (error) => error instanceof AiOutputError || error instanceof z.ZodError,
        accept: (name, answer) => {
          const tokens = {
            input: answer.usage?.prompt_tokens ?? inputEstimate,
            output:
              answer.usage?.completion_tokens ?? estimateTokens(JSON.stringify(answer.output)),
          };
          return modelEnrichment(text, answer.output, enrichOptions, {
            model: name,
            tokens,
            estimated_cost_usd: estimateCost(name, tokens),
          });
        },
        logger: options.logger,
        failureEvent: 'ai.enrich_model_failed',
      });
      return outcome.ok ? outcome.value : extractiveEnrichment(text, enrichOptions, outcome.reason);
    },
  };
}

async function answerOf(model: string, response: Response) {
  const { value, usage } = await modelJson(
    model,
    response,
    ModelOutputSchema,
    (message) => new AiOutputError(message),
  );
  return { output: value, usage };
}
