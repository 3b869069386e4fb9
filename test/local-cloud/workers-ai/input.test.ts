import { describe, expect, it } from 'vitest';
import { embedText } from '../../../shared/embeddings/local.ts';
import { countTokens, truncateToTokens } from '../../../tools/local-cloud/workers-ai/index.ts';
import { expectFailure, norm, run, useWorkersAi } from './harness.ts';

const ai = useWorkersAi();
const M3 = '@cf/baai/bge-m3';
const SMALL = '@cf/baai/bge-small-en-v1.5';

type Embeddings = { shape: number[]; data: number[][]; pooling: string };

/** `count` distinct words, one token each. */
const words = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `w${(from + i).toString(36)}`).join(' ');

describe('the text form', () => {
  it('answers a single string with shape [1, dims] and one row, in the success envelope', async () => {
    const answer = await run(ai.service, M3, { text: 'Dates and coffee in Riyadh' });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true, errors: [], messages: [] });
    const result = answer.body.result as Embeddings;
    expect(Object.keys(result).sort()).toEqual(['data', 'pooling', 'shape']);
    expect(result.shape).toEqual([1, 1024]);
    expect(result.pooling).toBe('cls');
    expect(result.data).toHaveLength(1);
    expect(result.data[0]).toHaveLength(1024);
    expect(norm(result.data[0] as number[])).toBeCloseTo(1, 5);
    expect(result.data[0]).toEqual(Array.from(embedText('Dates and coffee in Riyadh', 1024)));
  });

  it('answers an array with one row per text, in order', async () => {
    const texts = ['one', 'two', 'three'];
    const result = (await run(ai.service, SMALL, { text: texts })).body.result as Embeddings;
    expect(result.shape).toEqual([3, 384]);
    expect(result.data).toEqual(texts.map((t) => Array.from(embedText(t, 384))));
  });

  it('takes exactly 100 texts', async () => {
    const answer = await run(ai.service, M3, {
      text: Array.from({ length: 100 }, (_, i) => `${i}`),
    });
    expect(answer.status).toBe(200);
    expect((answer.body.result as Embeddings).shape).toEqual([100, 1024]);
  });

  it('echoes pooling on the English models (mean by default), and always cls on bge-m3', async () => {
    const pooling = async (model: string, body: object) =>
      ((await run(ai.service, model, { text: 'x', ...body })).body.result as Embeddings).pooling;
    expect(await pooling(SMALL, {})).toBe('mean');
    expect(await pooling(SMALL, { pooling: 'cls' })).toBe('cls');
    expect(await pooling('@cf/baai/bge-large-en-v1.5', { pooling: 'mean' })).toBe('mean');
    expect(await pooling(M3, {})).toBe('cls');
    // bge-m3 has no pooling field; an unknown field is ignored.
    expect(await pooling(M3, { pooling: 'mean', extra: 1 })).toBe('cls');
  });
});

describe('the model context', () => {
  const long = words(8200);

  it('refuses a text over 8,192 tokens when truncate_inputs is absent or false', async () => {
    for (const body of [{ text: ['short', long] }, { text: [long], truncate_inputs: false }]) {
      const message = expectFailure(await run(ai.service, M3, body), 400, 5006);
      expect(message).toMatch(/^Error: '\/text\/\d' is about 8200 tokens long, more than the 8192/);
      expect(message).toContain('truncate_inputs');
    }
    const single = expectFailure(await run(ai.service, M3, { text: long }), 400, 5006);
    expect(single).toMatch(/^Error: '\/text' is about/);
  });

  it('takes a text of exactly 8,192 tokens without truncation', async () => {
    const answer = await run(ai.service, M3, { text: words(8192) });
    expect(answer.status).toBe(200);
  });

  it('embeds the first 8,192 tokens when truncate_inputs is true', async () => {
    const answer = await run(ai.service, M3, { text: [long], truncate_inputs: true });
    expect(answer.status).toBe(200);
    const [row] = (answer.body.result as Embeddings).data;
    expect(row).toEqual(Array.from(embedText(truncateToTokens(long, 8192), 1024)));
    expect(row).not.toEqual(Array.from(embedText(long, 1024)));
  });

  it('gives the English models 512 tokens', async () => {
    expectFailure(
      await run(ai.service, SMALL, { text: words(513) }),
      400,
      5006,
      /more than the 512/,
    );
    expect((await run(ai.service, SMALL, { text: words(512) })).status).toBe(200);
    expect((await run(ai.service, SMALL, { text: words(513), truncate_inputs: true })).status).toBe(
      200,
    );
  });
});

describe('approximate tokens', () => {
  it('counts words, punctuation, CJK characters and long runs', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('   \n\t')).toBe(0);
    expect(countTokens('Hello, world!')).toBe(4);
    expect(countTokens('قهوة عربية')).toBe(2);
    expect(countTokens('東京タワー')).toBe(5);
    expect(countTokens('a'.repeat(25))).toBe(3);
    expect(countTokens("don't")).toBe(3);
  });

  it('truncates at a token boundary, inside a long run if need be', () => {
    expect(truncateToTokens('one two three four', 2)).toBe('one two');
    expect(truncateToTokens('one two', 5)).toBe('one two');
    expect(truncateToTokens('one, two', 2)).toBe('one,');
    expect(truncateToTokens('a'.repeat(25), 2)).toBe('a'.repeat(20));
    expect(truncateToTokens('ab', 0)).toBe('');
    for (const [text, max] of [
      [words(100), 37],
      ['x'.repeat(1000), 7],
    ] as const) {
      expect(countTokens(truncateToTokens(text, max))).toBe(max);
    }
    // Never half of a surrogate pair: 𝐚 is one letter in two code units.
    // Ten code units from the start of 'b𝐚𝐚…' end inside the fifth 𝐚.
    expect(truncateToTokens(`b${'𝐚'.repeat(20)}`, 1)).toBe(`b${'𝐚'.repeat(4)}`);
  });
});

describe('bge-m3 contexts', () => {
  const contexts = [
    { text: 'The cat is sleeping on the sofa.' },
    { text: 'Quarterly profits hit a record, the company said.' },
    { text: 'A cat sleeps on the couch.' },
  ];

  it('embeds contexts without a query as {response, shape, pooling}', async () => {
    const answer = await run(ai.service, M3, { contexts });
    expect(answer.status).toBe(200);
    const result = answer.body.result as { response: number[][]; shape: number[]; pooling: string };
    expect(result.shape).toEqual([3, 1024]);
    expect(result.pooling).toBe('cls');
    expect(result.response).toEqual(contexts.map((c) => Array.from(embedText(c.text, 1024))));
  });

  it('ranks contexts against a query by score, best first, ids being context indexes', async () => {
    const answer = await run(ai.service, M3, { query: 'a sleeping cat', contexts });
    expect(answer.status).toBe(200);
    const { response } = answer.body.result as { response: { id: number; score: number }[] };
    expect(response.map((r) => r.id).sort()).toEqual([0, 1, 2]);
    expect(response.at(-1)?.id).toBe(1);
    for (let i = 1; i < response.length; i++) {
      expect(response[i - 1]!.score).toBeGreaterThanOrEqual(response[i]!.score);
    }
    expect(response[0]!.score).toBeGreaterThan(0);
    expect(response[0]!.score).toBeLessThanOrEqual(1);
  });

  it('treats a context without text as empty text', async () => {
    const answer = await run(ai.service, M3, { contexts: [{}] });
    expect(answer.status).toBe(200);
    expect((answer.body.result as { shape: number[] }).shape).toEqual([1, 1024]);
  });
});
