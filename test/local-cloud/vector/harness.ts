import { Index } from '@upstash/vector';
import {
  startVector,
  type VectorIndexConfig,
  type VectorService,
  type VectorServiceOptions,
} from '../../../tools/local-cloud/vector/index.ts';

export const TOKEN = 'test-token';
export const READONLY_TOKEN = 'test-readonly-token';

/** Starts a local vector service on a free port; stop it with `service.close()`. */
export async function startTestVector(
  index: VectorIndexConfig,
  options: Partial<VectorServiceOptions> = {},
): Promise<VectorService> {
  return startVector({ port: 0, token: TOKEN, readonlyToken: READONLY_TOKEN, index, ...options });
}

/** The unchanged official SDK pointed at a local service (retries off, so errors surface). */
export function sdk(service: VectorService, token = TOKEN): Index {
  return new Index({ url: service.url, token, retry: false, enableTelemetry: false });
}

export type RawResponse = { status: number; body: unknown; text: string };

/** A raw HTTP call, for what the SDK would never send. */
export async function raw(
  service: VectorService,
  path: string,
  body?: string,
  init: { token?: string | null; method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${service.url}${path}`, {
    method: init.method ?? 'POST',
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text };
}

/** Cosine similarity of two plain vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

/** A deterministic pseudo-random generator (xorshift32) for reproducible vectors. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}
