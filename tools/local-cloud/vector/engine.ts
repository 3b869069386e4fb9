import type { EmbeddingProvider } from '../../../shared/embeddings/interface.ts';
import { BM25_MODEL, bm25Document, bm25Query } from './bm25.ts';
import { messages, VectorError } from './errors.ts';
import { type Metadata, type MetadataPredicate, parseFilter } from './filter.ts';
import { type FusionAlgorithm, fuse } from './fusion.ts';
import { float32, float32Array } from './json.ts';
import type {
  DeleteInput,
  FetchInput,
  IncludeInput,
  QueryInput,
  RangeInput,
  UpdateInput,
  UpsertDataItem,
  UpsertItem,
} from './schema.ts';
import {
  type Hit,
  Namespace,
  type Similarity,
  type SparseVector,
  type VectorRecord,
} from './store.ts';

export type IndexKind = 'dense' | 'sparse' | 'hybrid';

export type EngineConfig = {
  kind: IndexKind;
  /** Dense dimension; 0 for a sparse index. */
  dimension: number;
  similarity: Similarity;
  /**
   * Embeds text `data` into dense vectors (BM25 makes the sparse ones). `null`: the index has no
   * embedding models (custom vectors only), and requests that need `data` embedded are refused.
   */
  embedding: EmbeddingProvider | null;
  /** Index name used in error messages. */
  name: string;
};

/** A vector as returned by fetch, range and query. */
export type VectorOut = {
  id: string;
  score?: number;
  vector?: number[];
  sparseVector?: { indices: number[]; values: number[] };
  metadata?: Metadata;
  data?: string;
};

// Upstash caps sparse vectors at 1000 non-zero dimensions and prefix fetches at 1000 vectors.
const MAX_SPARSE_DIMENSIONS = 1000;
const MAX_PREFIX_FETCH = 1000;
const DEFAULT_TOP_K = 10;
const DEFAULT_MAX_IDLE_SECONDS = 3600;

/** A query with its vectors resolved (text embedded) and its filter compiled. */
type PreparedQuery = {
  dense: Float32Array | undefined;
  sparse: SparseVector | undefined;
  topK: number;
  predicate: MetadataPredicate | undefined;
  include: IncludeInput;
  idf: boolean;
  fusion: FusionAlgorithm;
};

type ResumableSession = {
  namespace: string;
  query: PreparedQuery;
  returned: number;
  maxIdleMs: number;
  expiresAt: number;
};

/**
 * The index behind the REST API: namespaces, validation by index kind, embedding of text data,
 * queries, and Upstash's result shapes. Methods throw `VectorError` for client mistakes.
 * `onChange` is told which namespaces a write touched (persistence listens).
 */
export class VectorEngine {
  readonly config: EngineConfig;
  readonly namespaces = new Map<string, Namespace>();
  onChange: (namespace: string) => void = () => {};
  private readonly sessions = new Map<string, ResumableSession>();

  constructor(config: EngineConfig) {
    this.config = config;
    this.namespaces.set('', this.newNamespace());
  }

  get hasDense(): boolean {
    return this.config.kind !== 'sparse';
  }

  get hasSparse(): boolean {
    return this.config.kind !== 'dense';
  }

  /** Whether text `data` can be embedded: false on an index created for custom vectors. */
  get embedsData(): boolean {
    return this.config.embedding !== null;
  }

  private requireEmbedding(): void {
    if (!this.embedsData) throw new VectorError(400, messages.embeddingNotAllowed);
  }

  newNamespace(): Namespace {
    return new Namespace(this.hasDense ? this.config.dimension : 0);
  }

  private namespace(name: string): Namespace | undefined {
    return this.namespaces.get(name);
  }

