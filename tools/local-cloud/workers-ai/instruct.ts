import { extractiveAnswer, parseAnswerPrompt } from '../../../shared/ai/answer.ts';
import { extract } from '../../../shared/ai/extractive/index.ts';
import {
  WORKERS_AI_INSTRUCTION_MODELS,
  type WorkersAiInstructionModel,
} from '../../../shared/ai/models.ts';
import { parsePrompt } from '../../../shared/ai/prompt.ts';
import type { ModelOutput } from '../../../shared/ai/schema.ts';
import { ERROR_CODES, invalidInput, WorkersAiApiError } from './errors.ts';
import { countTokens } from './tokens.ts';

/** What the local Workers AI knows of an instruction (chat) model. */
export type LocalInstructionModel = {
  name: WorkersAiInstructionModel;
  /** Input and output tokens together, as Workers AI lists for the model. */
  contextTokens: number;
};

const CONTEXT: Record<WorkersAiInstructionModel, number> = {
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast': 24_000,
  '@cf/meta/llama-3.1-8b-instruct': 7_968,
  '@cf/meta/llama-3-8b-instruct': 7_968,
};

/** The instruction models the local Workers AI serves: those Sift's AI provider knows. */
export const LOCAL_INSTRUCTION_MODELS: ReadonlyMap<string, LocalInstructionModel> = new Map(
  (Object.keys(WORKERS_AI_INSTRUCTION_MODELS) as WorkersAiInstructionModel[]).map((name) => [
    name,
    { name, contextTokens: CONTEXT[name] },
  ]),
);

/** Workers AI's default `max_tokens` for text generation. */
const DEFAULT_MAX_TOKENS = 256;

type ChatRequest = {
  messages: { role: string; content: string }[];
  format: { type: 'json_object' } | { type: 'json_schema'; schema: Record<string, unknown> } | null;
  maxTokens: number;
};

/**
 * Checks a text-generation body as Workers AI does (failing with a 5006 naming the field):
 * `{messages: [{role, content}], response_format?, max_tokens?}` or `{prompt}` (taken as one
 * user message). `response_format` is `{type: 'json_object'}` or `{type: 'json_schema',
 * json_schema: {…}}`. Unknown fields (`temperature`, `seed`…) are accepted and change nothing:
 * the engine is deterministic.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObject(body)) throw invalidInput("Type mismatch of '/', 'array' not in 'object'");
  let messages: ChatRequest['messages'];
  if ('messages' in body) {
    if (!Array.isArray(body.messages)) {
      throw invalidInput(
        `Type mismatch of '/messages', '${jsonType(body.messages)}' not in 'array'`,
      );
    }
    if (body.messages.length === 0) {
      throw invalidInput("Error: array at '/messages' has no items; at least 1 is required");
    }
    messages = body.messages.map((message: unknown, i: number) => {
      if (!isObject(message))
        throw invalidInput(
          `Type mismatch of '/messages/${i}', '${jsonType(message)}' not in 'object'`,
        );
      for (const key of ['role', 'content'] as const) {
        if (typeof message[key] !== 'string') {
          throw invalidInput(
            message[key] === undefined
              ? `Error: required properties at '/messages/${i}' are 'role', 'content'`
              : `Type mismatch of '/messages/${i}/${key}', '${jsonType(message[key])}' not in 'string'`,
          );
        }
      }
      return { role: message.role as string, content: message.content as string };
    });
  } else if (typeof body.prompt === 'string') {
    messages = [{ role: 'user', content: body.prompt }];
  } else {
    throw invalidInput("Error: required properties at '/' are 'messages' (or 'prompt')");
  }
  const maxTokens = body.max_tokens ?? DEFAULT_MAX_TOKENS;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw invalidInput("Error: '/max_tokens' must be an integer of at least 1");
  }
  return { messages, format: parseFormat(body.response_format), maxTokens };
}

function parseFormat(value: unknown): ChatRequest['format'] {
  if (value === undefined) return null;
  if (!isObject(value)) {
    throw invalidInput(`Type mismatch of '/response_format', '${jsonType(value)}' not in 'object'`);
  }
  if (value.type === 'json_object') return { type: 'json_object' };
  if (value.type === 'json_schema') {
    if (!isObject(value.json_schema)) {
      throw invalidInput("Error: '/response_format/json_schema' must be a JSON schema (an object)");
    }
    return { type: 'json_schema', schema: value.json_schema };
  }
  throw invalidInput(
    `Error: '/response_format/type' must be one of 'json_object', 'json_schema', got ${JSON.stringify(value.type)}`,
  );
}

/**
 * Answers a chat request with the extractive engine: the last user message is read as Sift's
 * question prompt (`shared/ai/answer.ts`: a question over numbered passages) or else as its
 * enrichment prompt (`shared/ai/prompt.ts`: reference date, language, categories, and the
 * document between `<document>` tags; any other message is the document itself), and the
 * answer has the fields the model would give. With `json_schema`, `response` is the object,
 * keeping only the schema's top-level properties; with `json_object` the whole object; with
 * no format, the JSON as text, as a model writes it. `usage` counts tokens with the local
 * estimate. As on Workers AI, input plus `max_tokens` beyond the context is a 5021, and an
 * answer longer than `max_tokens` is cut there (for JSON, no longer parseable).
 */
