import { type Context, Hono } from 'hono';
import type { EmbeddingProvider } from '../../../shared/embeddings/interface.ts';
import { createLocalEmbeddingProvider } from '../../../shared/embeddings/local.ts';
import { bearer, sameToken } from '../http.ts';
import { authenticationError, ERROR_CODES, invalidInput, WorkersAiApiError } from './errors.ts';
import { type EmbeddingRequest, parseEmbeddingRequest } from './input.ts';
import { LOCAL_INSTRUCTION_MODELS, parseChatRequest, runInstruction } from './instruct.ts';
import { LOCAL_MODELS, type LocalModel } from './models.ts';

export type WorkersAiAppOptions = {
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** The one account the service answers for (`/accounts/{accountId}/...`). */
  accountId: string;
};

/** Where the API lives under the origin, as on `https://api.cloudflare.com/client/v4`. */
export const API_PREFIX = '/client/v4';
const RUN_ROUTE = `${API_PREFIX}/accounts/:account_id/ai/run/*`;

/**
 * Workers AI's REST API for its text-embedding models and, for Sift's document enrichment, its
 * instruction models (`./instruct.ts`: the extractive engine answers in their place):
 * `POST /client/v4/accounts/{account_id}/ai/run/{model}` (the model name holds slashes, e.g.
 * `@cf/baai/bge-m3`), answered in Cloudflare's envelope `{result, success, errors, messages}`.
 * Vectors come from the local feature-hashing model at the real model's dimensions.
 *
 * Checks, in order: a route that is not this one → 404 (7000); a method other than POST →
 * 405 (10405); no or a wrong bearer token → 401 (10000); another account → 403 (10000); a model
 * that is not served → 400 (5007); a body that fails the model's input schema → 400 (5006).
 */
export function createWorkersAiApp(options: WorkersAiAppOptions): Hono {
  const providers = new Map<string, EmbeddingProvider>();
  const providerFor = (model: LocalModel) => {
    let provider = providers.get(model.name);
    if (!provider) {
      provider = createLocalEmbeddingProvider({ dimensions: model.dimensions });
      providers.set(model.name, provider);
    }
    return provider;
  };

  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof WorkersAiApiError) return failure(c, error);
    console.error('[local-cloud/workers-ai] unexpected error', error);
    return failure(c, new WorkersAiApiError(500, ERROR_CODES.internal, 'Internal server error'));
  });
  app.notFound((c) =>
    failure(c, new WorkersAiApiError(404, ERROR_CODES.noRoute, 'No route for that URI')),
  );

  app.all(RUN_ROUTE, async (c) => {
    const pathname = new URL(c.req.url).pathname;
    const model = decodePath(pathname.slice(pathname.indexOf('/ai/run/') + '/ai/run/'.length));
    if (model === undefined || model === '') {
      throw new WorkersAiApiError(404, ERROR_CODES.noRoute, 'No route for that URI');
    }
    if (c.req.method !== 'POST') {
      throw new WorkersAiApiError(405, ERROR_CODES.methodNotAllowed, 'Method not allowed');
    }
    if (!sameToken(bearer(c.req.header('authorization')), options.token)) {
      throw authenticationError();
    }
    const account = c.req.param('account_id');
    if (account !== options.accountId) {
      throw new WorkersAiApiError(
        403,
        ERROR_CODES.authentication,
        `Authentication error: the token is not valid for account ${JSON.stringify(account)} ` +
          `(this local Workers AI serves account ${JSON.stringify(options.accountId)})`,
      );
    }
    const local = LOCAL_MODELS.get(model);
    const instruction = LOCAL_INSTRUCTION_MODELS.get(model);
    if (!local && !instruction) {
      const served = [...LOCAL_MODELS.keys(), ...LOCAL_INSTRUCTION_MODELS.keys()];
      throw new WorkersAiApiError(
        400,
        ERROR_CODES.noSuchModel,
        `No such model ${model} or task (the local Workers AI serves ${served.join(', ')})`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw invalidInput('Error: the request body is not valid JSON');
    }
    if (instruction) {
      const result = runInstruction(instruction, parseChatRequest(body));
      return c.json({ result, success: true, errors: [], messages: [] });
    }
    if (!local) throw new Error('unreachable: a served model is one kind or the other');
    const request = parseEmbeddingRequest(body, local);
    return c.json({
      result: await run(providerFor(local), local, request),
      success: true,
      errors: [],
      messages: [],
    });
  });
  return app;
}

async function run(provider: EmbeddingProvider, model: LocalModel, request: EmbeddingRequest) {
  const shape = (rows: number) => [rows, model.dimensions];
  if (request.kind === 'text') {
    const vectors = await provider.embed(request.texts, 'document');
    return { shape: shape(vectors.length), data: vectors.map(plain), pooling: request.pooling };
  }
  const contexts = await provider.embed(request.contexts, 'document');
  if (request.query === undefined) {
    return {
      response: contexts.map(plain),
      shape: shape(contexts.length),
      pooling: model.defaultPooling,
    };
  }
  // A ranking of the contexts by cosine similarity to the query (the vectors are unit length).
  const [query] = await provider.embed([request.query], 'query');
  const response = contexts
    .map((context, id) => ({ id, score: dot(query as Float32Array, context) }))
    .sort((a, b) => b.score - a.score || a.id - b.id);
  return { response };
}

function failure(c: Context, error: WorkersAiApiError) {
  return c.json(
    {
      result: null,
      success: false,
      errors: [{ code: error.code, message: error.message }],
      messages: [],
    },
    error.status,
  );
}

function decodePath(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

const plain = (vector: Float32Array) => Array.from(vector);

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}
