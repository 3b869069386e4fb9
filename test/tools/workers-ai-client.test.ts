import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorkersAiEmbeddingProvider,
  MAX_EMBEDDING_BATCH,
  MAX_TEXT_CHARS,
  WorkersAiError,
} from '../../shared/embeddings/workers-ai.ts';

// The client's handling of what a remote API can do that the local cloud's Workers AI never does
// on its own: rate limits and outages, malformed answers. A scripted HTTP server plays Cloudflare;
// the happy paths and Cloudflare's error answers are tested against the local cloud's Workers AI
// (test/local-cloud/workers-ai).

type Answer = { status: number; body: unknown; delayMs?: number };
type Seen = { url: string; authorization: string | undefined; text: string[] };

let answers: Answer[] = [];
let seen: Seen[] = [];
let url = '';
const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { text } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string[] };
  seen.push({ url: request.url ?? '', authorization: request.headers.authorization, text });
  const answer = answers.shift() ?? ok(text.length);
  if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
  if (response.destroyed) return;
  response.writeHead(answer.status, { 'content-type': 'application/json' });
  response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
});

/** bge-small-en-v1.5's size. */
const DIMENSIONS = 384;
/** A successful answer of `n` rows, row i = [i + 1, 0, 0, …] (norm i + 1). */
const ok = (n: number): Answer => ({
  status: 200,
  body: {
    result: {
      shape: [n, DIMENSIONS],
      data: Array.from({ length: n }, (_, i) => [i + 1, ...new Array(DIMENSIONS - 1).fill(0)]),
    },
    success: true,
    errors: [],
    messages: [],
  },
});
const failure = (status: number, code: number, message: string): Answer => ({
  status,
  body: { result: null, success: false, errors: [{ code, message }], messages: [] },
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  answers = [];
  seen = [];
});

const provider = (options: { retries?: number } = {}) =>
  createWorkersAiEmbeddingProvider({
    accountId: 'acc/1',
    apiToken: 'secret-token',
    apiUrl: `${url}/`,
    retries: options.retries ?? 2,
    model: '@cf/baai/bge-small-en-v1.5',
  });

describe('Workers AI embedding client', () => {
  it('posts to the model of the account, with the token, and normalises the vectors', async () => {
    const vectors = await provider().embed(['a', 'b']);
    expect(seen).toEqual([
      {
        url: '/client/v4/accounts/acc%2F1/ai/run/@cf/baai/bge-small-en-v1.5',
        authorization: 'Bearer secret-token',
        text: ['a', 'b'],
      },
    ]);
    // Rows of norm 1 and 2, both made unit length.
    expect(vectors.map((v) => Array.from(v.slice(0, 2)))).toEqual([
      [1, 0],
      [1, 0],
    ]);
    expect(vectors.every((v) => v.length === DIMENSIONS)).toBe(true);
  });

  it('retries a rate limit and an outage, then answers', async () => {
    answers = [failure(429, 3040, 'Capacity temporarily exceeded'), failure(503, 0, 'down')];
    expect(await provider().embed(['a'])).toHaveLength(1);
    expect(seen).toHaveLength(3);
  });

  it('gives up after its retries with the status and Cloudflare’s message', async () => {
    answers = [failure(503, 1, 'down'), failure(503, 1, 'down'), failure(503, 7, 'still down')];
    const error = await provider()
      .embed(['a'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkersAiError);
    expect(error).toMatchObject({ status: 503, message: expect.stringContaining('7 still down') });
    expect(seen).toHaveLength(3);
  });

  it('retries a query once: a search would rather answer without it than wait', async () => {
    answers = [failure(503, 1, 'down'), failure(503, 1, 'down'), failure(503, 1, 'down')];
    await expect(provider().embed(['a'], 'query')).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(2);
  });

  it('gives up on a query that takes too long', async () => {
    answers = [{ status: 200, body: '', delayMs: 500 }];
    const slow = createWorkersAiEmbeddingProvider({
      accountId: 'acc',
      apiToken: 'secret-token',
      apiUrl: url,
      retries: 0,
      model: '@cf/baai/bge-small-en-v1.5',
      queryTimeoutMs: 100,
    });
    const started = Date.now();
    await expect(slow.embed(['a'], 'query')).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('does not retry a request Cloudflare refused', async () => {
    answers = [failure(400, 5006, "Error: required properties at '/' are 'text'")];
    await expect(provider().embed(['a'])).rejects.toMatchObject({ status: 400 });
    expect(seen).toHaveLength(1);
  });

  it('refuses an answer that is not one vector of the model’s size per text', async () => {
    answers = [ok(1)];
    await expect(provider().embed(['a', 'b'])).rejects.toMatchObject({ status: 0 });
    answers = [{ status: 200, body: 'not json' }];
    await expect(provider({ retries: 0 }).embed(['a'])).rejects.toBeInstanceOf(WorkersAiError);
  });

  it('splits large batches and clips long texts', async () => {
    const texts = Array.from({ length: MAX_EMBEDDING_BATCH + 1 }, (_, i) => `text ${i}`);
    texts[0] = 'x'.repeat(MAX_TEXT_CHARS + 10);
    expect(await provider().embed(texts)).toHaveLength(texts.length);
    expect(seen.map((s) => s.text.length)).toEqual([MAX_EMBEDDING_BATCH, 1]);
    expect(seen[0]!.text[0]).toHaveLength(MAX_TEXT_CHARS);
  });
});
