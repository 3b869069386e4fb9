import type { z } from 'zod';
import { WorkersAiError } from '../embeddings/workers-ai.ts';

/** Token counts as Workers AI reports them with a text-generation answer. */
export type ModelUsage = { prompt_tokens?: number; completion_tokens?: number };

type Envelope = {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: { response?: unknown; usage?: ModelUsage } | null;
};

/**
 * A Workers AI text-generation answer in JSON mode, read and validated against `schema`:
 * `{result: {response, usage}, success}`. A failed call (not 2xx, `success: false`, no JSON
 * envelope) is a {@link WorkersAiError} with the API's errors; an answer that is not JSON, or
 * JSON that does not fit, is `invalid(message)` (the caller's own error: it says nothing of
 * Workers AI's health). Some models answer JSON mode with the JSON as a string, sometimes fenced
 * as Markdown: that is read too.
 */
export async function modelJson<T>(
  model: string,
  response: Response,
  schema: z.ZodType<T>,
  invalid: (message: string) => Error,
): Promise<{ value: T; usage: ModelUsage | undefined }> {
  const raw = await response.text();
  let envelope: Envelope | undefined;
  try {
    envelope = JSON.parse(raw) as Envelope;
  } catch {
    envelope = undefined;
  }
  if (!response.ok || envelope?.success === false || envelope === undefined) {
    const detail =
      envelope?.errors
        ?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim())
        .filter(Boolean)
        .join('; ') || raw.slice(0, 200);
    throw new WorkersAiError(
      `Workers AI ${model} answered ${response.status}: ${detail}`,
      response.ok ? 0 : response.status,
    );
  }
  let value = envelope.result?.response;
  if (typeof value === 'string') {
    const unfenced = value.trim().replace(/^```(?:json)?\s*|\s*```$/gu, '');
    try {
      value = JSON.parse(unfenced);
    } catch {
      throw invalid(`Workers AI ${model} answered text that is not JSON`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw invalid(
      `Workers AI ${model} answered JSON that does not fit the schema: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return { value: parsed.data, usage: envelope.result?.usage };
}