export function runInstruction(model: LocalInstructionModel, request: ChatRequest) {
  const promptTokens = countTokens(request.messages.map((m) => m.content).join('\n'));
  if (promptTokens + request.maxTokens > model.contextTokens) {
    throw new WorkersAiApiError(
      400,
      ERROR_CODES.contextWindow,
      `AiError: The estimated number of input and maximum output tokens (${promptTokens + request.maxTokens}) exceeded this model context window limit (${model.contextTokens}).`,
    );
  }
  const user = [...request.messages].reverse().find((m) => m.role === 'user');
  const question = parseAnswerPrompt(user?.content ?? '');
  const output = question ? answerOutput(question) : enrichmentOutput(user?.content ?? '');
  let response: unknown = output;
  if (request.format?.type === 'json_schema' && isObject(request.format.schema.properties)) {
    const keep = new Set(Object.keys(request.format.schema.properties));
    response = Object.fromEntries(Object.entries(output).filter(([key]) => keep.has(key)));
  }
  const text = JSON.stringify(response);
  let completionTokens = countTokens(text);
  if (request.format === null || completionTokens > request.maxTokens) {
    response = cutToTokens(text, request.maxTokens);
    completionTokens = Math.min(completionTokens, request.maxTokens);
  }
  return {
    response,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

/**
 * A question over numbered passages (`shared/ai/answer.ts`), answered as the model is asked to:
 * `{answer, citations}`, the answer the extractive engine's sentences and the citations the
 * numbers of the passages they come from (null and none when no sentence answers).
 */
function answerOutput({ question, passages }: NonNullable<ReturnType<typeof parseAnswerPrompt>>) {
  const found = extractiveAnswer(question, passages);
  return {
    answer: found.answer,
    citations: [...new Set(found.citations.map((c) => c.passage + 1))],
  };
}

/** Sift's enrichment prompt (`shared/ai/prompt.ts`), answered with the fields the model gives. */
function enrichmentOutput(content: string): ModelOutput {
  const prompt = parsePrompt(content);
  const found = extract(prompt.text, {
    locale: prompt.locale,
    categories: prompt.categories,
    referenceDate: prompt.referenceDate,
  });
  return {
    summaries: {
      short: found.summaries.short.text,
      medium: found.summaries.medium.text,
      detailed: found.summaries.detailed.text,
    },
    action_items: found.action_items.map((a) => ({
      text: a.text,
      owner: a.owner,
      due_date: a.due_date,
    })),
    risks: found.risks.map((r) => ({ text: r.text, severity: r.severity, passage: r.passage })),
    tags: found.tags,
    category: found.category,
    document_type: found.document_type,
  };
}

function cutToTokens(text: string, maxTokens: number): string {
  if (countTokens(text) <= maxTokens) return text;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (countTokens(text.slice(0, mid)) <= maxTokens) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
