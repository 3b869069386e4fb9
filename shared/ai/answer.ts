import { z } from 'zod';
import { postWorkersAi, workersAiRunUrl } from '../embeddings/workers-ai.ts';
import type { Logger } from '../logger.ts';
import { type Breaker, breaker } from '../resilience/circuit-breaker.ts';
import { isWorkersAiFault } from '../resilience/faults.ts';
import { analyze, detectLanguage, type Lang } from '../text/analyze.ts';
import { EXTRACTIVE_MODEL } from './extractive/index.ts';
import { splitSentences } from './extractive/text.ts';
import { modelJson } from './model-json.ts';
import { type ModelFallbackReason, runModels } from './model-loop.ts';
import {
  DEFAULT_AI_FALLBACK_MODEL,
  DEFAULT_AI_MODEL,
  estimateCost,
  estimateTokens,
  type WorkersAiInstructionModel,
} from './models.ts';
import type { ChatMessage } from './prompt.ts';

/**
 * Answers to questions over passages of documents (`POST /v1/ask`): a Workers AI instruction
 * model asked for JSON `{answer, citations}` over numbered passages, or the extractive engine
 * (the passages' sentences most like the question). Neither ever answers from anything but the
 * passages given.
 */

/** Recorded with every model answer; change it whenever the instructions below change. */
export const ANSWER_PROMPT_VERSION = 'answer-v1';

/** A passage the answer may use, numbered from 1 in the prompt in the order given. */
export type AnswerPassage = {
  title: string;
  text: string;
  language: string;
  pageStart: number | null;
  pageEnd: number | null;
};

/** Where an answer comes from in a passage: its index in the input and a span of its text. */
export type AnswerCitation = { passage: number; start: number; end: number };

/** Why the extractive engine answered when a model was configured. */
export type AnswerFallbackReason = ModelFallbackReason;

export type AnswerResult = {
  /** `no_answer`: the passages do not answer the question (the answer is null, no citations). */
  status: 'answered' | 'no_answer';
  answer: string | null;
  citations: AnswerCitation[];
  engine: 'model' | 'extractive';
  model: string;
  fallback_reason: AnswerFallbackReason | null;
  tokens: { input: number; output: number };
  estimated_cost_usd: number;
};

/** Answers a question from passages; implementations never throw for a provider's failure. */
export type Answerer = {
  /** The model asked first (`sift/extractive` for the engine alone). */
  readonly model: string;
  answer(question: string, passages: readonly AnswerPassage[]): Promise<AnswerResult>;
};

// --- The extractive engine --------------------------------------------------------------------

/** Sentences an extractive answer has at most. */
export const EXTRACTIVE_ANSWER_SENTENCES = 3;

/** The share of the best sentence's score another sentence needs to join the answer. */
export const EXTRACTIVE_RELATIVE_SCORE = 0.5;

const lang = (language: string): Lang | undefined =>
  language === 'ar' || language === 'en' ? language : undefined;

/**
 * The extractive answer: the sentences of the passages that share the most terms with the
 * question (stems, stop words aside: Sift's analysers, Arabic and English), at most
 * {@link EXTRACTIVE_ANSWER_SENTENCES} and each at least {@link EXTRACTIVE_RELATIVE_SCORE} of the
 * best one's score, in the passages' order, each cited with its span. A
 * sentence's score is the share of the question's terms it holds, plus a little for the rank of
 * its passage (ties go to the better passage). When no sentence shares a term (the passages were
 * found by meaning alone), the first sentence of the best passage answers. Headings and labelled
 * lines (`From: …`) are never an answer.
 */
export function extractiveAnswer(
  question: string,
  passages: readonly AnswerPassage[],
): Pick<AnswerResult, 'status' | 'answer' | 'citations'> {
  const terms = new Set(analyze(question));
  type Scored = { passage: number; start: number; end: number; text: string; score: number };
  const scored: Scored[] = [];
  const firsts: Scored[] = [];
  passages.forEach((p, i) => {
    for (const s of splitSentences(p.text, lang(p.language))) {
      if (s.heading || s.meta || s.text.trim() === '') continue;
      const shared = new Set(s.stems.filter((t) => terms.has(t))).size;
      const candidate = {
        passage: i,
        start: s.start,
        end: s.end,
        text: s.text.trim(),
        score: terms.size > 0 ? shared / terms.size + (passages.length - i) * 1e-3 : 0,
      };
      if (firsts.length === i) firsts.push(candidate);
      if (shared > 0) scored.push(candidate);
    }
  });
  const best = Math.max(0, ...scored.map((c) => c.score));
  // A sentence far weaker than the best (one shared word among many) would only add noise.
  const strong = scored.filter((c) => c.score >= best * EXTRACTIVE_RELATIVE_SCORE);
  const chosen = (strong.length > 0 ? strong : firsts.slice(0, 1))
    .sort((a, b) => b.score - a.score || a.passage - b.passage || a.start - b.start)
    .slice(0, EXTRACTIVE_ANSWER_SENTENCES)
    .sort((a, b) => a.passage - b.passage || a.start - b.start);
  if (chosen.length === 0) return { status: 'no_answer', answer: null, citations: [] };
  return {
    status: 'answered',
    answer: chosen.map((c) => c.text).join(' '),
    citations: chosen.map((c) => ({ passage: c.passage, start: c.start, end: c.end })),
  };
}