  private writableNamespace(name: string): Namespace {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = this.newNamespace();
      this.namespaces.set(name, ns);
    }
    return ns;
  }

  // -------------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------------

  upsert(namespace: string, items: UpsertItem[]): string {
    // Validate everything first so a bad item leaves the batch unapplied.
    const prepared = items.map((item) => {
      // Text alone asks for it to be embedded, which an index without models cannot do.
      if (!item.vector && !item.sparseVector && typeof item.data === 'string') {
        this.requireEmbedding();
      }
      return {
        id: checkId(item.id),
        dense: this.denseFor(item.vector, 'upsert'),
        sparse: this.sparseFor(item.sparseVector, 'upsert'),
        metadata: item.metadata ?? undefined,
        data: item.data ?? undefined,
      };
    });
    const ns = this.writableNamespace(namespace);
    for (const { id, ...input } of prepared) ns.upsert(id, input);
    this.onChange(namespace);
    return 'Success';
  }

  async upsertData(namespace: string, items: UpsertDataItem[]): Promise<string> {
    this.requireEmbedding();
    for (const item of items) checkId(item.id);
    const dense = await this.embed(items.map((item) => item.data));
    const ns = this.writableNamespace(namespace);
    items.forEach((item, i) => {
      ns.upsert(item.id, {
        dense: dense?.[i],
        sparse: this.hasSparse ? bm25Document(item.data) : undefined,
        metadata: item.metadata ?? undefined,
        data: item.data,
      });
    });
    this.onChange(namespace);
    return 'Success';
  }

  async update(namespace: string, input: UpdateInput): Promise<{ updated: number }> {
    const vector = input.vector ?? undefined;
    const sparseVector = input.sparseVector ?? undefined;
    if (this.config.kind === 'hybrid' && (vector === undefined) !== (sparseVector === undefined)) {
      throw new VectorError(
        400,
        vector === undefined ? messages.requiresDense : messages.requiresSparse,
      );
    }
    let dense = vector === undefined ? undefined : this.denseFor(vector, 'update');
    let sparse = sparseVector === undefined ? undefined : this.sparseFor(sparseVector, 'update');
    const data = input.data ?? undefined;
    const metadata = input.metadata ?? undefined;
    if (
      dense === undefined &&
      sparse === undefined &&
      data === undefined &&
      metadata === undefined
    ) {
      throw new VectorError(400, 'One of vector, sparseVector, data or metadata must be provided.');
    }
    const ns = this.namespace(namespace);
    const record = ns?.get(checkId(input.id));
    if (!ns || !record) return { updated: 0 };
    if (
      data !== undefined &&
      vector === undefined &&
      sparseVector === undefined &&
      this.embedsData
    ) {
      // New text on an index that embeds text re-embeds it, as upsert-data would; on an index
      // without models it is stored text only (Upstash's update docs), the vectors unchanged.
      dense = (await this.embed([data]))?.[0];
      sparse = this.hasSparse ? bm25Document(data) : undefined;
    }
    // The record may have been deleted while the text was being embedded.
    if (ns.get(record.id) !== record) return { updated: 0 };
    if (dense) ns.setDense(record, dense);
    if (sparse) ns.setSparse(record, sparse);
    if (data !== undefined) record.data = data;
    if (metadata !== undefined) {
      record.metadata =
        input.metadataUpdateMode === 'PATCH'
          ? (mergePatch(record.metadata ?? {}, metadata) as Metadata)
          : metadata;
    }
    ns.remeasure(record);
    this.onChange(namespace);
    return { updated: 1 };
  }

  delete(namespace: string, input: DeleteInput): { deleted: number } {
    const given = [input.ids, input.prefix, input.filter].filter(
      (c) => c !== undefined && c !== null,
    );
    if (given.length !== 1) throw new VectorError(400, messages.deleteCriteria);
    let predicate: MetadataPredicate | undefined;
    if (typeof input.filter === 'string') predicate = this.compileFilter(input.filter);
    const ns = this.namespace(namespace);
    if (!ns) return { deleted: 0 };
    let ids: string[];
    if (input.ids) ids = input.ids;
    else if (typeof input.prefix === 'string') {
      const prefix = input.prefix;
      ids = [...ns.values()].filter((r) => r.id.startsWith(prefix)).map((r) => r.id);
    } else {
      ids = predicate ? ns.filter(predicate).map((r) => r.id) : [...ns.values()].map((r) => r.id);
    }
    let deleted = 0;
    for (const id of ids) if (ns.delete(id)) deleted++;
    if (deleted > 0) this.onChange(namespace);
    return { deleted };
  }

  reset(namespace: string | undefined): string {
    const targets = namespace === undefined ? [...this.namespaces.keys()] : [namespace];
    for (const name of targets) {
      const ns = this.namespaces.get(name);
      if (!ns) continue;
      ns.clear();
      this.onChange(name);
    }
    return 'Success';
  }

  deleteNamespace(namespace: string): string {
    if (namespace === '') throw new VectorError(400, messages.defaultNamespace);
    if (!this.namespaces.has(namespace)) {
      throw new VectorError(404, messages.missingNamespace(namespace, this.config.name));
    }
    this.namespaces.delete(namespace);
    this.onChange(namespace);
    return 'Success';
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  fetch(namespace: string, input: FetchInput): (VectorOut | null)[] {
    const ids = input.ids ?? undefined;
    const prefix = input.prefix ?? undefined;
    if (ids !== undefined && prefix !== undefined)
      throw new VectorError(400, messages.fetchCriteria);
    const ns = this.namespace(namespace);
    if (prefix !== undefined) {
      if (!ns) return [];
      const out: VectorOut[] = [];
      for (const record of ns.values()) {
        if (!record.id.startsWith(prefix)) continue;
        out.push(this.shape(ns, record, input));
        if (out.length === MAX_PREFIX_FETCH) break;
      }
      return out;
    }
    return (ids ?? []).map((id) => {
      const record = ns?.get(id);
      return ns && record ? this.shape(ns, record, input) : null;
    });
  }

  range(namespace: string, input: RangeInput): { nextCursor: string; vectors: VectorOut[] } {
    // Cursors are insertion sequence numbers, so pages stay consistent across deletes.
    const cursor = input.cursor === '' ? 0 : Number(input.cursor);
    if (!Number.isSafeInteger(cursor) || cursor < 0 || !/^\d*$/.test(input.cursor)) {
      throw new VectorError(400, `Invalid cursor: ${input.cursor}`);
    }
    const ns = this.namespace(namespace);
    const prefix = input.prefix ?? '';
    const vectors: VectorOut[] = [];
    let nextCursor = '';
    if (ns) {
      for (const record of ns.values()) {
        if (record.seq < cursor || !record.id.startsWith(prefix)) continue;
        if (vectors.length === input.limit) {
          nextCursor = String(record.seq);
          break;
        }
        vectors.push(this.shape(ns, record, input));
      }
    }
    return { nextCursor, vectors };
  }

  info() {
    let vectorCount = 0;
    let indexSize = 0;
    const namespaces: Record<string, { vectorCount: number; pendingVectorCount: number }> = {};
    for (const [name, ns] of this.namespaces) {
      vectorCount += ns.count;
      indexSize += ns.sizeBytes;
      namespaces[name] = { vectorCount: ns.count, pendingVectorCount: 0 };
    }
    const { kind, dimension, similarity, embedding } = this.config;
    return {
      vectorCount,
      pendingVectorCount: 0,
      indexSize,
      dimension: this.hasDense ? dimension : 0,
      similarityFunction: this.hasDense ? similarity : ('DOT_PRODUCT' as const),
      indexType: kind.toUpperCase(),
      ...(this.hasDense
        ? {
            denseIndex: {
              dimension,
              similarityFunction: similarity,
              ...(embedding ? { embeddingModel: embedding.model } : {}),
            },
          }
        : {}),
      ...(this.hasSparse ? { sparseIndex: embedding ? { embeddingModel: BM25_MODEL } : {} } : {}),
      namespaces,
    };
  }

  listNamespaces(): string[] {
    return [...this.namespaces.keys()];
  }

  /** Runs a query from `/query` (vectors) or `/query-data` (text). */
  async query(namespace: string, input: QueryInput, fromData: boolean): Promise<VectorOut[]> {
    const prepared = await this.prepare(input, fromData);
    return this.run(namespace, prepared, prepared.topK);
  }

  async startResumable(namespace: string, input: QueryInput, fromData: boolean) {
    const query = await this.prepare(input, fromData);
    const scores = this.run(namespace, query, query.topK);
    const uuid = crypto.randomUUID();
    const maxIdleMs = (input.maxIdle ?? DEFAULT_MAX_IDLE_SECONDS) * 1000;
    this.sessions.set(uuid, {
      namespace,
      query,
      returned: scores.length,
      maxIdleMs,
      expiresAt: Date.now() + maxIdleMs,
    });
    return { uuid, scores };
  }

  /**
   * Continues a resumable query. The index is searched exactly each time, so the next page is
   * the next `additionalK` of a fresh top-(returned + additionalK).
   */
  resumeNext(uuid: string, additionalK: number): VectorOut[] {
    const session = this.session(uuid);
    const all = this.run(session.namespace, session.query, session.returned + additionalK);
    const page = all.slice(session.returned);
    session.returned += page.length;
    session.expiresAt = Date.now() + session.maxIdleMs;
    return page;
  }

  resumeEnd(uuid: string): string {
    this.session(uuid);
    this.sessions.delete(uuid);
    return 'Success';
  }

  private session(uuid: string): ResumableSession {
    const now = Date.now();
    for (const [key, session] of this.sessions)
      if (session.expiresAt < now) this.sessions.delete(key);
    const session = this.sessions.get(uuid);
    if (!session) throw new VectorError(404, `Resumable query with uuid ${uuid} does not exist`);
    return session;
  }

  private async prepare(input: QueryInput, fromData: boolean): Promise<PreparedQuery> {
    const predicate = input.filter ? this.compileFilter(input.filter) : undefined;
    let dense: Float32Array | undefined;
    let sparse: SparseVector | undefined;
    if (fromData) {
      this.requireEmbedding();
      if (typeof input.data !== 'string')
        throw new VectorError(400, "Missing required field 'data'");
      const mode = this.config.kind === 'hybrid' ? (input.queryMode ?? 'HYBRID') : 'HYBRID';
      if (this.hasDense && mode !== 'SPARSE') {
        dense = (await this.embed([input.data], 'query'))?.[0];
      }
      if (this.hasSparse && mode !== 'DENSE') sparse = bm25Query(input.data);
    } else {
      const vector = input.vector ?? undefined;
      const sparseVector = input.sparseVector ?? undefined;
      if (vector === undefined && sparseVector === undefined) {
        if (typeof input.data === 'string') this.requireEmbedding();
        throw new VectorError(400, 'Either vector or sparseVector must be provided.');
      }
      if (vector !== undefined) dense = this.denseFor(vector, 'query');
      if (sparseVector !== undefined) sparse = this.sparseFor(sparseVector, 'query');
    }
    return {
      dense,
      sparse,
      topK: input.topK ?? DEFAULT_TOP_K,
      predicate,
      include: input,
      idf: input.weightingStrategy === 'IDF',
      fusion: input.fusionAlgorithm ?? 'RRF',
    };
  }

  private run(namespace: string, query: PreparedQuery, k: number): VectorOut[] {
    const ns = this.namespace(namespace);
    if (!ns) return [];
    const { dense, sparse, predicate, idf } = query;
    let hits: Hit[];
    const denseHits = () =>
      ns.searchDense(dense as Float32Array, this.config.similarity, k, predicate);
    const sparseHits = () => ns.searchSparse(sparse as SparseVector, k, idf, predicate);
    if (dense && sparse) hits = fuse([denseHits(), sparseHits()], query.fusion, k);
    else if (dense) hits = denseHits();
    else hits = sparse ? sparseHits() : [];
    return hits.map(({ record, score }) => this.shape(ns, record, query.include, score));
  }

  private shape(ns: Namespace, record: VectorRecord, include: IncludeInput, score?: number) {
    const out: VectorOut = { id: record.id };
    if (score !== undefined) out.score = float32(score);
    if (include.includeVectors) {
      if (this.hasDense) out.vector = float32Array(ns.dense(record));
      if (this.hasSparse && record.sparse) {
        out.sparseVector = {
          indices: Array.from(record.sparse.indices),
          values: float32Array(record.sparse.values),
        };
      }
    }
    if (include.includeMetadata && record.metadata !== undefined) out.metadata = record.metadata;
    if (include.includeData && record.data !== undefined) out.data = record.data;
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Validation helpers
  // -------------------------------------------------------------------------------------------

  private compileFilter(source: string): MetadataPredicate | undefined {
    const parsed = parseFilter(source);
    if (!parsed.ok) throw new VectorError(400, parsed.error);
    return parsed.predicate;
  }

  /** Checks a dense vector against the index kind and dimension. */
  private denseFor(
    vector: number[] | null | undefined,
    use: 'upsert' | 'update' | 'query',
  ): Float32Array | undefined {
    if (vector === null || vector === undefined) {
      if (use === 'upsert' && this.hasDense) throw new VectorError(400, messages.requiresDense);
      return undefined;
    }
    if (!this.hasDense) throw new VectorError(400, messages.noDense);
    if (vector.length !== this.config.dimension) {
      throw new VectorError(422, messages.dimension(vector.length, this.config.dimension));
    }
    const out = Float32Array.from(vector);
    for (const x of out) {
      if (!Number.isFinite(x))
        throw new VectorError(400, 'Vector values must be finite 32-bit floats');
    }
    return out;
  }

  /** Checks a sparse vector against the index kind and Upstash's limits; sorts it by index. */
  private sparseFor(
    sparse: { indices: number[]; values: number[] } | null | undefined,
    use: 'upsert' | 'update' | 'query',
  ): SparseVector | undefined {
    if (sparse === null || sparse === undefined) {
      if (use === 'upsert' && this.hasSparse) throw new VectorError(400, messages.requiresSparse);
      return undefined;
    }
    if (!this.hasSparse) throw new VectorError(400, messages.noSparse);
    const { indices, values } = sparse;
    if (indices.length !== values.length) {
      throw new VectorError(
        400,
        `Sparse vector indices and values must have the same length, got ${indices.length} and ${values.length}`,
      );
    }
    if (indices.length > MAX_SPARSE_DIMENSIONS) {
      throw new VectorError(
        400,
        `Sparse vectors can have at most ${MAX_SPARSE_DIMENSIONS} non-zero valued dimensions, got ${indices.length}`,
      );
    }
    const order = indices
      .map((_, i) => i)
      .sort((a, b) => (indices[a] as number) - (indices[b] as number));
    const outIndices = new Int32Array(order.length);
    const outValues = new Float32Array(order.length);
    order.forEach((from, to) => {
      const index = indices[from] as number;
      if (index < 0 || index > 0x7fffffff) {
        throw new VectorError(
          400,
          `Sparse vector indices must be non-negative 32-bit integers, got ${index}`,
        );
      }
      if (to > 0 && outIndices[to - 1] === index) {
        throw new VectorError(
          400,
          `Sparse vector indices must be unique, got ${index} more than once`,
        );
      }
      outIndices[to] = index;
      outValues[to] = values[from] as number;
      if (!Number.isFinite(outValues[to])) {
        throw new VectorError(400, 'Vector values must be finite 32-bit floats');
      }
    });
    return { indices: outIndices, values: outValues };
  }

  private async embed(
    texts: string[],
    purpose: 'query' | 'document' = 'document',
  ): Promise<Float32Array[] | undefined> {
    const { embedding } = this.config;
    if (!this.hasDense || !embedding) return undefined;
    const vectors = await embedding.embed(texts, purpose);
    for (const vector of vectors) {
      if (vector.length !== this.config.dimension) {
        throw new VectorError(422, messages.dimension(vector.length, this.config.dimension));
      }
    }
    return vectors;
  }
}

function checkId(id: string): string {
  if (id === '') throw new VectorError(400, 'Vector id cannot be empty');
  return id;
}

/** RFC 7396 JSON Merge Patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}
