import { FusionAlgorithm, type Index, QueryMode, WeightingStrategy } from '@upstash/vector';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { raw, sdk, startTestVector } from './harness.ts';

describe('sparse index', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'sparse' });
    index = sdk(service);
  });
  afterAll(() => service.close());
  beforeEach(() => index.reset());

  async function seed() {
    await index.upsert([
      { id: 's1', sparseVector: { indices: [1, 2], values: [0.1, 0.2] } },
      { id: 's2', sparseVector: { indices: [2, 3], values: [0.5, 0.4] } },
      { id: 's3', sparseVector: { indices: [9], values: [1] } },
    ]);
  }

  it('scores raw sparse queries by inner product over shared dimensions only', async () => {
    await seed();
    const results = await index.query({
      sparseVector: { indices: [2, 3], values: [1, 2] },
      topK: 5,
    });
    expect(results.map((r) => r.id)).toEqual(['s2', 's1']);
    expect(results[0]?.score).toBeCloseTo(0.5 * 1 + 0.4 * 2, 6);
    expect(results[1]?.score).toBeCloseTo(0.2, 6);
  });

  it('weights query values by IDF = ln((N − n + 0.5) / (n + 0.5) + 1) when asked', async () => {
    await seed();
    const results = await index.query({
      sparseVector: { indices: [2, 3], values: [1, 2] },
      topK: 5,
      weightingStrategy: WeightingStrategy.IDF,
    });
    // N = 3; dimension 2 is in two records, dimension 3 in one.
    const idf2 = Math.log((3 - 2 + 0.5) / (2 + 0.5) + 1);
    const idf3 = Math.log((3 - 1 + 0.5) / (1 + 0.5) + 1);
    expect(results.map((r) => r.id)).toEqual(['s2', 's1']);
    expect(results[0]?.score).toBeCloseTo(1 * idf2 * 0.5 + 2 * idf3 * 0.4, 5);
    expect(results[1]?.score).toBeCloseTo(1 * idf2 * 0.2, 5);
  });

  it('returns sparse vectors sorted by index with includeVectors', async () => {
    await index.upsert({ id: 'u', sparseVector: { indices: [50, 7, 3], values: [0.5, 0.7, 0.3] } });
    expect(await index.fetch(['u'], { includeVectors: true })).toEqual([
      { id: 'u', sparseVector: { indices: [3, 7, 50], values: [0.3, 0.7, 0.5] } },
    ]);
  });

  it('encodes text with BM25 (k1 = 1.2, b = 0.75, avgdl = 32) and ranks keyword matches first', async () => {
    await index.upsert([
      { id: 'upstash', data: 'Upstash vector database' },
      { id: 'redis', data: 'Redis is an in-memory database and cache' },
      { id: 'fox', data: 'The quick brown fox jumps over the lazy dog' },
      { id: 'postgres', data: 'Postgres is a relational database' },
    ]);
    const [upstash] = await index.fetch(['upstash'], { includeVectors: true, includeData: true });
    expect(upstash?.data).toBe('Upstash vector database');
    // Three distinct terms, each once, in a 3-term document.
    const weight = (1 * (1.2 + 1)) / (1 + 1.2 * (1 - 0.75 + (0.75 * 3) / 32));
    expect(upstash?.sparseVector?.values).toHaveLength(3);
    for (const value of upstash?.sparseVector?.values ?? []) expect(value).toBeCloseTo(weight, 5);

    const results = await index.query({ data: 'vector databases', topK: 4 });
    expect(results[0]?.id).toBe('upstash');
    expect(results.map((r) => r.id)).not.toContain('fox');

    // "database" is in three of four documents: IDF makes it count less than the rare "cache".
    const plain = await index.query({ data: 'database cache', topK: 4 });
    const weighted = await index.query({
      data: 'database cache',
      topK: 4,
      weightingStrategy: WeightingStrategy.IDF,
    });
    expect(plain[0]?.id).toBe('redis');
    expect(weighted[0]?.id).toBe('redis');
    // The common term's weight shrinks (ln(1.5 / 3.5 + 1) ≈ 0.36) but stays positive.
    const common = weighted.find((r) => r.id === 'upstash')?.score ?? 0;
    expect(common).toBeGreaterThan(0);
    expect(common).toBeLessThan(plain.find((r) => r.id === 'upstash')?.score ?? 0);
  });

  it('refuses dense vectors, and sparse-less upserts', async () => {
    await expect(
      index.upsert({ id: 'd', vector: [1, 2], sparseVector: { indices: [1], values: [1] } }),
    ).rejects.toThrow('This index does not support dense vectors');
    await expect(index.query({ vector: [1, 2], topK: 1 })).rejects.toThrow(
      'This index does not support dense vectors',
    );
    const response = await raw(service, '/upsert', '{"id":"x","metadata":{}}');
    expect(response.body).toEqual({ error: 'This index requires sparse vectors', status: 400 });
  });

  it("refuses sparse vectors outside Upstash's limits", async () => {
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: [1, 2], values: [1] } }),
    ).rejects.toThrow('Sparse vector indices and values must have the same length');
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: [4, 4], values: [1, 2] } }),
    ).rejects.toThrow('Sparse vector indices must be unique');
    const many = Array.from({ length: 1001 }, (_, i) => i);
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: many, values: many } }),
    ).rejects.toThrow('at most 1000 non-zero valued dimensions');
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: [-1], values: [1] } }),
    ).rejects.toThrow('non-negative 32-bit integers');
  });

  it('reports a sparse index in info', async () => {
    await seed();
    expect(await index.info()).toMatchObject({
      vectorCount: 3,
      dimension: 0,
      indexType: 'SPARSE',
      sparseIndex: { embeddingModel: 'BM25' },
    });
  });
});

