import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../../../shared/embeddings/local.ts';
import {
  createWorkersAiEmbeddingProvider,
  WORKERS_AI_EMBEDDING_MODELS,
  type WorkersAiEmbeddingModel,
  WorkersAiError,
} from '../../../shared/embeddings/workers-ai.ts';
import { startWorkersAi } from '../../../tools/local-cloud/workers-ai/index.ts';
import { ACCOUNT, norm, TOKEN, useWorkersAi } from './harness.ts';

const ai = useWorkersAi();

/** Sift's production client, pointed at the local service. */
function client(model?: WorkersAiEmbeddingModel, apiToken = TOKEN) {
  return createWorkersAiEmbeddingProvider({
    accountId: ACCOUNT,
    apiToken,
    apiUrl: ai.service.apiUrl,
    model,
    retries: 0,
  });
}

const MODELS = Object.keys(WORKERS_AI_EMBEDDING_MODELS) as WorkersAiEmbeddingModel[];

describe('the Workers AI client against the local service', () => {
  it('reports what it serves: name, apiUrl under /client/v4, token and account', () => {
    const { service } = ai;
    expect(service.name).toBe('workers-ai');
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(service.port).toBeGreaterThan(0);
    expect(service.apiUrl).toBe(`${service.url}/client/v4`);
    expect(service.token).toBe(TOKEN);
    expect(service.accountId).toBe(ACCOUNT);
  });

  it.each(MODELS)('embeds with %s at its dimensions, as unit vectors', async (model) => {
    const { dimensions } = WORKERS_AI_EMBEDDING_MODELS[model];
    const provider = client(model);
    expect(provider.dimensions).toBe(dimensions);
    const vectors = await provider.embed(['Dates and coffee in Riyadh', 'تمر وقهوة في الرياض', '']);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(dimensions);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
  });

  it('answers what the local model gives for the same texts at the same dimensions', async () => {
    const texts = ['The cat sleeps on the sofa.', 'قطة تنام فوق الكنبة', 'Quarterly profits'];
    for (const model of MODELS) {
      const local = createLocalEmbeddingProvider({
        dimensions: WORKERS_AI_EMBEDDING_MODELS[model].dimensions,
      });
      const expected = await local.embed(texts);
      const actual = await client(model).embed(texts);
      actual.forEach((vector, i) => {
        const want = expected[i] as Float32Array;
        for (let d = 0; d < vector.length; d++) {
          expect(vector[d]).toBeCloseTo(want[d] as number, 6);
        }
      });
    }
  });

  it('is deterministic across requests and across services', async () => {
    const text = 'Determinism matters: نفس النص، نفس المتجه.';
    const [a] = await client().embed([text]);
    const [b] = await client()
      .embed(['something else', text])
      .then((v) => v.slice(1));
    const other = await startWorkersAi({ port: 0, token: 't', accountId: 'acc' });
    try {
      const [c] = await createWorkersAiEmbeddingProvider({
        accountId: 'acc',
        apiToken: 't',
        apiUrl: other.apiUrl,
      }).embed([text]);
      expect(Array.from(b as Float32Array)).toEqual(Array.from(a as Float32Array));
      expect(Array.from(c as Float32Array)).toEqual(Array.from(a as Float32Array));
    } finally {
      await other.close();
    }
  });

  it('gets more than 100 texts in order, in requests the client splits at 100', async () => {
    const texts = Array.from(
      { length: 250 },
      (_, i) => `document number ${i} about topic ${i % 7}`,
    );
    let requests = 0;
    const counting = createWorkersAiEmbeddingProvider({
      accountId: ACCOUNT,
      apiToken: TOKEN,
      apiUrl: ai.service.apiUrl,
      fetch: (input, init) => {
        requests++;
        return fetch(input, init);
      },
    });
    const vectors = await counting.embed(texts);
    expect(requests).toBe(3);
    expect(vectors).toHaveLength(250);
    const expected = await createLocalEmbeddingProvider({ dimensions: 1024 }).embed(texts);
    for (const i of [0, 99, 100, 199, 200, 249]) {
      expect(Array.from(vectors[i] as Float32Array).slice(0, 16)).toEqual(
        Array.from(expected[i] as Float32Array)
          .slice(0, 16)
          .map((x) => expect.closeTo(x, 6)),
      );
    }
  });

  it('embeds a long text cut to the model context (the client asks for truncation)', async () => {
    // 15,000 one-letter words: under the client's 32,000 characters, over bge-m3's 8,192 tokens.
    const long = Array.from({ length: 15_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(
      ' ',
    );
    const [vector] = await client().embed([long]);
    expect(vector).toHaveLength(1024);
    expect(norm(vector as Float32Array)).toBeCloseTo(1, 5);
  });

  it('surfaces a wrong token as a WorkersAiError with status 401', async () => {
    const error = await client(undefined, 'wrong-token')
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkersAiError);
    expect(error).toMatchObject({ status: 401 });
    expect((error as Error).message).toContain('10000 Authentication error');
  });

  it('surfaces another account as a WorkersAiError with status 403', async () => {
    const error = await createWorkersAiEmbeddingProvider({
      accountId: 'someone-else',
      apiToken: TOKEN,
      apiUrl: ai.service.apiUrl,
      retries: 0,
    })
      .embed(['x'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkersAiError);
    expect(error).toMatchObject({ status: 403 });
  });
});