function extractiveResult(
  question: string,
  passages: readonly AnswerPassage[],
  reason: AnswerFallbackReason | null,
): AnswerResult {
  const found = extractiveAnswer(question, passages);
  return {
    ...found,
    engine: 'extractive',
    model: EXTRACTIVE_MODEL,
    fallback_reason: reason,
    tokens: {
      input: estimateTokens(question + passages.map((p) => p.text).join('\n')),
      output: estimateTokens(found.answer ?? ''),
    },
    estimated_cost_usd: 0,
  };
}

/** The extractive engine alone: offline use (the local cloud), tests. */
export function createExtractiveAnswerer(reason: AnswerFallbackReason | null = null): Answerer {
  return {
    model: EXTRACTIVE_MODEL,
    answer: async (question, passages) => extractiveResult(question, passages, reason),
  };
}

// --- The model ----------------------------------------------------------------------------------

const SYSTEM = `You answer questions about an organisation's documents using ONLY the numbered passages given, and answer with JSON only, following the given schema.
- answer: a short, direct answer in the language of the question, stating only what the passages say; null when the passages do not contain the answer. Never use outside knowledge and never guess.
- citations: the numbers of the passages the answer relies on (at least one when answer is not null; empty when it is null).`;

/** Characters of a passage sent at most (chunks are about this long; longer ones are cut). */
export const MAX_PASSAGE_CHARS = 4_000;

/**
 * The chat messages of a question: fixed instructions, then the question and the passages,
 * each as `[n] title (pages) text` between `<passages>` tags.
 */
export function buildAnswerMessages(
  question: string,
  passages: readonly AnswerPassage[],
): ChatMessage[] {
  const lines = passages.map((p, i) => {
    const pages =
      p.pageStart === null
        ? ''
        : p.pageEnd !== null && p.pageEnd !== p.pageStart
          ? ` (pages ${p.pageStart}-${p.pageEnd})`
          : ` (page ${p.pageStart})`;
    return `[${i + 1}] ${p.title}${pages}\n${p.text.slice(0, MAX_PASSAGE_CHARS).replaceAll('</passages>', '</ passages>')}`;
  });
  return [
    { role: 'system', content: SYSTEM },
    {
      role: 'user',
      content: `Question: ${question}\n<passages>\n${lines.join('\n\n')}\n</passages>`,
    },
  ];
}

/**
 * The question and passages of a prompt {@link buildAnswerMessages} wrote, read back: the local
 * cloud's Workers AI answers such a prompt with the extractive engine, as the model would. Null
 * when `content` is not one (then it is another kind of prompt). Each passage's language is
 * detected from its text; its pages are not kept (the title line carries them).
 */
export function parseAnswerPrompt(
  content: string,
): { question: string; passages: AnswerPassage[] } | null {
  const match = /^Question: ([\s\S]*?)\n<passages>\n([\s\S]*)\n<\/passages>$/u.exec(content);
  if (!match) return null;
  const [, question = '', body = ''] = match;
  const passages: AnswerPassage[] = [];
  // `[1] title…\ntext`, the next starting `\n\n[2] ` (a text's own blank lines stay in it).
  let rest = body;
  for (let n = 1; rest.startsWith(`[${n}] `); n++) {
    const next = rest.indexOf(`\n\n[${n + 1}] `);
    const block = next < 0 ? rest : rest.slice(0, next);
    rest = next < 0 ? '' : rest.slice(next + 2);
    const newline = block.indexOf('\n');
    const title = block.slice(`[${n}] `.length, newline < 0 ? undefined : newline);
    const text = newline < 0 ? '' : block.slice(newline + 1);
    passages.push({
      title,
      text,
      language: detectLanguage(text) ?? 'und',
      pageStart: null,
      pageEnd: null,
    });
  }
  return { question, passages };
}

/** What the model must answer. */
export const ModelAnswerSchema = z.object({
  answer: z.string().trim().min(1).nullable(),
  citations: z.array(z.number().int()).max(50),
});
export type ModelAnswer = z.infer<typeof ModelAnswerSchema>;

let responseSchema: unknown;
function jsonSchema(): unknown {
  responseSchema ??= z.toJSONSchema(ModelAnswerSchema, { target: 'draft-7' });
  return responseSchema;
}

/** The model answered, but not with JSON that fits {@link ModelAnswerSchema}. */
export class AnswerOutputError extends Error {
  override readonly name = 'AnswerOutputError';
}

