import {
  WORKERS_AI_EMBEDDING_MODELS,
  type WorkersAiEmbeddingModel,
} from '../../../shared/embeddings/workers-ai.ts';

export type Pooling = 'mean' | 'cls';

/** What the local Workers AI knows of a text-embedding model. */
export type LocalModel = {
  name: WorkersAiEmbeddingModel;
  /** Size of the vectors (`shape[1]`). */
  dimensions: number;
  /** Tokens of one input the model reads: 8,192 for bge-m3, 512 for the English BGE v1.5. */
  contextTokens: number;
  /**
   * The English BGE v1.5 models take `pooling` (`mean`, the default, or `cls`) and echo it;
   * bge-m3 always answers `cls` and takes no such field. The local vectors are the same either
   * way: pooling only labels the answer here.
   */
  takesPooling: boolean;
  defaultPooling: Pooling;
  /** bge-m3 also takes `{query?, contexts: [{text}]}` (embeddings of contexts, or a ranking). */
  takesContexts: boolean;
};

const M3 = '@cf/baai/bge-m3';

/** The models the local Workers AI serves: those Sift's client knows, at their dimensions. */
export const LOCAL_MODELS: ReadonlyMap<string, LocalModel> = new Map(
  (Object.keys(WORKERS_AI_EMBEDDING_MODELS) as WorkersAiEmbeddingModel[]).map((name) => [
    name,
    {
      name,
      dimensions: WORKERS_AI_EMBEDDING_MODELS[name].dimensions,
      contextTokens: name === M3 ? 8192 : 512,
      takesPooling: name !== M3,
      defaultPooling: name === M3 ? 'cls' : 'mean',
      takesContexts: name === M3,
    },
  ]),
);
