/**
 * The Workers AI instruction models Sift can enrich documents with: those of Cloudflare's JSON
 * mode list (`response_format: {type: 'json_schema', json_schema}`; the `-fast` 8B variants are
 * not on it), with their prices in US dollars per million tokens, input and output, as
 * Cloudflare's Workers AI pricing page lists them (checked December 2026: they only estimate,
 * Cloudflare bills in neurons). The default is the 70B Llama 3.3 (multilingual, Arabic included);
 * the fallback the 8B Llama 3.1, faster, at the same input price and about a third of the output
 * price.
 */
export const WORKERS_AI_INSTRUCTION_MODELS = {
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast': { inputPerMillion: 0.293, outputPerMillion: 2.253 },
  '@cf/meta/llama-3.1-8b-instruct': { inputPerMillion: 0.282, outputPerMillion: 0.827 },
  '@cf/meta/llama-3-8b-instruct': { inputPerMillion: 0.282, outputPerMillion: 0.827 },
} as const satisfies Record<string, { inputPerMillion: number; outputPerMillion: number }>;

export type WorkersAiInstructionModel = keyof typeof WORKERS_AI_INSTRUCTION_MODELS;

export const DEFAULT_AI_MODEL: WorkersAiInstructionModel =
  '@cf/meta/llama-3.3-70b-instruct-fp8-fast';
export const DEFAULT_AI_FALLBACK_MODEL: WorkersAiInstructionModel =
  '@cf/meta/llama-3.1-8b-instruct';

/** The estimated cost of a call, in US dollars, rounded to a millionth of a dollar. */
export function estimateCost(
  model: WorkersAiInstructionModel,
  tokens: { input: number; output: number },
): number {
  const price = WORKERS_AI_INSTRUCTION_MODELS[model];
  const usd =
    (tokens.input * price.inputPerMillion + tokens.output * price.outputPerMillion) / 1_000_000;
  return Math.round(usd * 1_000_000) / 1_000_000;
}

/**
 * Tokens of a text when the API does not say: about four characters a token for English, and
 * fewer for Arabic, which Llama's tokenizer splits finer (about 2.5 characters a token). An
 * estimate for budgets and for the extractive engine's own accounting, not for billing.
 */
export function estimateTokens(text: string): number {
  const arabic = text.match(/\p{sc=Arabic}/gu)?.length ?? 0;
  return Math.ceil(arabic / 2.5 + (text.length - arabic) / 4);
}