export type WorkersAiAnswererOptions = {
  accountId: string;
  apiToken: string;
  apiUrl?: string;
  /** Default {@link DEFAULT_AI_MODEL}. */
  model?: WorkersAiInstructionModel;
  /** Asked when the first fails; null for none. Default {@link DEFAULT_AI_FALLBACK_MODEL}. */
  fallbackModel?: WorkersAiInstructionModel | null;
  /** Per request. Default 20 s. */
  timeoutMs?: number;
  /** Retries of a 429 or 5xx answer or a network failure, per model. Default 2. */
  retries?: number;
  /** Output tokens at most (`max_tokens`). Default 512. */
  maxOutputTokens?: number;
  /** Asked before each call with its estimated cost; `false` answers extractively. */
  budget?: (estimate: { model: string; usd: number }) => boolean | Promise<boolean>;
  /** Default the isolate's `llm` breaker (instruction models). */
  breaker?: Pick<Breaker, 'run'>;
  logger?: Pick<Logger, 'warn'>;
  fetch?: typeof fetch;
};

async function modelAnswerOf(model: string, response: Response, passages: number) {
  const { value, usage } = await modelJson(
    model,
    response,
    ModelAnswerSchema,
    (message) => new AnswerOutputError(message),
  );
  const cited = [...new Set(value.citations)].filter((n) => n >= 1 && n <= passages);
  // An answer that cites nothing it was given is not grounded: refused like invalid JSON.
  if (value.answer !== null && cited.length === 0) {
    throw new AnswerOutputError(`Workers AI ${model} answered without citing a given passage`);
  }
  return { answer: value.answer, cited, usage };
}

/**
 * Answers by a Workers AI instruction model over its REST API, as enrichment does
 * (`shared/ai/provider.ts`): JSON mode with {@link ModelAnswerSchema}, validated with zod; a
 * 429, 5xx or network failure retried (`retries`, with back-off); a model that still fails, or
 * answers invalid JSON or an answer citing no given passage, passes to `fallbackModel`; when both
 * fail, when the `llm` circuit is open, or when `budget` refuses, the extractive engine answers
 * (`engine: 'extractive'` and the reason). A model citation names a whole passage (span 0 to its
 * length). Tokens from the API's `usage` when given, else estimated; the cost from the price
 * table (`./models.ts`).
 */
export function createWorkersAiAnswerer(options: WorkersAiAnswererOptions): Answerer {
  const model = options.model ?? DEFAULT_AI_MODEL;
  const fallback =
    options.fallbackModel === undefined ? DEFAULT_AI_FALLBACK_MODEL : options.fallbackModel;
  const models = fallback === null || fallback === model ? [model] : [model, fallback];
  const base = workersAiRunUrl(options.apiUrl, options.accountId);
  const send = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const retries = options.retries ?? 2;
  const maxTokens = options.maxOutputTokens ?? 512;
  const guard = options.breaker ?? breaker('llm');
  const isFailure = (error: unknown) =>
    !(error instanceof AnswerOutputError) && isWorkersAiFault(error);

  return {
    model: `workers-ai:${model}`,
    async answer(question, passages) {
      if (passages.length === 0) return extractiveResult(question, passages, null);
      const messages = buildAnswerMessages(question, passages);
      const body = JSON.stringify({
        messages,
        response_format: { type: 'json_schema', json_schema: jsonSchema() },
        max_tokens: maxTokens,
        temperature: 0,
      });
      const inputEstimate = estimateTokens(messages.map((m) => m.content).join('\n'));
      const outcome = await runModels(
        models,
        async (name) =>
          modelAnswerOf(
            name,
            await postWorkersAi(send, base + name, options.apiToken, body, { timeoutMs, retries }),
            passages.length,
          ),
        {
          tokens: { input: inputEstimate, output: maxTokens },
          budget: options.budget,
          breaker: guard,
          isFailure,
          isInvalidOutput: (error) => error instanceof AnswerOutputError,
          accept: (name, out): AnswerResult => {
            const tokens = {
              input: out.usage?.prompt_tokens ?? inputEstimate,
              output: out.usage?.completion_tokens ?? estimateTokens(out.answer ?? ''),
            };
            return {
              status: out.answer === null ? 'no_answer' : 'answered',
              answer: out.answer,
              citations:
                out.answer === null
                  ? []
                  : out.cited.map((n) => ({
                      passage: n - 1,
                      start: 0,
                      end: passages[n - 1]!.text.length,
                    })),
              engine: 'model',
              model: name,
              fallback_reason: null,
              tokens,
              estimated_cost_usd: estimateCost(name, tokens),
            };
          },
          logger: options.logger,
          failureEvent: 'ai.answer_model_failed',
        },
      );
      return outcome.ok ? outcome.value : extractiveResult(question, passages, outcome.reason);
    },
  };
}
