/**
 * What text is embedded for: some models embed queries and passages differently (an instruction
 * prefix, say). Providers that do not distinguish them ignore it.
 */
export type EmbeddingPurpose = 'query' | 'document';

/**
 * Turns text into dense vectors. Production uses Workers AI (a multilingual model); offline, the
 * local provider stands in, and the local Upstash Vector embeds text `data` through the same
 * interface. Vectors are L2-normalised so cosine, dot product and euclidean rank alike.
 */
export type EmbeddingProvider = {
  /** Stable model identifier, recorded next to stored vectors so a model change forces a re-index. */
  readonly model: string;
  readonly dimensions: number;
  embed(texts: readonly string[], purpose?: EmbeddingPurpose): Promise<Float32Array[]>;
};