describe('hybrid index', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'hybrid', dimension: 2 });
    index = sdk(service);
    await index.upsert([
      { id: 'h1', vector: [1, 0], sparseVector: { indices: [1], values: [1] } },
      { id: 'h2', vector: [0.8, 0.6], sparseVector: { indices: [1, 2], values: [0.5, 1] } },
      { id: 'h3', vector: [0, 1], sparseVector: { indices: [2], values: [2] } },
    ]);
  });
  afterAll(() => service.close());

  // Query dense [1, 0]: h1 1, h2 0.9, h3 0.5. Query sparse {2: 1}: h3 2, h2 1, h1 no match.
  const query = { vector: [1, 0], sparseVector: { indices: [2], values: [1] }, topK: 3 };

  it('requires both dense and sparse vectors on upsert, with Upstash messages', async () => {
    await expect(index.upsert({ id: 'x', vector: [1, 0] })).rejects.toThrow(
      'This index requires sparse vectors',
    );
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: [1], values: [1] } }),
    ).rejects.toThrow('This index requires dense vectors');
    await expect(index.update({ id: 'h1', vector: [0, 1] })).rejects.toThrow(
      'This index requires sparse vectors',
    );
  });

  it('fuses dense and sparse results with RRF, 1 / (rank + 60), by default', async () => {
    const results = await index.query(query);
    const expected = { h1: 1 / 61, h2: 1 / 62 + 1 / 62, h3: 1 / 63 + 1 / 61 };
    expect(results.map((r) => r.id)).toEqual(['h3', 'h2', 'h1']);
    for (const r of results)
      expect(r.score).toBeCloseTo(expected[r.id as keyof typeof expected], 6);
    const explicit = await index.query({ ...query, fusionAlgorithm: FusionAlgorithm.RRF });
    expect(explicit).toEqual(results);
  });

  it('fuses with DBSF, (s − (μ − 3σ)) / 6σ per list, when asked', async () => {
    const results = await index.query({ ...query, fusionAlgorithm: FusionAlgorithm.DBSF });
    // Dense list [1, 0.9, 0.5]: μ = 0.8, σ ≈ 0.21602; sparse list [2, 1]: μ = 1.5, σ = 0.5.
    const expected = { h1: 0.6543033, h2: 0.5771517 + 1 / 3, h3: 0.268545 + 2 / 3 };
    expect(results.map((r) => r.id)).toEqual(['h3', 'h2', 'h1']);
    for (const r of results)
      expect(r.score).toBeCloseTo(expected[r.id as keyof typeof expected], 5);
  });

  it('queries only the dense or only the sparse side when given one vector', async () => {
    const dense = await index.query({ vector: [1, 0], topK: 3 });
    expect(dense.map((r) => [r.id, r.score])).toEqual([
      ['h1', 1],
      ['h2', 0.9],
      ['h3', 0.5],
    ]);
    const sparse = await index.query({ sparseVector: { indices: [2], values: [1] }, topK: 3 });
    expect(sparse.map((r) => [r.id, r.score])).toEqual([
      ['h3', 2],
      ['h2', 1],
    ]);
  });

  it('applies a filter on both sides before fusing', async () => {
    await index.update({ id: 'h3', metadata: { hidden: true } });
    const results = await index.query({ ...query, filter: 'HAS NOT FIELD hidden' });
    expect(results.map((r) => r.id)).toEqual(['h2', 'h1']);
    await index.update({ id: 'h3', metadata: {} });
  });

  it('returns both vectors with includeVectors and reports both components in info', async () => {
    expect(await index.fetch(['h2'], { includeVectors: true })).toEqual([
      { id: 'h2', vector: [0.8, 0.6], sparseVector: { indices: [1, 2], values: [0.5, 1] } },
    ]);
    expect(await index.info()).toMatchObject({
      indexType: 'HYBRID',
      dimension: 2,
      denseIndex: { dimension: 2, similarityFunction: 'COSINE' },
      sparseIndex: { embeddingModel: 'BM25' },
    });
  });
});

describe('hybrid index with text data', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'hybrid' });
    index = sdk(service);
    await index.upsert([
      { id: 'tea', data: 'Green tea is brewed from steamed tea leaves.' },
      {
        id: 'coffee',
        data: 'Espresso coffee is brewed by forcing hot water through ground beans.',
      },
      { id: 'bikes', data: 'Mountain bikes have suspension for rough trails.' },
    ]);
  });
  afterAll(() => service.close());

  it('embeds text into a dense vector and a BM25 sparse vector', async () => {
    const [tea] = await index.fetch(['tea'], { includeVectors: true });
    expect(tea?.vector).toHaveLength(384);
    expect(tea?.sparseVector?.indices.length).toBeGreaterThan(0);
  });

  it('honours queryMode: DENSE and SPARSE query one side, HYBRID fuses', async () => {
    const text = 'brewed tea leaves';
    const dense = await index.query({ data: text, topK: 3, queryMode: QueryMode.DENSE });
    const sparse = await index.query({ data: text, topK: 3, queryMode: QueryMode.SPARSE });
    const hybrid = await index.query({ data: text, topK: 3 });
    expect(dense[0]?.id).toBe('tea');
    expect(sparse[0]?.id).toBe('tea');
    expect(hybrid[0]?.id).toBe('tea');
    // Dense scores are normalised similarities; BM25 sums exceed 1 here; RRF stays under 2/61.
    for (const r of dense) expect(r.score).toBeLessThanOrEqual(1);
    expect(sparse[0]?.score).toBeGreaterThan(1);
    expect(sparse.map((r) => r.id)).not.toContain('bikes');
    expect(hybrid[0]?.score).toBeCloseTo(2 / 61, 6);
  });
});
