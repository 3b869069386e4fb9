import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sdk, startTestVector } from './harness.ts';

describe('persistence under dataDir', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sift-vector-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('finds vectors, metadata, data and namespaces again after a restart', async () => {
    const first = await startTestVector({ kind: 'hybrid', dimension: 4 }, { dataDir });
    const index = sdk(first);
    await index.upsert([
      {
        id: 'a',
        vector: [1, 0, 0, 0],
        sparseVector: { indices: [1], values: [0.5] },
        metadata: { n: 1 },
      },
      {
        id: 'b',
        vector: [0, 1, 0, 0],
        sparseVector: { indices: [2], values: [1.5] },
        data: 'bee',
      } as never,
      { id: 'c', vector: [0, 0, 1, 0], sparseVector: { indices: [3], values: [2] } },
    ]);
    await index
      .namespace('ns1')
      .upsert({ id: 'text', data: 'the local embedding of this sentence' });
    await index.namespace('gone').upsert({ id: 'x', data: 'soon deleted' });
    await index.delete('c');
    await index.update({ id: 'a', metadata: { n: 2 } });
    await index.deleteNamespace('gone');
    const before = {
      fetched: await index.fetch(['a', 'b', 'c'], {
        includeVectors: true,
        includeMetadata: true,
        includeData: true,
      }),
      text: await index
        .namespace('ns1')
        .fetch(['text'], { includeVectors: true, includeData: true }),
      info: await index.info(),
    };
    await first.close();

    const second = await startTestVector({ kind: 'hybrid', dimension: 4 }, { dataDir });
    try {
      const again = sdk(second);
      expect(
        await again.fetch(['a', 'b', 'c'], {
          includeVectors: true,
          includeMetadata: true,
          includeData: true,
        }),
      ).toEqual(before.fetched);
      expect(before.fetched[0]).toEqual({
        id: 'a',
        vector: [1, 0, 0, 0],
        sparseVector: { indices: [1], values: [0.5] },
        metadata: { n: 2 },
      });
      expect(
        await again.namespace('ns1').fetch(['text'], { includeVectors: true, includeData: true }),
      ).toEqual(before.text);
      expect(await again.listNamespaces()).toEqual(['', 'ns1']);
      expect(await again.info()).toEqual(before.info);
      // Queries and insertion order work on the reloaded index.
      expect((await again.query({ vector: [0, 1, 0, 0], topK: 1 }))[0]?.id).toBe('b');
      expect(
        (await again.query({ sparseVector: { indices: [1], values: [1] }, topK: 1 }))[0]?.id,
      ).toBe('a');
      await again.upsert({
        id: 'd',
        vector: [0, 0, 0, 1],
        sparseVector: { indices: [4], values: [1] },
      });
      expect((await again.range({ cursor: 0, limit: 10 })).vectors.map((v) => v.id)).toEqual([
        'a',
        'b',
        'd',
      ]);
    } finally {
      await second.close();
    }
  });

  it('saves shortly after a write, without waiting for close', async () => {
    const writer = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    try {
      await sdk(writer).upsert({ id: 'early', vector: [0.25, 0.5], metadata: { saved: true } });
      const deadline = Date.now() + 5000;
      while (!existsSync(join(dataDir, 'manifest.json')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const reader = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
      try {
        expect(
          await sdk(reader).fetch(['early'], { includeVectors: true, includeMetadata: true }),
        ).toEqual([{ id: 'early', vector: [0.25, 0.5], metadata: { saved: true } }]);
      } finally {
        await reader.close();
      }
    } finally {
      await writer.close();
    }
  });

  it('keeps an emptied namespace empty and a reset index reset', async () => {
    const first = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    await sdk(first).upsert({ id: 'a', vector: [1, 0] });
    await sdk(first)
      .namespace('n')
      .upsert({ id: 'b', vector: [1, 0] });
    await sdk(first).reset({ all: true });
    await first.close();
    const second = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    try {
      expect((await sdk(second).info()).vectorCount).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('refuses a directory that holds an index of another kind or dimension', async () => {
    const first = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    await sdk(first).upsert({ id: 'a', vector: [1, 0] });
    await first.close();
    await expect(startTestVector({ kind: 'dense', dimension: 3 }, { dataDir })).rejects.toThrow(
      'holds a dense index of dimension 2',
    );
    await expect(startTestVector({ kind: 'sparse' }, { dataDir })).rejects.toThrow(
      'cannot open it as a sparse index',
    );
  });

  it('ignores and removes files a crash left half-written', async () => {
    const first = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    await sdk(first).upsert({ id: 'a', vector: [1, 0] });
    await first.close();
    // A save interrupted after writing the next generation but before swapping the manifest.
    await writeFile(join(dataDir, 'ns-.99.vec'), 'half');
    await writeFile(join(dataDir, 'ns-.99.json'), '[{"id":');
    await writeFile(join(dataDir, 'manifest.json.tmp'), '{"version":');
    const second = await startTestVector({ kind: 'dense', dimension: 2 }, { dataDir });
    try {
      expect(await sdk(second).fetch(['a'], { includeVectors: true })).toEqual([
        { id: 'a', vector: [1, 0] },
      ]);
      const files = await readdir(dataDir);
      expect(files).not.toContain('ns-.99.vec');
      expect(files).not.toContain('manifest.json.tmp');
    } finally {
      await second.close();
    }
  });
});
