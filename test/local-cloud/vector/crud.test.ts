import type { Index, RangeResult } from '@upstash/vector';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VectorService } from '../../../tools/local-cloud/vector/index.ts';
import { raw, sdk, startTestVector } from './harness.ts';

describe('dense index: writes and reads through the SDK', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense', dimension: 3 });
    index = sdk(service);
  });
  afterAll(() => service.close());
  beforeEach(async () => {
    for (const ns of await index.listNamespaces()) if (ns !== '') await index.deleteNamespace(ns);
    await index.reset();
  });

  it('upserts one vector or an array, and fetches them by id with the include options', async () => {
    expect(await index.upsert({ id: 'a', vector: [0.1, 0.2, 0.3], metadata: { tag: 'x' } })).toBe(
      'Success',
    );
    expect(
      await index.upsert([
        { id: 'b', vector: [0.3, 0.2, 0.1], data: 'bee' } as never,
        { id: 3, vector: [1, 0, 0] },
      ]),
    ).toBe('Success');

    const all = await index.fetch(['a', 'b', '3', 'missing'], {
      includeVectors: true,
      includeMetadata: true,
      includeData: true,
    });
    expect(all).toEqual([
      { id: 'a', vector: [0.1, 0.2, 0.3], metadata: { tag: 'x' } },
      { id: 'b', vector: [0.3, 0.2, 0.1], data: 'bee' },
      { id: '3', vector: [1, 0, 0] },
      null,
    ]);
    expect(await index.fetch(['a'])).toEqual([{ id: 'a' }]);
    expect(await index.fetch({ ids: ['b'] }, { includeData: true })).toEqual([
      { id: 'b', data: 'bee' },
    ]);
  });

  it('replaces the whole record on a second upsert, so old metadata and data do not linger', async () => {
    await index.upsert({
      id: 'a',
      vector: [1, 2, 3],
      metadata: { old: true },
      data: 'old',
    } as never);
    await index.upsert({ id: 'a', vector: [3, 2, 1] });
    expect(
      await index.fetch(['a'], { includeVectors: true, includeMetadata: true, includeData: true }),
    ).toEqual([{ id: 'a', vector: [3, 2, 1] }]);
    expect((await index.info()).vectorCount).toBe(1);
  });

  it('fetches by id prefix, and refuses ids together with a prefix', async () => {
    await index.upsert([
      { id: 'user:1', vector: [1, 0, 0] },
      { id: 'user:2', vector: [0, 1, 0] },
      { id: 'team:1', vector: [0, 0, 1] },
    ]);
    const users = await index.fetch({ prefix: 'user:' });
    expect(users.map((v) => v?.id)).toEqual(['user:1', 'user:2']);
    await expect(index.fetch({ ids: ['user:1'], prefix: 'user:' } as never)).rejects.toThrow(
      'Only one of ids or prefix must be provided.',
    );
  });

  it('ranges over every vector page by page with a cursor, and over an id prefix', async () => {
    const ids = [
      ...Array.from({ length: 20 }, (_, i) => `doc-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `other-${i}`),
    ];
    await index.upsert(ids.map((id, i) => ({ id, vector: [i, 1, 0], metadata: { i } })));

    const seen: string[] = [];
    let cursor: string | number = 0;
    let pages = 0;
    do {
      const page: RangeResult = await index.range({ cursor, limit: 7, includeMetadata: true });
      expect(page.vectors.length).toBeLessThanOrEqual(7);
      for (const v of page.vectors) expect(v.metadata).toEqual({ i: ids.indexOf(v.id) });
      seen.push(...page.vectors.map((v) => v.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== '');
    expect(pages).toBe(4);
    expect(seen).toEqual(ids);

    const others: string[] = [];
    cursor = '0';
    do {
      const page: RangeResult = await index.range({ cursor, limit: 2, prefix: 'other-' });
      others.push(...page.vectors.map((v) => v.id));
      cursor = page.nextCursor;
    } while (cursor !== '');
    expect(others).toEqual(ids.slice(20));
  });

  it('keeps range pages consistent when vectors are deleted between pages', async () => {
    await index.upsert(Array.from({ length: 6 }, (_, i) => ({ id: `v${i}`, vector: [i, 0, 1] })));
    const first = await index.range({ cursor: 0, limit: 3 });
    expect(first.vectors.map((v) => v.id)).toEqual(['v0', 'v1', 'v2']);
    await index.delete(['v0', 'v1', 'v4']);
    const second = await index.range({ cursor: first.nextCursor, limit: 3 });
    expect(second.vectors.map((v) => v.id)).toEqual(['v3', 'v5']);
    expect(second.nextCursor).toBe('');
  });

  it('deletes by id, ids, prefix and metadata filter, reporting how many were deleted', async () => {
    await index.upsert(
      Array.from({ length: 10 }, (_, i) => ({
        id: i < 5 ? `keep-${i}` : `drop-${i}`,
        vector: [1, i, 0],
        metadata: { n: i },
      })),
    );
    expect(await index.delete('keep-0')).toEqual({ deleted: 1 });
    expect(await index.delete(['keep-1', 'keep-2', 'missing'])).toEqual({ deleted: 2 });
    expect(await index.delete({ prefix: 'drop-' })).toEqual({ deleted: 5 });
    expect(await index.delete({ filter: 'n >= 4' })).toEqual({ deleted: 1 });
    expect(await index.delete({ filter: 'n >= 4' })).toEqual({ deleted: 0 });
    expect((await index.range({ cursor: 0, limit: 100 })).vectors.map((v) => v.id)).toEqual([
      'keep-3',
    ]);
  });

  it('refuses a delete with more than one criterion, with the message Upstash uses', async () => {
    await expect(index.delete({ ids: ['a'], prefix: 'a' } as never)).rejects.toThrow(
      'Only and only one of the ids, prefix, or filter must be provided.',
    );
    const response = await raw(service, '/delete', '{}');
    expect(response.status).toBe(400);
  });

  it('updates the vector, and metadata in OVERWRITE and PATCH modes', async () => {
    await index.upsert({ id: 'u', vector: [1, 0, 0], metadata: { a: 1, b: { c: 1 } } });
    expect(await index.update({ id: 'u', vector: [0, 0, 1] })).toEqual({ updated: 1 });
    expect(await index.fetch(['u'], { includeVectors: true, includeMetadata: true })).toEqual([
      { id: 'u', vector: [0, 0, 1], metadata: { a: 1, b: { c: 1 } } },
    ]);

    await index.update({
      id: 'u',
      metadata: { b: { d: 2 }, a: null, e: 3 },
      metadataUpdateMode: 'PATCH',
    });
    expect((await index.fetch(['u'], { includeMetadata: true }))[0]?.metadata).toEqual({
      b: { c: 1, d: 2 },
      e: 3,
    });

    await index.update({ id: 'u', metadata: { only: 'this' } });
    expect((await index.fetch(['u'], { includeMetadata: true }))[0]?.metadata).toEqual({
      only: 'this',
    });

    expect(await index.update({ id: 'nobody', vector: [1, 1, 1] })).toEqual({ updated: 0 });
  });

  it("rejects vectors of the wrong dimension with Upstash's message (422)", async () => {
    await expect(index.upsert({ id: 'x', vector: [1, 2] })).rejects.toThrow(
      'Invalid vector dimension: 2, expected: 3',
    );
    await expect(index.query({ vector: [1, 2, 3, 4], topK: 1 })).rejects.toThrow(
      'Invalid vector dimension: 4, expected: 3',
    );
    await index.upsert({ id: 'x', vector: [1, 2, 3] });
    await expect(index.update({ id: 'x', vector: [1] })).rejects.toThrow(
      'Invalid vector dimension: 1, expected: 3',
    );
    const response = await raw(service, '/upsert', '{"id":"y","vector":[1]}');
    expect(response).toMatchObject({
      status: 422,
      body: { error: 'Invalid vector dimension: 1, expected: 3', status: 422 },
    });
    // A batch with one bad item applies nothing.
    await expect(
      index.upsert([
        { id: 'ok', vector: [1, 1, 1] },
        { id: 'bad', vector: [1] },
      ]),
    ).rejects.toThrow('Invalid vector dimension');
    expect(await index.fetch(['ok'])).toEqual([null]);
  });

  it('rejects sparse vectors on a dense index', async () => {
    await expect(
      index.upsert({ id: 's', vector: [1, 2, 3], sparseVector: { indices: [1], values: [1] } }),
    ).rejects.toThrow('This index does not support sparse vectors');
    await expect(
      index.query({ sparseVector: { indices: [1], values: [1] }, topK: 1 }),
    ).rejects.toThrow('This index does not support sparse vectors');
  });

  it('reports info: counts per namespace, dimension, similarity and index type', async () => {
    await index.upsert([
      { id: 'a', vector: [1, 0, 0], metadata: { k: 'v' } },
      { id: 'b', vector: [0, 1, 0] },
    ]);
    await index.namespace('other').upsert({ id: 'c', vector: [0, 0, 1] });
    const info = await index.info();
    expect(info).toMatchObject({
      vectorCount: 3,
      pendingVectorCount: 0,
      dimension: 3,
      similarityFunction: 'COSINE',
      indexType: 'DENSE',
      denseIndex: {
        dimension: 3,
        similarityFunction: 'COSINE',
        embeddingModel: expect.any(String),
      },
      namespaces: {
        '': { vectorCount: 2, pendingVectorCount: 0 },
        other: { vectorCount: 1, pendingVectorCount: 0 },
      },
    });
    expect(info.indexSize).toBeGreaterThanOrEqual(3 * 3 * 4);
    expect(info.sparseIndex).toBeUndefined();
  });

  it('resets one namespace, or every namespace with ?all', async () => {
    await index.upsert({ id: 'a', vector: [1, 0, 0] });
    await index.namespace('x').upsert({ id: 'b', vector: [1, 0, 0] });
    await index.namespace('y').upsert({ id: 'c', vector: [1, 0, 0] });

    expect(await index.namespace('x').reset()).toBe('Success');
    expect((await index.info()).namespaces).toMatchObject({
      '': { vectorCount: 1 },
      x: { vectorCount: 0 },
      y: { vectorCount: 1 },
    });
    expect(await index.reset()).toBe('Success');
    expect((await index.info()).namespaces['']?.vectorCount).toBe(0);
    expect(await index.reset({ all: true })).toBe('Success');
    expect((await index.info()).vectorCount).toBe(0);
  });

  it('lists and deletes namespaces; the default one cannot be deleted, a missing one is a 404', async () => {
    await index.namespace('ns0').upsert({ id: 'a', vector: [1, 0, 0] });
    await index.namespace('team one').upsert({ id: 'b', vector: [1, 0, 0] });
    expect(await index.listNamespaces()).toEqual(['', 'ns0', 'team one']);
    expect(await index.deleteNamespace('ns0')).toBe('Success');
    expect(await index.listNamespaces()).toEqual(['', 'team one']);
    await expect(index.deleteNamespace('ns0')).rejects.toThrow(
      'Namespace ns0 for the index local does not exist',
    );
    expect((await raw(service, '/delete-namespace/ns0', '[]')).status).toBe(404);
    await expect(index.deleteNamespace('')).rejects.toThrow(
      'The default namespace, which is the empty string "", cannot be deleted.',
    );
  });

  it('keeps namespaces isolated for every operation', async () => {
    const ns = index.namespace('iso');
    await index.upsert({ id: 'same', vector: [1, 0, 0], metadata: { where: 'default' } });
    await ns.upsert({ id: 'same', vector: [0, 1, 0], metadata: { where: 'iso' } });
    await ns.upsert({ id: 'only-iso', vector: [0, 0, 1] });

    expect(await index.fetch(['same', 'only-iso'], { includeMetadata: true })).toEqual([
      { id: 'same', metadata: { where: 'default' } },
      null,
    ]);
    expect(
      (await ns.query({ vector: [1, 0, 0], topK: 5, includeMetadata: true })).map(
        (r) => r.metadata,
      ),
    ).toEqual([{ where: 'iso' }, undefined]);
    expect((await ns.range({ cursor: 0, limit: 10 })).vectors.map((v) => v.id)).toEqual([
      'same',
      'only-iso',
    ]);
    expect(await ns.update({ id: 'same', metadata: { where: 'iso-2' } })).toEqual({ updated: 1 });
    expect(await ns.delete('only-iso')).toEqual({ deleted: 1 });
    expect(await index.delete('only-iso')).toEqual({ deleted: 0 });
    expect((await index.fetch(['same'], { includeMetadata: true }))[0]?.metadata).toEqual({
      where: 'default',
    });
    expect(await index.namespace('nowhere').query({ vector: [1, 0, 0], topK: 3 })).toEqual([]);
  });
});

describe('text data on a dense index (local embeddings)', () => {
  let service: VectorService;
  let index: Index;

  beforeAll(async () => {
    service = await startTestVector({ kind: 'dense' });
    index = sdk(service);
  });
  afterAll(() => service.close());

  it('embeds data on upsert-data, keeps the text, and finds it with a text query', async () => {
    await index.upsert([
      { id: 'cats', data: 'Cats are small domesticated felines that purr and chase mice.' },
      { id: 'rockets', data: 'Rockets launch satellites into orbit around the Earth.' },
      { id: 'bread', data: 'Sourdough bread rises slowly thanks to wild yeast.' },
    ]);
    const [hit] = await index.query({
      data: 'a purring domesticated cat',
      topK: 1,
      includeData: true,
    });
    expect(hit).toMatchObject({ id: 'cats', data: expect.stringContaining('felines') });

    const [cats] = await index.fetch(['cats'], { includeVectors: true });
    const vector = cats?.vector ?? [];
    expect(vector).toHaveLength(384);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    const info = await index.info();
    expect(info.dimension).toBe(384);
    expect(info.denseIndex?.embeddingModel).toMatch(/^local-/);
  });

  it('re-embeds the vector when update changes the data', async () => {
    await index.upsert({ id: 'doc', data: 'Volcanoes erupt lava and ash.' });
    expect(
      await index.update({ id: 'doc', data: 'Penguins swim in icy Antarctic waters.' }),
    ).toEqual({
      updated: 1,
    });
    const [hit] = await index.query({ data: 'swimming penguins', topK: 1, includeData: true });
    expect(hit).toMatchObject({ id: 'doc', data: 'Penguins swim in icy Antarctic waters.' });
  });
});
