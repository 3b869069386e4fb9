import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineConfig, VectorEngine } from './engine.ts';
import type { Metadata } from './filter.ts';
import { float32Array } from './json.ts';
import { Namespace } from './store.ts';

/**
 * Keeps an engine's namespaces under `dataDir` between runs.
 *
 * Layout: `manifest.json` names the index configuration and, per namespace, the generation of
 * its files; each namespace has `ns-<hex name>.<generation>.vec` (the dense rows as raw
 * little-endian float32, slot order) and `.json` (ids, insertion order, metadata, data, sparse
 * vectors). A save writes new-generation files for the namespaces that changed, then swaps the
 * manifest in with write-to-temp + rename, then removes the old generation. A crash at any point
 * leaves the previous manifest and every file it names intact.
 */
export type Persistence = {
  /** Marks a namespace changed and schedules a save. */
  touch(namespace: string): void;
  /** Saves pending changes now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
};

type Manifest = {
  version: 1;
  kind: EngineConfig['kind'];
  dimension: number;
  similarity: EngineConfig['similarity'];
  /** The dense embedding model; `null` for an index without models (custom vectors). */
  embeddingModel: string | null;
  namespaces: { name: string; generation: number }[];
};

type StoredRecord = {
  id: string;
  seq: number;
  slot: number;
  metadata?: Metadata;
  data?: string;
  sparse?: [number[], number[]];
};

const MANIFEST = 'manifest.json';

/** Loads what `dataDir` holds into `engine` (replacing its namespaces), then returns the saver. */
export async function attachPersistence(
  engine: VectorEngine,
  dataDir: string,
  debounceMs = 200,
  // A save snapshots whole namespaces, so during a long ingestion saves are spaced out, but a
  // steady stream of writes still reaches the disk every `maxWaitMs`.
  minIntervalMs = 1000,
  maxWaitMs = 2000,
): Promise<Persistence> {
  await mkdir(dataDir, { recursive: true });
  const generations = await load(engine, dataDir);
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  let lastSave = 0;
  let pendingSince: number | undefined;

  const save = async () => {
    if (dirty.size === 0) return;
    lastSave = Date.now();
    pendingSince = undefined;
    const changed = [...dirty];
    dirty.clear();
    const stale: string[] = [];
    for (const name of changed) {
      const ns = engine.namespaces.get(name);
      const previous = generations.get(name);
      if (previous !== undefined) stale.push(...files(dataDir, name, previous));
      if (!ns) {
        generations.delete(name);
        continue;
      }
      const generation = (previous ?? 0) + 1;
      const [vecFile, jsonFile] = files(dataDir, name, generation);
      // Snapshot synchronously so later writes cannot tear what is being saved.
      const dense = ns.denseSnapshot();
      const records = serialiseRecords(ns);
      await writeFile(vecFile, new Uint8Array(dense.buffer, dense.byteOffset, dense.byteLength));
      await writeFile(jsonFile, records);
      generations.set(name, generation);
    }
    const manifest: Manifest = {
      version: 1,
      kind: engine.config.kind,
      dimension: engine.config.dimension,
      similarity: engine.config.similarity,
      embeddingModel: engine.config.embedding?.model ?? null,
      namespaces: [...generations].map(([name, generation]) => ({ name, generation })),
    };
    const temp = join(dataDir, `${MANIFEST}.tmp`);
    await writeFile(temp, JSON.stringify(manifest));
    await rename(temp, join(dataDir, MANIFEST));
    await Promise.all(stale.map((file) => rm(file, { force: true })));
  };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    saving = saving.then(save, save);
    return saving;
  };

  return {
    touch(namespace) {
      dirty.add(namespace);
      const now = Date.now();
      pendingSince ??= now;
      if (timer) clearTimeout(timer);
      const earliest = lastSave + minIntervalMs;
      const due = Math.min(
        Math.max(now + debounceMs, earliest),
        Math.max(pendingSince + maxWaitMs, earliest),
      );
      timer = setTimeout(() => {
        flush().catch((error) => console.error('[local-cloud/vector] save failed', error));
      }, due - now);
      timer.unref();
    },
    flush,
    async close() {
      await flush();
    },
  };
}

function stem(name: string): string {
  return `ns-${Buffer.from(name, 'utf8').toString('hex')}`;
}

function files(dir: string, name: string, generation: number): [string, string] {
  const base = join(dir, `${stem(name)}.${generation}`);
  return [`${base}.vec`, `${base}.json`];
}

function serialiseRecords(ns: Namespace): string {
  const records: StoredRecord[] = [];
  for (const record of ns.values()) {
    const out: StoredRecord = { id: record.id, seq: record.seq, slot: record.slot };
    if (record.metadata !== undefined) out.metadata = record.metadata;
    if (record.data !== undefined) out.data = record.data;
    if (record.sparse) {
      out.sparse = [Array.from(record.sparse.indices), float32Array(record.sparse.values)];
    }
    records.push(out);
  }
  return JSON.stringify(records);
}

async function load(engine: VectorEngine, dataDir: string): Promise<Map<string, number>> {
  const generations = new Map<string, number>();
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(dataDir, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return generations;
    throw error;
  }
  const { kind, dimension } = engine.config;
  if (manifest.kind !== kind || (kind !== 'sparse' && manifest.dimension !== dimension)) {
    throw new Error(
      `${dataDir} holds a ${manifest.kind} index of dimension ${manifest.dimension}; ` +
        `cannot open it as a ${kind} index of dimension ${dimension}. Open it with the kind and ` +
        'dimension it was made with, or remove the directory to start with an empty index',
    );
  }
  engine.namespaces.clear();
  const d = engine.hasDense ? dimension : 0;
  for (const { name, generation } of manifest.namespaces) {
    const [vecFile, jsonFile] = files(dataDir, name, generation);
    const raw = await readFile(vecFile);
    const dense = new Float32Array(
      raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength),
    );
    const records = JSON.parse(await readFile(jsonFile, 'utf8')) as StoredRecord[];
    const ns = new Namespace(d, Math.max(16, records.length));
    for (const record of records) {
      ns.restore(record.id, record.seq, {
        dense: d > 0 ? dense.subarray(record.slot * d, record.slot * d + d) : undefined,
        sparse: record.sparse
          ? {
              indices: Int32Array.from(record.sparse[0]),
              values: Float32Array.from(record.sparse[1]),
            }
          : undefined,
        metadata: record.metadata,
        data: record.data,
      });
    }
    engine.namespaces.set(name, ns);
    generations.set(name, generation);
  }
  if (!engine.namespaces.has('')) engine.namespaces.set('', engine.newNamespace());
  await removeOrphans(dataDir, generations);
  return generations;
}

/** Deletes namespace files a crash left behind (written but never named by the manifest). */
async function removeOrphans(dataDir: string, generations: Map<string, number>) {
  const keep = new Set<string>([MANIFEST]);
  for (const [name, generation] of generations) {
    for (const file of files('', name, generation)) keep.add(file);
  }
  for (const entry of await readdir(dataDir)) {
    if (entry.startsWith('ns-') && !keep.has(entry))
      await rm(join(dataDir, entry), { force: true });
    if (entry === `${MANIFEST}.tmp`) await rm(join(dataDir, entry), { force: true });
  }
}
