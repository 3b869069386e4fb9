import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionAlgorithm, type Index, WeightingStrategy } from '@upstash/vector';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../../../shared/embeddings/local.ts';
import { DEFAULT_VECTOR_INDEX } from '../../../tools/local-cloud/index.ts';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { raw, sdk, startTestVector } from './harness.ts';

const NOT_ALLOWED =
  'Embedding data for this index is not allowed. The index must be created with an embedding model to use it.';

describe('a hybrid index without embedding models (custom vectors)', () => {
  let service: VectorService;
  let index: Index<{ n?: number; kind?: string }>;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'hybrid', dimension: 4, embedding: null });
    index = sdk(service);
  });
  afterAll(() => service.close());
  beforeEach(() => index.reset({ all: true }));

  async function seed() {
    await index.upsert([
      {
        id: 'a',
        vector: [1, 0, 0, 0],
        sparseVector: { indices: [1, 2], values: [1, 1] },
        metadata: { n: 1, kind: 'note' },
        // The SDK's types leave `data` out of a vector payload; Upstash stores it all the same.
        data: 'alpha text',
      } as never,
      {
        id: 'b',
        vector: [0.8, 0.6, 0, 0],
        sparseVector: { indices: [2, 3], values: [1, 2] },
        metadata: { n: 2 },
      },
      { id: 'c', vector: [0, 0, 1, 0], sparseVector: { indices: [9], values: [3] } },
    ]);
  }

  it('refuses text data on every SDK path that embeds it, with Upstash message', async () => {
    await seed();
    const refusals = [
      index.upsert({ id: 'x', data: 'some text' }),
      index.upsert([
        { id: 'x', data: 'one' },
        { id: 'y', data: 'two' },
      ]),
      index.namespace('other').upsert({ id: 'x', data: 'text', metadata: { n: 3 } }),
      index.query({ data: 'alpha', topK: 1 }),
      index.namespace('other').query({ data: 'alpha', topK: 1 }),
      index.resumableQuery({ data: 'alpha', topK: 1, maxIdle: 60 }),
    ];
    for (const refusal of refusals) await expect(refusal).rejects.toThrow(NOT_ALLOWED);
    // Nothing was written, no namespace was made.
    expect((await index.info()).vectorCount).toBe(3);
    expect(await index.listNamespaces()).toEqual(['']);
  });

  it('answers each data endpoint with HTTP 400 and {error, status}', async () => {
    const cases: [string, string][] = [
      ['/upsert-data', '{"id":"x","data":"text"}'],
      ['/upsert-data/ns', '[{"id":"x","data":"text"}]'],
      ['/query-data', '{"data":"text","topK":1}'],
      ['/resumable-query-data', '{"data":"text","topK":1}'],
      // Text without vectors on the vector endpoints asks for the same embedding.
      ['/upsert', '[{"id":"x","data":"text"}]'],
      ['/query', '{"data":"text","topK":1}'],
    ];
    for (const [path, body] of cases) {
      const answer = await raw(service, path, body);
      expect(answer.status, path).toBe(400);
      expect(answer.body, path).toEqual({ error: NOT_ALLOWED, status: 400 });
    }
  });

  it('refuses a whole /upsert batch when one item is text only', async () => {
    const answer = await raw(
      service,
      '/upsert',
      JSON.stringify([
        { id: 'ok', vector: [1, 0, 0, 0], sparseVector: { indices: [1], values: [1] } },
        { id: 'text', data: 'no vectors' },
      ]),
    );
    expect(answer.status).toBe(400);
    expect(await index.fetch(['ok'])).toEqual([null]);
  });

  it('stores data given next to vectors, and returns it', async () => {
    await seed();
    expect(await index.fetch(['a', 'b'], { includeData: true, includeMetadata: true })).toEqual([
      { id: 'a', metadata: { n: 1, kind: 'note' }, data: 'alpha text' },
      { id: 'b', metadata: { n: 2 } },
    ]);
    const [hit] = await index.query({
      vector: [1, 0, 0, 0],
      sparseVector: { indices: [1], values: [1] },
      topK: 1,
      includeData: true,
    });
    expect(hit).toMatchObject({ id: 'a', data: 'alpha text' });
  });

  it('updates data alone as stored text, leaving the vectors as they were', async () => {
    await seed();
    const before = await index.fetch(['a'], { includeVectors: true });
    expect(await index.update({ id: 'a', data: 'new text' })).toEqual({ updated: 1 });
    const after = await index.fetch(['a'], { includeVectors: true, includeData: true });
    expect(after).toEqual([{ ...before[0], data: 'new text' }]);
  });

  it('queries dense vectors, sparse vectors with IDF, and both fused', async () => {
    await seed();
    const dense = await index.query({ vector: [1, 0, 0, 0], topK: 3 });
    expect(dense.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(dense[0]?.score).toBeCloseTo(1, 6);

    const sparse = await index.query({
      sparseVector: { indices: [2, 3], values: [1, 1] },
      weightingStrategy: WeightingStrategy.IDF,
      topK: 3,
    });
    // N = 3: dimension 2 is in a and b, dimension 3 in b only.
    const idf2 = Math.log((3 - 2 + 0.5) / (2 + 0.5) + 1);
    const idf3 = Math.log((3 - 1 + 0.5) / (1 + 0.5) + 1);
    expect(sparse.map((r) => r.id)).toEqual(['b', 'a']);
    expect(sparse[0]?.score).toBeCloseTo(idf2 * 1 + idf3 * 2, 5);
    expect(sparse[1]?.score).toBeCloseTo(idf2 * 1, 5);

    for (const fusionAlgorithm of [FusionAlgorithm.RRF, FusionAlgorithm.DBSF]) {
      const hybrid = await index.query({
        vector: [0, 0, 1, 0],
        sparseVector: { indices: [9], values: [1] },
        fusionAlgorithm,
        topK: 1,
      });
      expect(hybrid.map((r) => r.id)).toEqual(['c']);
    }
  });

  it('still requires both vectors on a hybrid upsert', async () => {
    await expect(index.upsert({ id: 'x', vector: [1, 0, 0, 0] })).rejects.toThrow(
      'This index requires sparse vectors',
    );
    await expect(
      index.upsert({ id: 'x', sparseVector: { indices: [1], values: [1] }, data: 'text' }),
    ).rejects.toThrow('This index requires dense vectors');
  });

  it('reports no embedding model in info', async () => {
    const info = await index.info();
    expect(info).toMatchObject({
      dimension: 4,
      similarityFunction: 'COSINE',
      indexType: 'HYBRID',
      denseIndex: { dimension: 4, similarityFunction: 'COSINE' },
      sparseIndex: {},
    });
    expect(info.denseIndex).not.toHaveProperty('embeddingModel');
    expect(info.sparseIndex).not.toHaveProperty('embeddingModel');
  });
});

