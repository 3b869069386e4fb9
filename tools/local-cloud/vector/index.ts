import type { EmbeddingProvider } from '../../../shared/embeddings/interface.ts';
import { createLocalEmbeddingProvider } from '../../../shared/embeddings/local.ts';
import { listen, type RunningService } from '../http.ts';
import { createVectorApp } from './app.ts';
import { VectorEngine } from './engine.ts';
import { attachPersistence } from './persistence.ts';

export type VectorIndexConfig = {
  kind: 'dense' | 'sparse' | 'hybrid';
  /**
   * Dense/hybrid dimension; default the embedding provider's. Required with `embedding: null`
   * on a dense or hybrid index.
   */
  dimension?: number;
  /** Default COSINE. */
  similarity?: 'COSINE' | 'EUCLIDEAN' | 'DOT_PRODUCT';
  /**
   * The index's embedding models, which turn text `data` into vectors:
   * - absent: the local provider (at `dimension`) for dense vectors and BM25 for sparse ones, as
   *   an index created with Upstash's embedding models;
   * - a provider: that one for dense vectors, BM25 for sparse ones;
   * - `null`: no models, as an index created for custom vectors: clients upsert and query
   *   `vector` / `sparseVector` only, and every use of text `data` to embed (upsert-data,
   *   query-data, resumable-query-data, an upsert without vectors) is refused with Upstash's 400
   *   "Embedding data for this index is not allowed...". `data` stored next to given vectors
   *   stays allowed, and so does `update` with `data` (it replaces the stored text only).
   */
  embedding?: EmbeddingProvider | null;
};

export type VectorServiceOptions = {
  host?: string;
  /** `0` picks a free port. */
  port: number;
  token: string;
  /** A second token that may only read (query, fetch, range, info, list-namespaces). */
  readonlyToken?: string;
  index: VectorIndexConfig;
  /** Directory to persist the index in; absent keeps it in memory only. */
  dataDir?: string;
  /** Largest accepted request body. Default 64 MiB (a 1000-vector batch of 1536 floats fits). */
  maxBodyBytes?: number;
};

export type VectorService = RunningService & { token: string; readonlyToken?: string };

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Starts a local Upstash Vector: the REST API the official `@upstash/vector` SDK speaks, over an
 * exact (brute-force) in-process index of the configured kind. Text `data` is embedded with the
 * configured provider (dense) and a BM25 encoder (sparse), or refused on an index without
 * models (`embedding: null`). With `dataDir`, the index is saved shortly after each write and on
 * `close()`, and loaded on start.
 */
export async function startVector(options: VectorServiceOptions): Promise<VectorService> {
  const { index } = options;
  if (!options.token) throw new Error('startVector: token must not be empty');
  if (
    index.dimension !== undefined &&
    (!Number.isInteger(index.dimension) || index.dimension < 1)
  ) {
    throw new Error(`startVector: dimension must be a positive integer, got ${index.dimension}`);
  }
  const embedding =
    index.embedding === null
      ? null
      : (index.embedding ?? createLocalEmbeddingProvider({ dimensions: index.dimension }));
  if (embedding === null && index.kind !== 'sparse' && index.dimension === undefined) {
    throw new Error(
      `startVector: a ${index.kind} index without an embedding model needs a dimension`,
    );
  }
  const dimension =
    index.kind === 'sparse' ? 0 : (index.dimension ?? (embedding as EmbeddingProvider).dimensions);
  if (index.kind !== 'sparse' && embedding && embedding.dimensions !== dimension) {
    throw new Error(
      `startVector: the embedding provider ${embedding.model} makes ${embedding.dimensions}-dimensional vectors, but the index has ${dimension}`,
    );
  }
  const engine = new VectorEngine({
    kind: index.kind,
    dimension,
    similarity: index.similarity ?? 'COSINE',
    embedding,
    name: 'local',
  });
  const persistence = options.dataDir
    ? await attachPersistence(engine, options.dataDir)
    : undefined;
  if (persistence) engine.onChange = (namespace) => persistence.touch(namespace);

  const app = createVectorApp({
    engine,
    token: options.token,
    readonlyToken: options.readonlyToken,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  const listening = await listen(app, { host: options.host, port: options.port });
  let closing: Promise<void> | undefined;
  return {
    name: 'vector',
    url: listening.url,
    port: listening.port,
    token: options.token,
    readonlyToken: options.readonlyToken,
    close() {
      closing ??= (async () => {
        await listening.close();
        await persistence?.close();
      })();
      return closing;
    },
  };
}
