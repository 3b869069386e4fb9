import { hc } from 'hono/client';
import type { AppType } from './api/index.ts';

/**
 * A typed client for the Sift API (Hono RPC): paths, inputs and JSON outputs are checked at
 * compile time against the server's route definitions.
 *
 * ```ts
 * import { createClient } from 'sift/client';
 * const sift = createClient('https://api.example.com');
 * const res = await sift.health.$get();
 * ```
 */
export function createClient(baseUrl: string, options?: Parameters<typeof hc>[1]) {
  return hc<AppType>(baseUrl, options);
}

export type SiftClient = ReturnType<typeof createClient>;
export type { AppType };