describe('other indexes without embedding models', () => {
  it('is what the local cloud starts by default: hybrid, 1024, cosine, no models', async () => {
    expect(DEFAULT_VECTOR_INDEX).toEqual({
      kind: 'hybrid',
      dimension: 1024,
      similarity: 'COSINE',
      embedding: null,
    });
    const service = await startTestVector(DEFAULT_VECTOR_INDEX);
    try {
      const index = sdk(service);
      const [vector] = await createLocalEmbeddingProvider({ dimensions: 1024 }).embed([
        'Dates and coffee in Riyadh',
      ]);
      await index.upsert({
        id: 'doc',
        vector: Array.from(vector as Float32Array),
        sparseVector: { indices: [11, 42], values: [0.5, 1.5] },
      });
      const [hit] = await index.query({ vector: Array.from(vector as Float32Array), topK: 1 });
      expect(hit?.id).toBe('doc');
      expect(hit?.score).toBeCloseTo(1, 5);
      await expect(index.upsert({ id: 'x', data: 'text' })).rejects.toThrow(NOT_ALLOWED);
    } finally {
      await service.close();
    }
  });

  it('refuses data on a sparse index without a model, and takes sparse vectors', async () => {
    const service = await startTestVector({ kind: 'sparse', embedding: null });
    try {
      const index = sdk(service);
      await expect(index.upsert({ id: 'x', data: 'text' })).rejects.toThrow(NOT_ALLOWED);
      await expect(index.query({ data: 'text', topK: 1 })).rejects.toThrow(NOT_ALLOWED);
      await index.upsert({ id: 's', sparseVector: { indices: [3], values: [1] } });
      const [hit] = await index.query({ sparseVector: { indices: [3], values: [2] }, topK: 1 });
      expect(hit).toMatchObject({ id: 's', score: 2 });
      expect((await index.info()).sparseIndex).toEqual({});
    } finally {
      await service.close();
    }
  });

  it('refuses data on a dense index without a model', async () => {
    const service = await startTestVector({ kind: 'dense', dimension: 2, embedding: null });
    try {
      const index = sdk(service);
      await expect(index.upsert({ id: 'x', data: 'text' })).rejects.toThrow(NOT_ALLOWED);
      await index.upsert({ id: 'd', vector: [1, 0], data: 'kept' });
      expect(await index.fetch(['d'], { includeData: true })).toEqual([{ id: 'd', data: 'kept' }]);
    } finally {
      await service.close();
    }
  });

  it('needs a dimension for a dense or hybrid index without a model', async () => {
    await expect(startTestVector({ kind: 'dense', embedding: null })).rejects.toThrow(
      'a dense index without an embedding model needs a dimension',
    );
    await expect(startTestVector({ kind: 'hybrid', embedding: null })).rejects.toThrow(
      'needs a dimension',
    );
  });

  it('records no model when persisted, and reopens with its vectors', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sift-vector-custom-'));
    try {
      const config = { kind: 'hybrid', dimension: 2, embedding: null } as const;
      const first = await startTestVector(config, { dataDir });
      await sdk(first).upsert({
        id: 'a',
        vector: [0, 1],
        sparseVector: { indices: [4], values: [2] },
        data: 'text',
      });
      await first.close();
      const manifest = JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({ kind: 'hybrid', dimension: 2, embeddingModel: null });
      const second = await startTestVector(config, { dataDir });
      try {
        expect(await sdk(second).fetch(['a'], { includeVectors: true, includeData: true })).toEqual(
          [{ id: 'a', vector: [0, 1], sparseVector: { indices: [4], values: [2] }, data: 'text' }],
        );
      } finally {
        await second.close();
      }
      // A directory of another dimension is refused, saying what to do.
      await expect(startTestVector({ ...config, dimension: 1024 }, { dataDir })).rejects.toThrow(
        /holds a hybrid index of dimension 2; .*remove the directory/,
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
