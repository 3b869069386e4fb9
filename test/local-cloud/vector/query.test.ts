import type { Index } from '@upstash/vector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { cosine, random, raw, sdk, startTestVector } from './harness.ts';

describe('scores are normalised as Upstash documents for each similarity', () => {
  // Query [1, 0] against a = [1, 0], c = [0.6, 0.8], b = [0, 1].
  const cases = [
    // cosine: (1 + cos) / 2
    { similarity: 'COSINE', expected: { a: 1, c: 0.8, b: 0.5 } },
    // euclidean: 1 / (1 + squared distance); |a−q|² = 0, |c−q|² = 0.8, |b−q|² = 2
    { similarity: 'EUCLIDEAN', expected: { a: 1, c: 1 / 1.8, b: 1 / 3 } },
    // dot product: (1 + dot) / 2
    { similarity: 'DOT_PRODUCT', expected: { a: 1, c: 0.8, b: 0.5 } },
  ] as const;

  for (const { similarity, expected } of cases) {
    it(`scores ${similarity}`, async () => {
      const service = await startTestVector({ kind: 'dense', dimension: 2, similarity });
      try {
        const index = sdk(service);
        await index.upsert([
          { id: 'a', vector: [1, 0] },
          { id: 'b', vector: [0, 1] },
          { id: 'c', vector: [0.6, 0.8] },
        ]);
        const results = await index.query({ vector: [1, 0], topK: 3 });
        expect(results.map((r) => r.id)).toEqual(['a', 'c', 'b']);
        for (const r of results) {
          expect(r.score).toBeCloseTo(expected[r.id as keyof typeof expected], 6);
        }
        expect((await index.info()).similarityFunction).toBe(similarity);
      } finally {
        await service.close();
      }
    });
  }
});

describe('dense queries', () => {
  const dimension = 16;
  const count = 3000;
  const rnd = random(42);
  const vectors = Array.from({ length: count }, () =>
    Array.from({ length: dimension }, () => rnd() - 0.5),
  );
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense', dimension });
    index = sdk(service);
    for (let start = 0; start < count; start += 1000) {
      await index.upsert(
        vectors.slice(start, start + 1000).map((vector, j) => {
          const i = start + j;
          return {
            id: `v${i}`,
            vector,
            metadata: { bucket: i % 20, even: i % 2 === 0 },
            data: `text ${i}`,
          };
        }) as never,
      );
    }
  });
  afterAll(() => service.close());

  /** The exact answer, computed here by brute force. */
  function bruteForce(query: number[], k: number, keep: (i: number) => boolean = () => true) {
    return vectors
      .map((v, i) => ({ id: `v${i}`, score: (1 + cosine(query, v)) / 2, i }))
      .filter(({ i }) => keep(i))
      .sort((x, y) => y.score - x.score)
      .slice(0, k);
  }

  it('returns the exact top-K, best first', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const query = Array.from({ length: dimension }, () => rnd() - 0.5);
      const results = await index.query({ vector: query, topK: 10 });
      const expected = bruteForce(query, 10);
      expect(results.map((r) => r.id)).toEqual(expected.map((e) => e.id));
      results.forEach((r, i) => {
        expect(r.score).toBeCloseTo(expected[i]?.score ?? Number.NaN, 5);
      });
    }
  });

  it('returns the exact top-K under a selective filter (pre-filtered) and a broad one (lazily checked)', async () => {
    const query = Array.from({ length: dimension }, () => rnd() - 0.5);
    const selective = await index.query({ vector: query, topK: 7, filter: 'bucket = 3' });
    expect(selective.map((r) => r.id)).toEqual(
      bruteForce(query, 7, (i) => i % 20 === 3).map((e) => e.id),
    );
    const broad = await index.query({
      vector: query,
      topK: 7,
      filter: 'bucket != 3 AND even = true',
    });
    expect(broad.map((r) => r.id)).toEqual(
      bruteForce(query, 7, (i) => i % 20 !== 3 && i % 2 === 0).map((e) => e.id),
    );
    expect(await index.query({ vector: query, topK: 7, filter: 'bucket > 100' })).toEqual([]);
  });

  it('includes vectors, metadata and data only when asked', async () => {
    const query = vectors[5] as number[];
    const [bare] = await index.query({ vector: query, topK: 1 });
    expect(bare).toEqual({ id: 'v5', score: 1 });
    const [full] = await index.query({
      vector: query,
      topK: 1,
      includeVectors: true,
      includeMetadata: true,
      includeData: true,
    });
    expect(full).toMatchObject({
      id: 'v5',
      score: 1,
      metadata: { bucket: 5, even: false },
      data: 'text 5',
    });
    expect(full?.vector).toHaveLength(dimension);
    full?.vector?.forEach((x, i) => {
      expect(x).toBeCloseTo(query[i] as number, 6);
    });
  });

  it('defaults topK to 10 and honours topK larger than the index', async () => {
    const response = await raw(service, '/query', JSON.stringify({ vector: vectors[0] }));
    expect((response.body as { result: unknown[] }).result).toHaveLength(10);
    const small = await startTestVector({ kind: 'dense', dimension: 2 });
    try {
      await sdk(small).upsert([
        { id: 'x', vector: [1, 0] },
        { id: 'y', vector: [0, 1] },
      ]);
      expect(await sdk(small).query({ vector: [1, 1], topK: 100 })).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it('answers query-many with one result list per query', async () => {
    const results = await index.queryMany([
      { vector: vectors[1] as number[], topK: 1 },
      { vector: vectors[2] as number[], topK: 2, filter: 'even = true' },
    ]);
    expect(results).toHaveLength(2);
    expect(results[0]?.map((r) => r.id)).toEqual(['v1']);
    expect(results[1]?.[0]?.id).toBe('v2');
    expect(results[1]).toHaveLength(2);
  });

  it('answers a one-query array with a flat list, as Upstash does (the SDK re-wraps it)', async () => {
    const response = await raw(
      service,
      '/query',
      JSON.stringify([{ vector: vectors[3], topK: 2 }]),
    );
    const result = (response.body as { result: unknown[] }).result;
    expect(result).toHaveLength(2);
    expect(result[0]).toMatchObject({ id: 'v3', score: 1 });
    const viaSdk = await index.queryMany([{ vector: vectors[3] as number[], topK: 2 }]);
    expect(viaSdk[0]?.[0]?.id).toBe('v3');
  });

  it('continues a resumable query page by page, then stops it', async () => {
    const query = vectors[9] as number[];
    const expected = bruteForce(query, 8).map((e) => e.id);
    const { result, fetchNext, stop } = await index.resumableQuery({
      vector: query,
      topK: 3,
      maxIdle: 60,
      includeMetadata: true,
    });
    expect(result.map((r) => r.id)).toEqual(expected.slice(0, 3));
    expect(result[0]?.metadata).toEqual({ bucket: 9, even: false });
    const next = await fetchNext(5);
    expect(next.map((r) => r.id)).toEqual(expected.slice(3, 8));
    expect(next[0]?.metadata).toBeDefined();
    expect(await stop()).toBe('Success');
    const again = await raw(
      service,
      '/resumable-query-next',
      JSON.stringify({ uuid: 'nope', additionalK: 1 }),
    );
    expect(again.status).toBe(404);
  });
});
