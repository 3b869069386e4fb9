import type { EmbeddingProvider, EmbeddingPurpose } from './interface.ts';

/**
 * The Workers AI text-embedding models Sift can use, with the size of their vectors. The search
 * index's dimension must match the model's (README, "Deploying"). `@cf/baai/bge-m3` is the
 * default: multilingual (Arabic and English in one space), 8,192 tokens of context.
 */
export const WORKERS_AI_EMBEDDING_MODELS = {
  '@cf/baai/bge-m3': { dimensions: 1024 },
  '@cf/baai/bge-large-en-v1.5': { dimensions: 1024 },
  '@cf/baai/bge-base-en-v1.5': { dimensions: 768 },
  '@cf/baai/bge-small-en-v1.5': { dimensions: 384 },
} as const satisfies Record<string, { dimensions: number }>;

export type WorkersAiEmbeddingModel = keyof typeof WORKERS_AI_EMBEDDING_MODELS;

export const DEFAULT_EMBEDDING_MODEL: WorkersAiEmbeddingModel = '@cf/baai/bge-m3';

/** Cloudflare's API root; the local cloud serves the same paths under its own origin. */
export const WORKERS_AI_API_URL = 'https://api.cloudflare.com/client/v4';

/** Texts per request. Workers AI's embedding models take up to 100. */
export const MAX_EMBEDDING_BATCH = 100;

/**
 * Characters of one text sent at most. bge-m3 reads 8,192 tokens, about 30,000 characters of
 * English; the rest would be truncated by the model anyway (`truncate_inputs`), so it is not
 * sent. Texts also go in requests of at most {@link MAX_REQUEST_CHARS}.
 */
export const MAX_TEXT_CHARS = 32_000;
const MAX_REQUEST_CHARS = 512_000;

/** Workers AI answered with an error, or with something that is not a batch of embeddings. */
export class WorkersAiError extends Error {
  override readonly name = 'WorkersAiError';
  /** The HTTP status; 0 when the answer was a 200 that could not be used. */
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export type WorkersAiOptions = {
  accountId: string;
  apiToken: string;
  model?: WorkersAiEmbeddingModel;
  /** Default {@link WORKERS_AI_API_URL}. */
  apiUrl?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Retries of a 429 or 5xx answer or a network failure. Default 2. */
  retries?: number;
  /**
   * Per request when embedding queries, which a search waits for: it would rather answer from
   * its keyword side than wait. Default 2 s, and at most one retry.
   */
  queryTimeoutMs?: number;
  fetch?: typeof fetch;
};

type Envelope = {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: { shape?: number[]; data?: number[][] } | null;
};

const RETRYABLE = new Set([429, 500, 502, 503, 504]);

/** The REST URL that runs `model` (empty: the prefix model names are appended to). */
export const workersAiRunUrl = (apiUrl: string | undefined, accountId: string, model = '') =>
  `${(apiUrl ?? WORKERS_AI_API_URL).replace(/\/+$/, '')}/accounts/${encodeURIComponent(accountId)}/ai/run/${model}`;

/**
 * POSTs a JSON `body` to Workers AI's REST API with the bearer `token`, each attempt bounded by
 * `timeoutMs`; a network error or a 429/5xx answer is tried again up to `retries` times (100 ms,
 * doubling). The last answer is returned as it came (the caller reads its envelope); the last
 * network error is thrown.
 */
export async function postWorkersAi(
  send: typeof fetch,
  url: string,
  token: string,
  body: string,
  { timeoutMs, retries }: { timeoutMs: number; retries: number },
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await send(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (attempt < retries) {
        await pause(attempt);
        continue;
      }
      throw error;
    }
    if (RETRYABLE.has(response.status) && attempt < retries) {
      await response.body?.cancel();
      await pause(attempt);
      continue;
    }
    return response;
  }
}

/**
 * Embeddings from Workers AI through its REST API
 * (`POST {apiUrl}/accounts/{account}/ai/run/{model}` with `{text: [...], truncate_inputs: true}`,
 * answered `{result: {shape, data}, success}`). The REST API rather than the `AI` binding: the
 * binding has no local simulation, while the local cloud serves this same API with the local
 * model, so development and tests run this client unchanged. Vectors are L2-normalised.
 */
export function createWorkersAiEmbeddingProvider(options: WorkersAiOptions): EmbeddingProvider {
  const model = options.model ?? DEFAULT_EMBEDDING_MODEL;
  const { dimensions } = WORKERS_AI_EMBEDDING_MODELS[model];
  const url = workersAiRunUrl(options.apiUrl, options.accountId, model);
  const send = options.fetch ?? fetch;
  const budgets = {
    document: { timeoutMs: options.timeoutMs ?? 10_000, retries: options.retries ?? 2 },
    query: {
      timeoutMs: options.queryTimeoutMs ?? 2_000,
      retries: Math.min(options.retries ?? 2, 1),
    },
  };

  async function request(texts: string[], purpose: EmbeddingPurpose): Promise<Float32Array[]> {
    const { timeoutMs, retries } = budgets[purpose];
    const body = JSON.stringify({ text: texts, truncate_inputs: true });
    const response = await postWorkersAi(send, url, options.apiToken, body, { timeoutMs, retries });
    return vectorsOf(response, texts.length);
  }

  async function vectorsOf(response: Response, count: number): Promise<Float32Array[]> {
    const text = await response.text();
    let envelope: Envelope | undefined;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      envelope = undefined;
    }
    if (!response.ok || envelope?.success === false) {
      const detail =
        envelope?.errors
          ?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim())
          .filter(Boolean)
          .join('; ') || text.slice(0, 200);
      throw new WorkersAiError(
        `Workers AI ${model} answered ${response.status}: ${detail}`,
        response.status,
      );
    }
    const data = envelope?.result?.data;
    if (
      !Array.isArray(data) ||
      data.length !== count ||
      data.some((row) => !Array.isArray(row) || row.length !== dimensions)
    ) {
      throw new WorkersAiError(
        `Workers AI ${model} answered without ${count} vectors of ${dimensions} numbers`,
        0,
      );
    }
    return data.map(normalise);
  }

  return {
    model: `workers-ai:${model}`,
    dimensions,
    async embed(texts, purpose = 'document') {
      const out: Float32Array[] = [];
      let batch: string[] = [];
      let chars = 0;
      for (const text of texts) {
        const clipped = text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
        if (
          batch.length > 0 &&
          (batch.length === MAX_EMBEDDING_BATCH || chars + clipped.length > MAX_REQUEST_CHARS)
        ) {
          out.push(...(await request(batch, purpose)));
          batch = [];
          chars = 0;
        }
        batch.push(clipped);
        chars += clipped.length;
      }
      if (batch.length > 0) out.push(...(await request(batch, purpose)));
      return out;
    },
  };
}

const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));

function normalise(row: number[]): Float32Array {
  const out = Float32Array.from(row);
  let norm = 0;
  for (const value of out) norm += value * value;
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * inv;
  }
  return out;
}
