import { sha256Hex } from '../auth/refresh-tokens.ts';
import type { Services } from '../services.ts';
import { normalize } from '../text/analyze.ts';

/**
 * The answer cache of `POST /v1/ask`, in Redis, for {@link ANSWER_TTL_SECONDS}:
 *
 * - **exact**: `ask:a:<org>:<generation>:<scope>:<question>` holds the answer of a question,
 *   normalised ({@link normalizeQuestion}), asked in a scope;
 * - **semantic**: `ask:q:<org>:<generation>:<scope>` lists the scope's latest
 *   {@link SEMANTIC_ENTRIES} answered questions with their embeddings (quantised to 8 bits); a new
 *   question whose embedding has a cosine of at least {@link SEMANTIC_THRESHOLD} with one of
 *   them reuses its answer.
 *
 * The scope (`AnswerScope`) is everything the answer depends on besides the question: the
 * filters, how many passages, and who is asking as far as visibility goes. Keys carry the
 * organisation's documents generation, so every answer retires when its documents change.
 */

/** How long an answer is reused: a day. */
export const ANSWER_TTL_SECONDS = 86_400;

/** Questions remembered per scope for the semantic cache (the oldest drop out). */
export const SEMANTIC_ENTRIES = 200;

/**
 * The least cosine similarity of two questions' embeddings for one's answer to serve the other.
 * Calibrated on the test questions with the local embedder (`test/worker/shared/ask/*`):
 * paraphrases ("How long is the warranty on the solar panels?" / "How long are the solar panels
 * under warranty?") score 0.94, a question about something else in the same document ("… on the
 * inverters?") 0.56, a reworded one with other words ("What is the warranty period…") 0.72.
 * Upstash's semantic cache defaults to 0.95 ("strict"); practitioners report 0.9–0.95 with
 * sentence-embedding models. Recalibrate when the embedding model changes.
 */
export const SEMANTIC_THRESHOLD = 0.92;

/** Who is asking, as far as visibility changes the answer, and the filters. */
export type AnswerScope = {
  /** `all` (sees every document), `organization` (no private document exists), or `own:<id>`. */
  visibility: string;
  documentIds: string[];
  categoryId: string | null;
  locale: string | null;
  topK: number;
};

/**
 * A question as the exact cache compares it: normalised (`normalize`: Arabic letter forms,
 * diacritics, digits, spaces), lower-cased, without final punctuation.
 */
export function normalizeQuestion(question: string): string {
  return normalize(question)
    .toLocaleLowerCase('en')
    .replace(/[\s?؟!.。…]+$/u, '');
}

const scopeHash = async (scope: AnswerScope) =>
  (
    await sha256Hex(
      JSON.stringify([
        scope.visibility,
        [...scope.documentIds].sort(),
        scope.categoryId,
        scope.locale,
        scope.topK,
      ]),
    )
  ).slice(0, 32);

export type CacheKeys = { answer: (questionHash: string) => string; questions: string };

/** The keys of a scope in a generation. */
export async function cacheKeys(
  orgId: string,
  generation: number,
  scope: AnswerScope,
): Promise<CacheKeys> {
  const prefix = `${orgId}:${generation}:${await scopeHash(scope)}`;
  return { answer: (h) => `ask:a:${prefix}:${h}`, questions: `ask:q:${prefix}` };
}

export const questionHash = async (question: string) =>
  (await sha256Hex(normalizeQuestion(question))).slice(0, 32);

/** An embedding as 8-bit integers in base64 (a quarter of float32's size; cosine moves < 0.01). */
export function quantize(vector: readonly number[]): string {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm) || 1;
  let max = 0;
  for (const v of vector) max = Math.max(max, Math.abs(v / norm));
  const scale = max > 0 ? 127 / max : 1;
  const bytes = new Int8Array(vector.length);
  vector.forEach((v, i) => {
    bytes[i] = Math.round((v / norm) * scale);
  });
  let binary = '';
  for (const b of new Uint8Array(bytes.buffer)) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function dequantize(encoded: string): Int8Array {
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Int8Array(bytes.buffer);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** A question the semantic cache remembers: its hash (the exact key), text and embedding. */
type Remembered = { h: string; q: string; v: string };

export type CachedAnswer<T> =
  | { kind: 'exact'; value: T }
  | { kind: 'semantic'; value: T; question: string; similarity: number };

/**
 * The cached answer for `question` in the scope: exact first, then the most similar remembered
 * question at or above {@link SEMANTIC_THRESHOLD} (`vector` null: exact only). Undefined on a
 * miss, or when Redis fails (a cache never fails the question).
 */
export async function readCachedAnswer<T>(
  services: Pick<Services, 'redis' | 'guard' | 'logger'>,
  keys: CacheKeys,
  question: string,
  vector: readonly number[] | null,
): Promise<CachedAnswer<T> | undefined> {
  try {
    const h = await questionHash(question);
    const exact = await services.guard('redis', () => services.redis.get<T>(keys.answer(h)));
    if (exact) return { kind: 'exact', value: exact };
    if (!vector) return undefined;
    const remembered = await services.guard('redis', () =>
      services.redis.lrange<Remembered>(keys.questions, 0, SEMANTIC_ENTRIES - 1),
    );
    let best: { entry: Remembered; similarity: number } | undefined;
    for (const entry of remembered) {
      if (!entry || typeof entry.v !== 'string' || entry.h === h) continue;
      const similarity = cosine(vector, dequantize(entry.v));
      if (similarity >= SEMANTIC_THRESHOLD && (!best || similarity > best.similarity)) {
        best = { entry, similarity };
      }
    }
    if (!best) return undefined;
    const value = await services.guard('redis', () =>
      services.redis.get<T>(keys.answer(best.entry.h)),
    );
    return value
      ? { kind: 'semantic', value, question: best.entry.q, similarity: best.similarity }
      : undefined;
  } catch (error) {
    services.logger.warn('ask cache unreadable', { error });
    return undefined;
  }
}

/** Remembers an answer (exact) and its question's embedding (semantic). Never throws. */
export async function writeCachedAnswer<T>(
  services: Pick<Services, 'redis' | 'guard' | 'logger'>,
  keys: CacheKeys,
  question: string,
  vector: readonly number[] | null,
  value: T,
): Promise<void> {
  try {
    const h = await questionHash(question);
    await services.guard('redis', async () => {
      const tx = services.redis.multi();
      tx.set(keys.answer(h), value, { ex: ANSWER_TTL_SECONDS });
      if (vector) {
        tx.lpush(keys.questions, { h, q: question, v: quantize(vector) } satisfies Remembered);
        tx.ltrim(keys.questions, 0, SEMANTIC_ENTRIES - 1);
        tx.expire(keys.questions, ANSWER_TTL_SECONDS);
      }
      await tx.exec();
    });
  } catch (error) {
    services.logger.warn('ask cache unwritable', { error });
  }
}
